// Package live runs podium's spaces: it owns each space's lifecycle and,
// while a space is open, its stage (speakers), its mixer and its LL-HLS
// stream. HTTP handlers call it; it calls the store, ingest, mix and hls.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/ingest"
	"github.com/podium-live/podium/internal/mix"
	"github.com/podium-live/podium/internal/record"
	"github.com/podium-live/podium/internal/space"
)

// Store is the durable state the service needs.
type Store interface {
	CreateSpace(ctx context.Context, sp space.Space) error
	UpdateSpace(ctx context.Context, sp space.Space) error
	Space(ctx context.Context, id string) (space.Space, error)
	Spaces(ctx context.Context, limit int) ([]space.Space, error)
	SpacesIn(ctx context.Context, state space.State) ([]space.Space, error)
	CreateInvite(ctx context.Context, inv space.Invite) error
	Invite(ctx context.Context, id string) (space.Invite, error)
	Invites(ctx context.Context, spaceID string) ([]space.Invite, error)
	RevokeInvite(ctx context.Context, spaceID, id string, now time.Time) error
	Recording(ctx context.Context, spaceID string) (space.Recording, error)
	SaveRecording(ctx context.Context, r space.Recording) error
}

// Forgetter drops cached replay state of a space and learns when a
// recording is complete.
type Forgetter interface {
	Forget(spaceID string)
	SetComplete(spaceID string, complete bool)
}

// ErrForbidden means the credential is valid but does not allow the action.
var ErrForbidden = errors.New("forbidden")

// Config tunes the service.
type Config struct {
	MaxSpeakers int           // per space, 0 = 10
	InviteTTL   time.Duration // default lifetime of a speaker invite, 0 = 7 days
	HostTTL     time.Duration // lifetime of a host token, 0 = 30 days
	HLS         hls.Config
	Mix         mix.Config
	Record      record.Options
	// Listeners counts each space's listeners (admission.Listeners counts
	// tickets seen in media requests); nil reports none.
	Listeners ListenerCounter
}

// ListenerCounter reports how many listeners a space has.
type ListenerCounter interface{ Count(space string) int }

// Service runs spaces.
type Service struct {
	cfg    Config
	store  Store
	signer *auth.Signer
	engine *ingest.Engine
	hls    *hls.Server
	rec    record.Storage // nil: recording disabled on this node
	replay Forgetter      // may be nil
	log    *slog.Logger
	now    func() time.Time
	access ttlCache[bool]       // whether a space's replay is public (access.go)
	states ttlCache[stateEntry] // a space's state, for joins (statecache.go)

	mu sync.Mutex // guards rooms and closed
	// rooms holds the runtime of every space that is scheduled or live and
	// has been touched since start (a stage exists), keyed by space id.
	rooms  map[string]*room
	closed bool
}

// New returns a service. Call Recover once to deal with spaces that were live
// when the node stopped.
func New(cfg Config, st Store, signer *auth.Signer, engine *ingest.Engine, hs *hls.Server, log *slog.Logger) *Service {
	if cfg.MaxSpeakers <= 0 {
		cfg.MaxSpeakers = 10
	}
	if cfg.InviteTTL <= 0 {
		cfg.InviteTTL = 7 * 24 * time.Hour
	}
	if cfg.HostTTL <= 0 {
		cfg.HostTTL = 30 * 24 * time.Hour
	}
	return &Service{cfg: cfg, store: st, signer: signer, engine: engine, hls: hs, log: log, now: time.Now, rooms: map[string]*room{}}
}

// Create makes a new scheduled space and returns it with its host token.
func (s *Service) Create(ctx context.Context, title, description string, scheduled time.Time) (space.Space, string, error) {
	now := s.now()
	sp, err := space.New(title, description, scheduled, now)
	if err != nil {
		return sp, "", err
	}
	if err := s.store.CreateSpace(ctx, sp); err != nil {
		return sp, "", err
	}
	tok := s.signer.Sign(auth.Claims{Role: auth.RoleHost, Space: sp.ID, Expires: now.Add(s.cfg.HostTTL).Unix()})
	s.log.Info("space created", "space", sp.ID)
	return sp, tok, nil
}

// Space returns a space.
func (s *Service) Space(ctx context.Context, id string) (space.Space, error) {
	if !space.ValidID(id) {
		return space.Space{}, space.ErrNotFound
	}
	return s.store.Space(ctx, id)
}

// Spaces lists recent spaces.
func (s *Service) Spaces(ctx context.Context) ([]space.Space, error) {
	return s.store.Spaces(ctx, 200)
}

// Authorize checks token against what the caller wants to do in spaceID:
// need is the least role allowed (operator > host > speaker). Speaker
// tokens are checked against their invite's revocation.
func (s *Service) Authorize(ctx context.Context, token, spaceID string, need auth.Role) (auth.Claims, error) {
	c, err := s.signer.Verify(token)
	if err != nil {
		return c, err
	}
	switch {
	case c.Role == auth.RoleOperator:
		return c, nil
	case need == auth.RoleOperator:
		return c, fmt.Errorf("%w: operator credential required", ErrForbidden)
	case c.Space != spaceID:
		return c, fmt.Errorf("%w: token is for another space", ErrForbidden)
	case c.Role == auth.RoleHost:
		return c, nil
	case need == auth.RoleHost:
		return c, fmt.Errorf("%w: host credential required", ErrForbidden)
	}
	inv, err := s.store.Invite(ctx, c.Invite)
	if errors.Is(err, space.ErrNotFound) || (err == nil && inv.SpaceID != spaceID) {
		return c, fmt.Errorf("%w: unknown invite", ErrForbidden)
	}
	if err != nil {
		return c, err
	}
	if inv.Revoked() {
		return c, fmt.Errorf("%w: invite revoked", ErrForbidden)
	}
	return c, nil
}

// Start takes a space live.
func (s *Service) Start(ctx context.Context, id string) (space.Space, error) {
	sp, err := s.Space(ctx, id)
	if err != nil {
		return sp, err
	}
	if err := sp.Start(s.now()); err != nil {
		return sp, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return sp, ingest.ErrClosed
	}
	if err := s.updateSpace(ctx, sp); err != nil {
		return sp, err
	}
	r := s.roomLocked(sp)
	if err := r.goLive(sp); err != nil {
		return sp, err
	}
	s.log.Info("space live", "space", sp.ID)
	return sp, nil
}

// End ends a space and releases everything it held.
func (s *Service) End(ctx context.Context, id string) (space.Space, error) {
	sp, err := s.Space(ctx, id)
	if err != nil {
		return sp, err
	}
	if err := sp.End(s.now()); err != nil {
		return sp, err
	}
	if err := s.updateSpace(ctx, sp); err != nil {
		return sp, err
	}
	s.mu.Lock()
	r := s.rooms[id]
	delete(s.rooms, id)
	s.mu.Unlock()
	if r != nil {
		r.close(true)
	}
	if s.replay != nil {
		s.replay.SetComplete(sp.ID, true)
	}
	s.log.Info("space ended", "space", sp.ID)
	return sp, nil
}

// SetRecording gives the service its recording storage and the replay
// cache to invalidate. Call before Recover.
func (s *Service) SetRecording(st record.Storage, replay Forgetter) {
	s.rec, s.replay = st, replay
}

// Recover deals with spaces that were live when the node stopped. After a
// clean shutdown they resume at once, their HLS URLs and sequence numbers
// continuing. After a crash (crashed) they are marked interrupted: their
// recording plays up to the crash, and the host resumes or ends them.
func (s *Service) Recover(ctx context.Context, crashed bool) error {
	live, err := s.store.SpacesIn(ctx, space.Live)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sp := range live {
		if crashed {
			sp.Interrupt()
			if err := s.updateSpace(ctx, sp); err != nil {
				return err
			}
			s.log.Warn("space interrupted by a crash; the host can resume it", "space", sp.ID)
			continue
		}
		if err := s.roomLocked(sp).goLive(sp); err != nil {
			return err
		}
		s.log.Info("space resumed", "space", sp.ID)
	}
	return nil
}

// roomLocked returns the runtime of sp, creating it.
func (s *Service) roomLocked(sp space.Space) *room {
	r := s.rooms[sp.ID]
	if r == nil {
		r = newRoom(s, sp)
		s.rooms[sp.ID] = r
	}
	return r
}

// room returns the runtime of an open space, creating it.
func (s *Service) room(ctx context.Context, id string) (*room, error) {
	sp, err := s.Space(ctx, id)
	if err != nil {
		return nil, err
	}
	if sp.State == space.Ended {
		return nil, space.ErrEnded
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ingest.ErrClosed
	}
	return s.roomLocked(sp), nil
}

// openRoom returns the runtime of a space only if it already exists.
func (s *Service) openRoom(id string) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[id]
}

// Close stops every space's runtime (not their state: a live space stays
// live and resumes on the next start). Safe to call twice.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	rooms := s.rooms
	s.rooms = map[string]*room{}
	s.mu.Unlock()
	for _, r := range rooms {
		r.close(false)
	}
}

// RecordingProblems counts live spaces whose recording is failing.
func (s *Service) RecordingProblems() int {
	rooms := s.openRooms()
	n := 0
	for _, r := range rooms {
		r.mu.Lock()
		if r.tape != nil && r.tape.problem() != "" {
			n++
		}
		r.mu.Unlock()
	}
	return n
}

// Counts are a node's live figures, for metrics.
type Counts struct {
	LiveSpaces int
	Speakers   int
	// Mix sums the mixer counters of the spaces live now.
	Mix mix.Stats
}

// Counts reports live spaces, speakers on stage and mixer counters.
func (s *Service) Counts() Counts {
	rooms := s.openRooms()
	var c Counts
	for _, r := range rooms {
		r.addCounts(&c)
	}
	return c
}

// Figures are one live space's audience and stage.
type Figures struct{ Listeners, Speakers int }

// LiveFigures reports a space's listener estimate and speakers; zero when
// the space is not open on this node.
func (s *Service) LiveFigures(id string) Figures {
	r := s.openRoom(id)
	if r == nil {
		return Figures{}
	}
	var f Figures
	r.mu.Lock()
	if r.stream != nil && s.cfg.Listeners != nil {
		f.Listeners = s.cfg.Listeners.Count(id)
	}
	r.mu.Unlock()
	f.Speakers = len(r.stage.Speakers())
	return f
}

// openRooms returns the rooms open now, so callers can visit them without
// holding s.mu.
func (s *Service) openRooms() []*room {
	s.mu.Lock()
	defer s.mu.Unlock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	return rooms
}
