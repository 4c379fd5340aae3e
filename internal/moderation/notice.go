package moderation

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/podium-live/podium/internal/dsa"
	"github.com/podium-live/podium/internal/policy"
)

// Limits on a notice.
const (
	MaxItems          = 20
	MaxExplanationLen = 10000
	MaxKeywords       = 20
	MaxTerritories    = 250
)

// Item kinds: what in a space a notice points at.
const (
	ItemSpace   = "space"   // the whole space (live and recording)
	ItemSpeaker = "speaker" // one speaker's contributions
	ItemRange   = "range"   // [from_ms, to_ms) of the recording
)

// Item is one thing a notice says is illegal.
type Item struct {
	Kind    string `json:"kind"`
	Speaker string `json:"speaker,omitempty"`
	FromMS  *int64 `json:"from_ms,omitempty"`
	ToMS    *int64 `json:"to_ms,omitempty"`
	// At is the wall-clock time the notifier heard it live (optional).
	At *time.Time `json:"at,omitempty"`
}

// Notice is an Art. 16 notice as submitted (and as stored).
type Notice struct {
	ID          string   `json:"id"`
	Space       string   `json:"space"`
	Items       []Item   `json:"items"`
	Category    string   `json:"category"`
	Keywords    []string `json:"keywords,omitempty"`
	Explanation string   `json:"explanation"`
	Territories []string `json:"territories"`
	Name        string   `json:"name,omitempty"`
	Email       string   `json:"email,omitempty"`
	BonaFide    bool     `json:"bona_fide"`
	// Received is when the notice was stored.
	Received time.Time `json:"received"`
	// State is the notice's case state: "open" until decided.
	State string `json:"state"`
	// Lane is the case's lane: LaneTrusted for a trusted flagger's notice,
	// LaneNotices otherwise.
	Lane string `json:"lane"`
	// Flagger is the trusted flagger who sent it ("" for anyone else).
	Flagger string `json:"flagger,omitempty"`
	// SourceType is the statement's source_type for decisions on it.
	SourceType string `json:"source_type"`
}

// Lanes of cases.
const (
	LaneTrusted = "trusted"
	LaneNotices = "notices"
)

// Case states a notifier sees.
const StateOpen = "open"

// FieldError says which field of an input is wrong and why; it wraps
// ErrInvalid.
type FieldError struct{ Field, Problem string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Unwrap makes a FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// anonymousCSAM reports whether a notice is of the kind the DSA lets a
// notifier send without name or email (Art. 16(2)(c): child sexual abuse
// offences). podium neither requires nor keeps a name or email for it.
func anonymousCSAM(n *Notice) bool {
	return n.Category == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS" &&
		slices.ContainsFunc(n.Keywords, func(k string) bool { return strings.HasPrefix(k, "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL") })
}

// Check validates n as submitted (the space's existence is the caller's)
// and normalizes it: territories upper case, name and email dropped for
// child sexual abuse material. The first problem found is returned as a
// *FieldError naming the field.
func (n *Notice) Check() error {
	if n.Space == "" {
		return bad("space", "is required")
	}
	if len(n.Items) == 0 {
		return bad("items", "at least one item is required")
	}
	if len(n.Items) > MaxItems {
		return bad("items", "at most %d items", MaxItems)
	}
	for i, it := range n.Items {
		f := fmt.Sprintf("items[%d]", i)
		switch it.Kind {
		case ItemSpace:
		case ItemSpeaker:
			if it.Speaker == "" || len(it.Speaker) > 64 {
				return bad(f+".speaker", "a speaker item names the speaker (1 to 64 characters)")
			}
		case ItemRange:
			if it.FromMS == nil {
				return bad(f+".from_ms", "is required for a range")
			}
			if it.ToMS == nil {
				return bad(f+".to_ms", "is required for a range")
			}
			if *it.FromMS < 0 {
				return bad(f+".from_ms", "must not be negative")
			}
			if *it.ToMS <= *it.FromMS {
				return bad(f+".to_ms", "must be after from_ms")
			}
		case "":
			return bad(f+".kind", "is required (space, speaker or range)")
		default:
			return bad(f+".kind", "unknown kind %q (space, speaker or range)", it.Kind)
		}
	}
	if n.Category == "" {
		return bad("category", "is required (a STATEMENT_CATEGORY_… key)")
	}
	if !slices.ContainsFunc(dsa.Categories, func(c dsa.Category) bool { return c.Key == n.Category }) {
		return bad("category", "unknown category %q", n.Category)
	}
	if len(n.Keywords) > MaxKeywords {
		return bad("keywords", "at most %d", MaxKeywords)
	}
	for i, k := range n.Keywords {
		if !slices.Contains(dsa.Keywords, k) {
			return bad(fmt.Sprintf("keywords[%d]", i), "unknown keyword %q", k)
		}
	}
	n.Explanation = strings.TrimSpace(n.Explanation)
	if n.Explanation == "" {
		return bad("explanation", "is required: say why the content is illegal")
	}
	if !utf8.ValidString(n.Explanation) || utf8.RuneCountInString(n.Explanation) > MaxExplanationLen {
		return bad("explanation", "at most %d characters of UTF-8", MaxExplanationLen)
	}
	if len(n.Territories) == 0 {
		return bad("territories", "at least one ISO 3166-1 code where the content is illegal")
	}
	if len(n.Territories) > MaxTerritories {
		return bad("territories", "at most %d", MaxTerritories)
	}
	for i, s := range n.Territories {
		t, err := policy.ParseTerritory(s)
		if err != nil || t == policy.Unknown {
			return bad(fmt.Sprintf("territories[%d]", i), "unknown territory %q (an ISO 3166-1 alpha-2 code)", s)
		}
		n.Territories[i] = string(t)
	}
	if !n.BonaFide {
		return bad("bona_fide", "must be true: confirm the notice is accurate and complete to the best of your knowledge")
	}
	if anonymousCSAM(n) {
		n.Name, n.Email = "", ""
		return nil
	}
	n.Name = strings.TrimSpace(n.Name)
	if len(n.Name) > maxNameLen*2 || !utf8.ValidString(n.Name) {
		return bad("name", "at most %d characters of UTF-8", maxNameLen*2)
	}
	if n.Email != "" {
		if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email || len(n.Email) > 254 {
			return bad("email", "not an email address")
		}
	}
	return nil
}

// NoticeStore keeps notices durably. store.SQLite implements it.
type NoticeStore interface {
	// AddNotice stores n with the hash of its secret.
	AddNotice(ctx context.Context, n Notice, secretHash []byte) error
	// Notice returns notice id and its secret's hash (ErrNotFound).
	Notice(ctx context.Context, id string) (Notice, []byte, error)
}

// Notices receives notices and shows them to their notifiers.
type Notices struct {
	st  NoticeStore
	log *Log
	now func() time.Time
}

// NewNotices returns the notices kept in st, each recorded in log. now
// may be nil.
func NewNotices(st NoticeStore, log *Log, now func() time.Time) *Notices {
	if now == nil {
		now = time.Now
	}
	return &Notices{st: st, log: log, now: now}
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Submit checks n and stores it; it returns the stored notice and the
// secret that shows it (only its hash is kept). flagger is the trusted
// flagger who sent it, verified by the caller ("" for anyone else). It
// returns only once the notice is durable.
func (ns *Notices) Submit(ctx context.Context, n Notice, flagger string) (Notice, string, error) {
	if err := n.Check(); err != nil {
		return Notice{}, "", err
	}
	n.Lane, n.Flagger, n.SourceType = LaneNotices, "", dsa.SourceArticle16
	if flagger != "" {
		n.Lane, n.Flagger, n.SourceType = LaneTrusted, flagger, dsa.SourceTrustedFlagger
	}
	n.ID = "ntc_" + randomID(9)
	n.Received = ns.now().UTC().Truncate(time.Millisecond)
	n.State = StateOpen
	secret := randomID(24)
	if err := ns.st.AddNotice(ctx, n, hashSecret(secret)); err != nil {
		return Notice{}, "", fmt.Errorf("moderation: store notice: %w", err)
	}
	// The log holds no personal data: not the notifier's name or email,
	// nor the explanation's text.
	if err := ns.log.Append(ctx, EventNotice, n.Flagger, n.ID, map[string]any{
		"space": n.Space, "lane": n.Lane, "category": n.Category, "items": n.Items, "territories": n.Territories,
	}); err != nil {
		return Notice{}, "", fmt.Errorf("moderation: log notice: %w", err)
	}
	return n, secret, nil
}

// Get returns notice id to the holder of its secret; a wrong secret is
// ErrNotFound, like an unknown id, so ids cannot be probed.
func (ns *Notices) Get(ctx context.Context, id, secret string) (Notice, error) {
	n, h, err := ns.st.Notice(ctx, id)
	if err != nil {
		return Notice{}, err
	}
	if secret == "" || subtle.ConstantTimeCompare(h, hashSecret(secret)) != 1 {
		return Notice{}, ErrNotFound
	}
	return n, nil
}
