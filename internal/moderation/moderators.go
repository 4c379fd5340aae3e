package moderation

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/podium-live/podium/internal/auth"
)

// ErrNotFound: no moderator (or other record) with that id.
var ErrNotFound = errors.New("moderation: not found")

// ErrInvalid wraps what is wrong with an input; the message names the field.
var ErrInvalid = errors.New("moderation: invalid")

// Moderator is a person the operator lets decide cases. Every action
// later records the moderator who took it by ID.
type Moderator struct {
	ID      string
	Name    string
	Created time.Time
	// Revoked is when the operator withdrew the moderator; zero while active.
	Revoked time.Time
}

// Active reports whether m may still act.
func (m Moderator) Active() bool { return m.Revoked.IsZero() }

// Store keeps moderation's records. store.SQLite implements it.
type Store interface {
	// AddModerator stores a new moderator.
	AddModerator(ctx context.Context, m Moderator) error
	// Moderators lists every moderator, revoked ones included, oldest first.
	Moderators(ctx context.Context) ([]Moderator, error)
	// Moderator returns the moderator with id (ErrNotFound if none).
	Moderator(ctx context.Context, id string) (Moderator, error)
	// RevokeModerator marks moderator id revoked at at (once: a second
	// revocation keeps the first time) and returns the row.
	RevokeModerator(ctx context.Context, id string, at time.Time) (Moderator, error)
}

// Signer signs moderators' tokens and refuses them once revoked
// (auth.Signer).
type Signer interface {
	Sign(c auth.Claims) string
	Revoke(ctx context.Context, id string, until time.Time) error
}

// ModeratorTTL is how long a moderator's token lives.
const ModeratorTTL = auth.OperatorTTL

// Moderators registers and withdraws moderators: the store's rows and
// their tokens (token id = moderator id, so revoking one is revoking the
// other). It keeps no state of its own.
type Moderators struct {
	st     Store
	signer Signer
	now    func() time.Time
}

// NewModerators returns the moderators kept in st. now may be nil.
func NewModerators(st Store, signer Signer, now func() time.Time) *Moderators {
	if now == nil {
		now = time.Now
	}
	return &Moderators{st: st, signer: signer, now: now}
}

// maxNameLen bounds a moderator's or flagger's name.
const maxNameLen = 100

// checkName trims and checks a display name.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fmt.Errorf("%w: name is required", ErrInvalid)
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameLen:
		return "", fmt.Errorf("%w: name must be at most %d characters of UTF-8", ErrInvalid, maxNameLen)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%w: name must not contain control characters", ErrInvalid)
		}
	}
	return name, nil
}

// Add registers a moderator named name and returns it with its token,
// which is shown once and never stored.
func (ms *Moderators) Add(ctx context.Context, name string) (Moderator, string, error) {
	name, err := checkName(name)
	if err != nil {
		return Moderator{}, "", err
	}
	now := ms.now()
	m := Moderator{ID: "mod_" + randomID(9), Name: name, Created: now.UTC().Truncate(time.Millisecond)}
	if err := ms.st.AddModerator(ctx, m); err != nil {
		return Moderator{}, "", fmt.Errorf("moderation: add moderator: %w", err)
	}
	tok := ms.signer.Sign(auth.Claims{Role: auth.RoleModerator, ID: m.ID, Name: m.Name, Expires: now.Add(ModeratorTTL).Unix()})
	return m, tok, nil
}

// List returns every moderator, oldest first.
func (ms *Moderators) List(ctx context.Context) ([]Moderator, error) {
	return ms.st.Moderators(ctx)
}

// Get returns moderator id.
func (ms *Moderators) Get(ctx context.Context, id string) (Moderator, error) {
	return ms.st.Moderator(ctx, id)
}

// Revoke withdraws moderator id: the row first, then the token, so a
// crash in between leaves a revoked row whose token Revoke refuses again
// when called again (it is idempotent).
func (ms *Moderators) Revoke(ctx context.Context, id string) (Moderator, error) {
	m, err := ms.st.RevokeModerator(ctx, id, ms.now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return m, err
	}
	if err := ms.signer.Revoke(ctx, m.ID, m.Created.Add(ModeratorTTL)); err != nil {
		return m, fmt.Errorf("moderation: revoke token: %w", err)
	}
	return m, nil
}

// randomID returns n random bytes, base64url.
func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
