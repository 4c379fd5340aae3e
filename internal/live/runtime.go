package live

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/ingest"
	"github.com/podium-live/podium/internal/mix"
	"github.com/podium-live/podium/internal/policy"
	"github.com/podium-live/podium/internal/record"
	"github.com/podium-live/podium/internal/space"
)

// RuntimeConfig tunes the runtime.
type RuntimeConfig struct {
	MaxSpeakers int // per space, 0 = 10
	HLS         hls.Config
	Mix         mix.Config
	Record      record.Options
	// Listeners counts each space's listeners (admission.Listeners counts
	// tickets seen in media requests); nil reports none.
	Listeners ListenerCounter
	// Policies is moderation's restrictions per space; the venue keeps a
	// stream per view with a live restriction (nil: none).
	Policies policy.Source
}

// ListenerCounter reports how many listeners a space has.
type ListenerCounter interface{ Count(space string) int }

// Runtime holds the spaces open on this node, one venue each: stage,
// mixer, stream and tape, and nothing else. It learns about spaces from
// Events (a space going live or ending, an invite barred) and from the
// spaces joins name; it never reads the store.
//
// Concurrency: mu guards venues, ended, past and closed, and is never held
// while a venue is built up or torn down. Lock order: Runtime.mu, then
// venue.mu, then ingest.Stage.mu, then ingest.slot.mu or mix.Mixer.mu.
type Runtime struct {
	cfg    RuntimeConfig
	engine *ingest.Engine
	hls    *hls.Server
	rec    record.Storage // nil: recording disabled on this node
	log    *slog.Logger

	mu     sync.Mutex
	venues map[string]*venue
	// ended remembers spaces that ended here in the last endedMemory, so
	// that a request that read the space before it ended opens no venue.
	ended map[string]time.Time
	// past sums the mixer counters of venues closed since start, so that
	// the totals Counts reports never go down.
	past   mix.Stats
	closed bool
}

// endedMemory is how long an ended space is remembered (longer than any
// request that read it live takes to reach the runtime).
const endedMemory = time.Minute

var _ Events = (*Runtime)(nil)

// NewRuntime returns an empty runtime. rec may be nil (no recording).
func NewRuntime(cfg RuntimeConfig, engine *ingest.Engine, hs *hls.Server, rec record.Storage, log *slog.Logger) *Runtime {
	if cfg.MaxSpeakers <= 0 {
		cfg.MaxSpeakers = 10
	}
	return &Runtime{cfg: cfg, engine: engine, hls: hs, rec: rec, log: log, venues: map[string]*venue{}, ended: map[string]time.Time{}}
}

// StateChanged opens the venue of a space that went live and closes the
// venue of one that ended.
func (rt *Runtime) StateChanged(sp space.Space) {
	switch sp.State {
	case space.Live:
		v, err := rt.venue(sp.ID)
		if err != nil {
			return // shutting down
		}
		if err := v.goLive(sp); err != nil {
			rt.log.Error("space cannot go live on this node", "space", sp.ID, "err", err)
		}
	case space.Ended:
		rt.mu.Lock()
		v := rt.venues[sp.ID]
		var before mix.Stats
		if v != nil {
			before = rt.detachLocked(v)
		}
		now := time.Now()
		for id, at := range rt.ended {
			if now.Sub(at) > endedMemory {
				delete(rt.ended, id)
			}
		}
		rt.ended[sp.ID] = now
		rt.mu.Unlock()
		if v != nil {
			rt.retire(v, before, true)
		}
	}
}

// StageChanged bars an invite from the space's stage, opening the venue if
// need be: a join that is negotiating now lands on the same stage and is
// refused there.
func (rt *Runtime) StageChanged(id string, c StageChange) {
	if c.Barred == "" {
		return
	}
	if v, err := rt.venue(id); err == nil {
		v.stage.Bar(c.Barred)
	}
}

// PublicationChanged implements Events; recordings are not the runtime's.
func (rt *Runtime) PublicationChanged(string) {}

// venue returns the venue of space id, opening it.
func (rt *Runtime) venue(id string) (*venue, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return nil, ingest.ErrClosed
	}
	if _, ok := rt.ended[id]; ok {
		return nil, space.ErrEnded
	}
	v := rt.venues[id]
	if v == nil {
		v = newVenue(rt, id)
		rt.venues[id] = v
	}
	return v, nil
}

// open returns the venue of space id if it is open.
func (rt *Runtime) open(id string) *venue {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.venues[id]
}

// detachLocked takes v out of the open venues and moves its mixer's
// counters as of now to the past totals in the same step, so that Counts
// never goes down; it returns that reading for retire.
func (rt *Runtime) detachLocked(v *venue) mix.Stats {
	delete(rt.venues, v.id)
	before, _ := v.mixStats()
	addStats(&rt.past, before)
	return before
}

// retire closes a detached venue and adds what its mixer counted after
// the reading before to the past totals.
func (rt *Runtime) retire(v *venue, before mix.Stats, ended bool) {
	final := v.close(ended)
	rt.mu.Lock()
	addStats(&rt.past, subStats(final, before))
	rt.mu.Unlock()
}

// Join puts the holder of c on the stage of sp with its WHIP offer. name
// overrides the name in the token when not empty.
func (rt *Runtime) Join(ctx context.Context, sp space.Space, c auth.Claims, name string, offer []byte) (speakerID, answer string, err error) {
	if sp.State == space.Ended {
		return "", "", space.ErrEnded
	}
	if name == "" {
		name = c.Name
	}
	if name, err = space.CleanName(name); err != nil {
		return "", "", err
	}
	if name == "" {
		name = string(c.Role)
	}
	v, err := rt.venue(sp.ID)
	if err != nil {
		return "", "", err
	}
	role := "speaker"
	if c.Role != auth.RoleSpeaker {
		role = "host"
	}
	spk, answer, err := v.stage.Join(ctx, offer, ingest.Joiner{Name: name, Role: role, Invite: c.Invite})
	if err != nil {
		return "", "", err
	}
	v.mu.Lock()
	if v.tape != nil {
		v.tape.names.Store(spk.ID, name)
	}
	v.mu.Unlock()
	return spk.ID, answer, nil
}

// speakerOf finds a speaker of an open space and checks that c may act
// on it: hosts on anyone, speakers on themselves.
func (rt *Runtime) speakerOf(id, speakerID string, c auth.Claims) (*venue, error) {
	v := rt.open(id)
	if v == nil {
		return nil, ingest.ErrNoSpeaker
	}
	info, err := v.stage.Info(speakerID)
	if err != nil {
		return nil, err
	}
	if c.Role == auth.RoleSpeaker && info.Invite != c.Invite {
		return nil, fmt.Errorf("%w: not your stage session", ErrForbidden)
	}
	return v, nil
}

// Leave takes a speaker off the stage at their own (or the host's)
// request; they may join again.
func (rt *Runtime) Leave(id, speakerID string, c auth.Claims) error {
	v, err := rt.speakerOf(id, speakerID, c)
	if err != nil {
		return err
	}
	return v.stage.Leave(speakerID)
}

// Mute mutes or unmutes a speaker: a speaker's own mute when c is the
// speaker, the host's mute (which only the host lifts) otherwise. It
// returns the speaker's mutes as they are now.
func (rt *Runtime) Mute(id, speakerID string, muted bool, c auth.Claims) (ingest.SpeakerInfo, error) {
	v, err := rt.speakerOf(id, speakerID, c)
	if err != nil {
		return ingest.SpeakerInfo{}, err
	}
	if c.Role == auth.RoleSpeaker {
		return v.stage.SetSelfMuted(speakerID, muted)
	}
	return v.stage.SetHostMuted(speakerID, muted)
}

// Remove takes a speaker off the stage (host action) and bars their
// invite on it at once; it returns who was removed, so that the caller
// revokes the invite (Spaces.BarInvite).
func (rt *Runtime) Remove(id, speakerID string) (ingest.SpeakerInfo, error) {
	v := rt.open(id)
	if v == nil {
		return ingest.SpeakerInfo{}, ingest.ErrNoSpeaker
	}
	return v.stage.Remove(speakerID)
}

// Status returns the /live document of space id in state, false when the
// space is not open on this node.
func (rt *Runtime) Status(id string, state space.State) ([]byte, bool) {
	v := rt.open(id)
	if v == nil {
		return nil, false
	}
	return v.statusJSON(state, time.Second), true
}

// RecordingProblem is the recording failure of a live space, "" when
// healthy or not live here.
func (rt *Runtime) RecordingProblem(id string) string {
	v := rt.open(id)
	if v == nil {
		return ""
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tape == nil {
		return ""
	}
	return v.tape.problem()
}

// RecordingProblems counts live spaces whose recording is failing.
func (rt *Runtime) RecordingProblems() int {
	n := 0
	for _, v := range rt.openVenues() {
		if rt.RecordingProblem(v.id) != "" {
			n++
		}
	}
	return n
}

// Counts are a node's live figures, for metrics.
type Counts struct {
	LiveSpaces int
	Speakers   int
	// Mix sums the mixer counters of every space live on this node since
	// it started: those live now and those closed. It never goes down.
	Mix mix.Stats
}

// Counts reports live spaces, speakers on stage and mixer totals.
func (rt *Runtime) Counts() Counts {
	rt.mu.Lock()
	c := Counts{Mix: rt.past}
	venues := make([]*venue, 0, len(rt.venues))
	for _, v := range rt.venues {
		venues = append(venues, v)
	}
	// Read the open venues under mu, so that none can move to past
	// between the two readings.
	for _, v := range venues {
		if st, live := v.mixStats(); live {
			c.LiveSpaces++
			addStats(&c.Mix, st)
		}
	}
	rt.mu.Unlock()
	for _, v := range venues {
		c.Speakers += len(v.stage.Speakers())
	}
	return c
}

// addStats adds every counter of src to dst. Every field of mix.Stats is
// a uint64 counter, so none can be forgotten (TestAddStatsEveryField).
func addStats(dst *mix.Stats, src mix.Stats) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src)
	for i := range d.NumField() {
		f := d.Field(i)
		f.SetUint(f.Uint() + s.Field(i).Uint())
	}
}

// subStats returns a-b counter by counter (b read before a).
func subStats(a, b mix.Stats) mix.Stats {
	out := a
	o, bv := reflect.ValueOf(&out).Elem(), reflect.ValueOf(b)
	for i := range o.NumField() {
		f := o.Field(i)
		f.SetUint(f.Uint() - bv.Field(i).Uint())
	}
	return out
}

// Figures are one live space's audience and stage.
type Figures struct{ Listeners, Speakers int }

// LiveFigures reports a space's listener estimate and speakers; zero when
// the space is not open on this node.
func (rt *Runtime) LiveFigures(id string) Figures {
	v := rt.open(id)
	if v == nil {
		return Figures{}
	}
	var f Figures
	v.mu.Lock()
	if v.stream != nil && rt.cfg.Listeners != nil {
		f.Listeners = rt.cfg.Listeners.Count(id)
	}
	v.mu.Unlock()
	f.Speakers = len(v.stage.Speakers())
	return f
}

// openVenues returns the venues open now, so callers can visit them
// without holding mu.
func (rt *Runtime) openVenues() []*venue {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := make([]*venue, 0, len(rt.venues))
	for _, v := range rt.venues {
		out = append(out, v)
	}
	return out
}

// Close closes every venue (not the spaces: a live space stays live and
// resumes on the next start) and opens no more. It returns when every
// stage, mixer and tape has stopped. Safe to call twice.
func (rt *Runtime) Close() {
	rt.mu.Lock()
	rt.closed = true
	before := map[*venue]mix.Stats{}
	for _, v := range rt.venues {
		before[v] = rt.detachLocked(v)
	}
	rt.mu.Unlock()
	var wg sync.WaitGroup
	for v, b := range before {
		wg.Go(func() { rt.retire(v, b, false) })
	}
	wg.Wait()
}
