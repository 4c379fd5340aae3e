package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/space"
	"github.com/podium-live/podium/internal/store"
)

// Store is the durable state Spaces needs.
type Store interface {
	CreateSpace(ctx context.Context, sp space.Space) error
	// UpdateSpace writes sp if its stored state is still from, else
	// store.ErrConflict.
	UpdateSpace(ctx context.Context, sp space.Space, from space.State) error
	Space(ctx context.Context, id string) (space.Space, error)
	Spaces(ctx context.Context, limit int) ([]space.Space, error)
	SpacesIn(ctx context.Context, state space.State) ([]space.Space, error)
	CreateInvite(ctx context.Context, inv space.Invite) error
	Invites(ctx context.Context, spaceID string) ([]space.Invite, error)
	RevokeInvite(ctx context.Context, spaceID, id string, now time.Time) error
}

// SpacesConfig tunes Spaces.
type SpacesConfig struct {
	InviteTTL time.Duration // default lifetime of a speaker invite, 0 = 7 days
	HostTTL   time.Duration // lifetime of a host token, 0 = 30 days
}

// Spaces is the spaces service: creating and reading spaces, their state
// transitions and their invites, over the store. Every stored change is
// reported to events.
//
// Concurrency: a space's transitions are serialized by its own lock
// (transitions), held across the conditional store write and the event,
// so that Start and End of one space cannot interleave; nothing
// service-wide is held across a database write.
type Spaces struct {
	cfg         SpacesConfig
	store       Store
	signer      *auth.Signer
	events      Events
	log         *slog.Logger
	now         func() time.Time
	transitions keyedLocks
	states      ttlCache[stateEntry] // a space's state, for joins and /live
}

// NewSpaces returns the spaces service over st, signing host and speaker
// tokens with signer and reporting changes to events.
func NewSpaces(cfg SpacesConfig, st Store, signer *auth.Signer, events Events, log *slog.Logger) *Spaces {
	if cfg.InviteTTL <= 0 {
		cfg.InviteTTL = 7 * 24 * time.Hour
	}
	if cfg.HostTTL <= 0 {
		cfg.HostTTL = auth.HostTTL
	}
	return &Spaces{cfg: cfg, store: st, signer: signer, events: events, log: log, now: time.Now}
}

// Create makes a new scheduled space and returns it with its host token.
func (s *Spaces) Create(ctx context.Context, title, description string, scheduled time.Time) (space.Space, string, error) {
	now := s.now()
	sp, err := space.New(title, description, scheduled, now)
	if err != nil {
		return sp, "", err
	}
	if err := s.store.CreateSpace(ctx, sp); err != nil {
		return sp, "", err
	}
	// The space's one host token: a new one (POST …/host-token) revokes it.
	tok, err := s.signer.Issue(ctx, auth.HostSlot(sp.ID), auth.Claims{Role: auth.RoleHost, Space: sp.ID, Expires: now.Add(s.cfg.HostTTL).Unix()})
	if err != nil {
		return sp, "", err
	}
	s.log.Info("space created", "space", sp.ID)
	return sp, tok, nil
}

// Space returns a space.
func (s *Spaces) Space(ctx context.Context, id string) (space.Space, error) {
	if !space.ValidID(id) {
		return space.Space{}, space.ErrNotFound
	}
	return s.store.Space(ctx, id)
}

// Spaces lists recent spaces.
func (s *Spaces) Spaces(ctx context.Context) ([]space.Space, error) {
	return s.store.Spaces(ctx, 200)
}

// stateEntry is a space's state, or space.ErrNotFound.
type stateEntry struct {
	state space.State
	err   error
}

// stateTTL is how long a space's state is remembered for joins: the path a
// join storm hits costs no database read per request. This node's own
// state changes forget the entry at once; another node's reach it within
// stateTTL.
const stateTTL = time.Second

// SpaceState is the state of space id as of at most a second ago, or
// space.ErrNotFound. Other store errors are returned and not remembered.
func (s *Spaces) SpaceState(ctx context.Context, id string) (space.State, error) {
	now := s.now()
	if e, ok := s.states.get(id, now); ok {
		return e.state, e.err
	}
	sp, err := s.Space(ctx, id)
	if err != nil && !errors.Is(err, space.ErrNotFound) {
		return "", err
	}
	s.states.put(id, stateEntry{state: sp.State, err: err}, now, stateTTL)
	return sp.State, err
}

// transition applies change to space id and stores it conditionally on
// the state it read, under the space's lock, then reports it. A write
// that finds the state changed by another node reads again and retries.
func (s *Spaces) transition(ctx context.Context, id string, change func(*space.Space) error) (space.Space, error) {
	unlock := s.transitions.lock(id)
	defer unlock()
	for range 10 {
		sp, err := s.Space(ctx, id)
		if err != nil {
			return sp, err
		}
		from := sp.State
		if err := change(&sp); err != nil {
			return sp, err
		}
		err = s.store.UpdateSpace(ctx, sp, from)
		s.states.forget(id)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return sp, err
		}
		s.events.StateChanged(sp)
		return sp, nil
	}
	return space.Space{}, fmt.Errorf("live: space %s: %w", id, store.ErrConflict)
}

// Start takes a space live.
func (s *Spaces) Start(ctx context.Context, id string) (space.Space, error) {
	sp, err := s.transition(ctx, id, func(sp *space.Space) error { return sp.Start(s.now()) })
	if err == nil {
		s.log.Info("space live", "space", sp.ID)
	}
	return sp, err
}

// End ends a space; the runtime releases everything it held.
func (s *Spaces) End(ctx context.Context, id string) (space.Space, error) {
	sp, err := s.transition(ctx, id, func(sp *space.Space) error { return sp.End(s.now()) })
	if err == nil {
		s.log.Info("space ended", "space", sp.ID)
	}
	return sp, err
}

// SetRecord switches a scheduled space's recording on or off.
func (s *Spaces) SetRecord(ctx context.Context, id string, on bool) (space.Space, error) {
	return s.transition(ctx, id, func(sp *space.Space) error { return sp.SetRecord(on) })
}

// Recover deals with spaces that were live when the node stopped. After a
// clean shutdown they resume at once (reported as StateChanged, live),
// their HLS URLs and sequence numbers continuing. After a crash (crashed)
// they are marked interrupted: their recording plays up to the crash, and
// the host resumes or ends them.
func (s *Spaces) Recover(ctx context.Context, crashed bool) error {
	live, err := s.store.SpacesIn(ctx, space.Live)
	if err != nil {
		return err
	}
	for _, sp := range live {
		if crashed {
			if _, err := s.transition(ctx, sp.ID, func(sp *space.Space) error { sp.Interrupt(); return nil }); err != nil {
				return err
			}
			s.log.Warn("space interrupted by a crash; the host can resume it", "space", sp.ID)
			continue
		}
		unlock := s.transitions.lock(sp.ID)
		s.events.StateChanged(sp)
		unlock()
		s.log.Info("space resumed", "space", sp.ID)
	}
	return nil
}

// NewInvite creates a speaker invite for space id.
func (s *Spaces) NewInvite(ctx context.Context, id, name string, ttl time.Duration) (space.Invite, string, error) {
	sp, err := s.Space(ctx, id)
	if err != nil {
		return space.Invite{}, "", err
	}
	if sp.State == space.Ended {
		return space.Invite{}, "", space.ErrEnded
	}
	if name, err = space.CleanName(name); err != nil {
		return space.Invite{}, "", err
	}
	if ttl <= 0 {
		ttl = s.cfg.InviteTTL
	}
	if ttl > 365*24*time.Hour {
		return space.Invite{}, "", fmt.Errorf("%w: ttl_seconds longer than a year", space.ErrInvalid)
	}
	now := s.now()
	inv := space.Invite{ID: space.NewID("inv"), SpaceID: id, Name: name, CreatedAt: now, ExpiresAt: now.Add(ttl).Truncate(time.Second)}
	if err := s.store.CreateInvite(ctx, inv); err != nil {
		return inv, "", err
	}
	tok := s.signer.Sign(auth.Claims{Role: auth.RoleSpeaker, Space: id, Invite: inv.ID, Name: name, Expires: inv.ExpiresAt.Unix()})
	return inv, tok, nil
}

// Invites lists the invites of space id.
func (s *Spaces) Invites(ctx context.Context, id string) ([]space.Invite, error) {
	if _, err := s.Space(ctx, id); err != nil {
		return nil, err
	}
	return s.store.Invites(ctx, id)
}

// RevokeInvite revokes an invite and reports it barred from the stage,
// after the revocation is stored: the runtime bars it under the stage's
// lock, so a join that was authorized before the revocation and is still
// negotiating is refused when it would be added.
func (s *Spaces) RevokeInvite(ctx context.Context, id, invite string) error {
	if err := s.store.RevokeInvite(ctx, id, invite, s.now()); err != nil {
		return err
	}
	// The invite id is the speaker token's id: Verify refuses it from now on.
	if err := s.signer.Revoke(ctx, invite, time.Time{}); err != nil {
		return err
	}
	return s.bar(ctx, id, invite)
}

// bar reports invite barred from the stage of space id unless the space
// ended (it has no stage), under the space's lock so that the report
// cannot overtake the space's end.
func (s *Spaces) bar(ctx context.Context, id, invite string) error {
	unlock := s.transitions.lock(id)
	defer unlock()
	sp, err := s.Space(ctx, id)
	if err != nil {
		return err
	}
	if sp.State != space.Ended {
		s.events.StageChanged(id, StageChange{Barred: invite})
	}
	return nil
}

// BarInvite revokes the invite of a speaker the host removed from the
// stage, so that the removal holds across reconnects and restarts. An
// invite revoked already is not an error.
func (s *Spaces) BarInvite(ctx context.Context, id, invite string) error {
	err := s.RevokeInvite(ctx, id, invite)
	if errors.Is(err, space.ErrNotFound) { // revoked already
		return s.bar(ctx, id, invite)
	}
	return err
}
