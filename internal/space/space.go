// Package space is podium's domain model: a space, its lifecycle
// (scheduled → live → ended) and its speaker invites. It does no I/O.
package space

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// State is where a space is in its life.
type State string

// The states of a space, in order.
const (
	Scheduled   State = "scheduled" // lobby: created, not yet live
	Live        State = "live"
	Interrupted State = "interrupted" // the node stopped abruptly while live; the host resumes or ends
	Ended       State = "ended"
)

// Domain errors. httpapi maps them to statuses.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalid      = errors.New("invalid")
	ErrAlreadyLive  = errors.New("space is already live")
	ErrEnded        = errors.New("space has ended")
	ErrNotLive      = errors.New("space is not live")
	ErrNotScheduled = errors.New("space is no longer scheduled")
	ErrInviteRevoke = errors.New("invite revoked")
)

// Space is one conversation.
type Space struct {
	ID             string
	Title          string
	Description    string
	State          State
	ScheduledStart time.Time
	CreatedAt      time.Time
	StartedAt      time.Time // zero until live; the first start, kept across resumes
	EndedAt        time.Time // zero until ended
	// Record says whether the space is recorded when live (default true).
	Record bool
}

// Invite lets one speaker onto a space's stage until it expires or is revoked.
type Invite struct {
	ID        string
	SpaceID   string
	Name      string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time // zero unless revoked
}

// Revoked reports whether the invite was revoked.
func (i Invite) Revoked() bool { return !i.RevokedAt.IsZero() }

// Limits on user-supplied fields.
const (
	MaxTitle       = 200
	MaxDescription = 5000
	MaxName        = 80
)

// New validates the fields of a new space and returns it in the scheduled
// state. A zero scheduled start means "now".
func New(title, description string, scheduled, now time.Time) (Space, error) {
	title = strings.TrimSpace(title)
	if err := checkText("title", title, false); err != nil {
		return Space{}, err
	}
	if err := checkText("description", description, true); err != nil {
		return Space{}, err
	}
	switch {
	case title == "":
		return Space{}, fmt.Errorf("%w: title is required", ErrInvalid)
	case utf8.RuneCountInString(title) > MaxTitle:
		return Space{}, fmt.Errorf("%w: title is longer than %d characters", ErrInvalid, MaxTitle)
	case utf8.RuneCountInString(description) > MaxDescription:
		return Space{}, fmt.Errorf("%w: description is longer than %d characters", ErrInvalid, MaxDescription)
	}
	if scheduled.IsZero() {
		scheduled = now
	}
	return Space{
		ID:             NewID("sp"),
		Title:          title,
		Description:    description,
		State:          Scheduled,
		ScheduledStart: scheduled.UTC().Truncate(time.Second),
		CreatedAt:      now.UTC(),
		Record:         true,
	}, nil
}

// Start moves a scheduled space to live, or resumes an interrupted one
// (keeping its first start time, so its stream and recording continue).
func (s *Space) Start(now time.Time) error {
	switch s.State {
	case Live:
		return ErrAlreadyLive
	case Ended:
		return ErrEnded
	case Interrupted:
		s.State = Live
		return nil
	}
	s.State = Live
	s.StartedAt = now.UTC()
	return nil
}

// Interrupt marks a live space as stopped by a crash.
func (s *Space) Interrupt() {
	if s.State == Live {
		s.State = Interrupted
	}
}

// SetRecord switches recording on or off; only before the space goes live.
func (s *Space) SetRecord(on bool) error {
	if s.State != Scheduled {
		return fmt.Errorf("%w: recording can only be switched before the space goes live", ErrNotScheduled)
	}
	s.Record = on
	return nil
}

// End ends a space from any state. Ending twice is an error.
func (s *Space) End(now time.Time) error {
	if s.State == Ended {
		return ErrEnded
	}
	s.State = Ended
	s.EndedAt = now.UTC()
	return nil
}

// CleanName trims a display name and checks it.
func CleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if err := checkText("name", name, false); err != nil {
		return "", err
	}
	if utf8.RuneCountInString(name) > MaxName {
		return "", fmt.Errorf("%w: name is longer than %d characters", ErrInvalid, MaxName)
	}
	return name, nil
}

const idAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// NewID returns a random identifier with a readable prefix, e.g. "sp_k3j4h5m2q8".
func NewID(prefix string) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + "_" + string(b)
}

// ValidID reports whether id looks like an id NewID made (any prefix). Used
// to reject junk cheaply before any lookup.
func ValidID(id string) bool {
	p, rest, ok := strings.Cut(id, "_")
	if !ok || len(p) == 0 || len(p) > 4 || len(rest) != 12 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 'a' || p[i] > 'z' {
			return false
		}
	}
	for i := 0; i < len(rest); i++ {
		if !strings.ContainsRune(idAlphabet, rune(rest[i])) {
			return false
		}
	}
	return true
}
