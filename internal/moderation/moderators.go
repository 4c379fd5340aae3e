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

// Kind is what the operator registers someone as.
type Kind string

// The kinds of registrant.
const (
	// KindModerator decides cases; every action records the moderator's ID.
	KindModerator Kind = "moderator"
	// KindFlagger is a trusted flagger (Art. 22): their notices go to the
	// trusted lane.
	KindFlagger Kind = "flagger"
)

// Moderator is someone the operator registered: a moderator, who decides
// cases, or a trusted flagger. Every action later records who took it by ID.
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
	// AddModerator stores a new registrant of kind k.
	AddModerator(ctx context.Context, k Kind, m Moderator) error
	// Moderators lists every registrant of kind k, revoked ones included,
	// oldest first.
	Moderators(ctx context.Context, k Kind) ([]Moderator, error)
	// Moderator returns the registrant of kind k with id (ErrNotFound if none).
	Moderator(ctx context.Context, k Kind, id string) (Moderator, error)
	// RevokeModerator marks registrant id of kind k revoked at at (once: a
	// second revocation keeps the first time) and returns the row.
	RevokeModerator(ctx context.Context, k Kind, id string, at time.Time) (Moderator, error)
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
	kind   Kind
	role   auth.Role
	prefix string
	st     Store
	signer Signer
	now    func() time.Time
}

// NewModerators returns the moderators kept in st. now may be nil.
func NewModerators(st Store, signer Signer, now func() time.Time) *Moderators {
	if now == nil {
		now = time.Now
	}
	return &Moderators{kind: KindModerator, role: auth.RoleModerator, prefix: "mod_", st: st, signer: signer, now: now}
}

// NewFlaggers returns the trusted flaggers kept in st (role flagger,
// token id = flagger id). now may be nil.
func NewFlaggers(st Store, signer Signer, now func() time.Time) *Moderators {
	ms := NewModerators(st, signer, now)
	ms.kind, ms.role, ms.prefix = KindFlagger, auth.RoleFlagger, "flg_"
	return ms
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
	m := Moderator{ID: ms.prefix + randomID(9), Name: name, Created: now.UTC().Truncate(time.Millisecond)}
	if err := ms.st.AddModerator(ctx, ms.kind, m); err != nil {
		return Moderator{}, "", fmt.Errorf("moderation: add %s: %w", ms.kind, err)
	}
	tok := ms.signer.Sign(auth.Claims{Role: ms.role, ID: m.ID, Name: m.Name, Expires: now.Add(ModeratorTTL).Unix()})
	return m, tok, nil
}

// List returns every moderator, oldest first.
func (ms *Moderators) List(ctx context.Context) ([]Moderator, error) {
	return ms.st.Moderators(ctx, ms.kind)
}

// Get returns moderator id.
func (ms *Moderators) Get(ctx context.Context, id string) (Moderator, error) {
	return ms.st.Moderator(ctx, ms.kind, id)
}

// Revoke withdraws moderator id: the row first, then the token, so a
// crash in between leaves a revoked row whose token Revoke refuses again
// when called again (it is idempotent).
func (ms *Moderators) Revoke(ctx context.Context, id string) (Moderator, error) {
	m, err := ms.st.RevokeModerator(ctx, ms.kind, id, ms.now().UTC().Truncate(time.Millisecond))
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
