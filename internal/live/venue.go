package live

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/ingest"
	"github.com/podium-live/podium/internal/mix"
	"github.com/podium-live/podium/internal/policy"
	"github.com/podium-live/podium/internal/space"
)

// venue is the runtime of one space open on this node: its stage always,
// and while live its mixer, HLS stream and recording tape. (Waiting rooms
// are admission's, not this.)
type venue struct {
	rt    *Runtime
	id    string
	stage *ingest.Stage

	mu sync.Mutex // guards the fields below
	// mixer, stream, cancel and done are set while the space is live.
	mixer  *mix.Mixer
	stream *hls.Stream
	// monitor is the undelayed feed (/hls/{id}/monitor/…), delay the
	// audience's delay line between the mixer and stream.
	monitor *hls.Stream
	delay   *delayLine
	// views are the streams of the policy's live views (mixer goroutine's
	// while it runs; closed after it stopped).
	views  *liveViews
	cancel context.CancelFunc
	done   chan struct{}
	// tape records the mix; nil when the space is not recorded.
	tape *tape
	// closed is set by close: the venue never goes live again.
	closed bool
	// hostDelay is the delay the host chose, floorDelay the operator's
	// floor; the audience's delay is the larger. They live with the venue
	// (TODO: persist with the space in the store; until then a node
	// restart or the space ending forgets them).
	hostDelay, floorDelay time.Duration
	// status is the prebuilt /live JSON, the state and stage version it
	// shows, and when it was built.
	status      []byte
	statusAt    time.Time
	statusState space.State
	statusStage uint64
	// statusPolicy is the policy the status was built from, policyVersion
	// counts the changes of it seen here.
	statusPolicy  *policy.Policy
	policyVersion uint64
}

func newVenue(rt *Runtime, id string) *venue {
	return &venue{rt: rt, id: id, stage: rt.engine.NewStage(id, rt.cfg.MaxSpeakers)}
}

// mixAdapter lets the stage feed a mix.Mixer.
type mixAdapter struct{ m *mix.Mixer }

func (a mixAdapter) Add(id string) ingest.PacketSink { return a.m.AddSource(id) }
func (a mixAdapter) Remove(id string)                { a.m.RemoveSource(id) }
func (a mixAdapter) SetMuted(id string, muted bool)  { a.m.SetMuted(id, muted) }

// goLive starts the mixer and stream. Idempotent. The mixer, stream and
// tape are built without v.mu (a scrape of the runtime's counters waits on
// it under Runtime.mu) and installed under it; a space's goLive calls are
// serialized by its transition lock.
func (v *venue) goLive(sp space.Space) error {
	v.mu.Lock()
	done := v.mixer != nil || v.closed
	v.mu.Unlock()
	if done {
		return nil
	}
	rt := v.rt
	now := time.Now()
	stream := hls.NewStream(sp.ID, sp.StartedAt, now, rt.cfg.HLS)
	monitor := hls.NewView(sp.ID, MonitorView, true, sp.StartedAt, now, rt.cfg.HLS)
	dl := newDelayLine(silencePacket())
	views := newLiveViews(rt, sp.ID, sp.StartedAt, rt.cfg.HLS)
	var tp *tape
	if sp.Record && rt.rec != nil {
		tp = newTape(rt.rec, sp.ID, rt.cfg.Record, rt.log)
		for _, s := range v.stage.Speakers() {
			tp.names.Store(s.ID, s.Name)
		}
	}
	var m *mix.Mixer
	// The output path, on the mixer goroutine: the monitor and the tape
	// get the frame as mixed, the audience what leaves the delay line.
	m, err := mix.New(rt.cfg.Mix, func(_ int64, pkt []byte) {
		monitor.WriteFrame(pkt)
		if tp != nil {
			tp.frame(m, pkt)
		}
		now := time.Now()
		out := dl.push(pkt, m.Levels(), now)
		stream.WriteFrame(out)
		views.write(out, dl.silence, now)
	}, rt.log.With("space", sp.ID))
	if err != nil {
		if tp != nil {
			tp.close()
		}
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.mixer != nil || v.closed {
		if tp != nil {
			tp.close()
		}
		return nil
	}
	v.tape = tp
	dl.setDelay(max(v.hostDelay, v.floorDelay))
	ctx, cancel := context.WithCancel(context.Background())
	v.mixer, v.stream, v.cancel, v.done = m, stream, cancel, make(chan struct{})
	v.monitor, v.delay, v.views = monitor, dl, views
	rt.hls.Add(stream)
	rt.hls.Add(monitor)
	v.stage.AttachMix(mixAdapter{m})
	go func(done chan struct{}) {
		defer close(done)
		if err := m.Run(ctx); err != nil {
			rt.log.Error("mixer stopped", "space", v.id, "err", err)
		}
	}(v.done)
	v.status = nil
	return nil
}

// close releases the venue and returns its mixer's final counters. ended
// says the space ended (the stream gets its end marker); otherwise the
// node is shutting down and the space resumes on restart.
func (v *venue) close(ended bool) mix.Stats {
	v.stage.Close()
	v.mu.Lock()
	cancel, done, stream, tp, m, monitor, views := v.cancel, v.done, v.stream, v.tape, v.mixer, v.monitor, v.views
	v.mixer, v.cancel, v.tape, v.closed = nil, nil, nil, true
	v.mu.Unlock()
	v.stage.AttachMix(nil)
	var final mix.Stats
	if cancel != nil {
		cancel()
		<-done
		final = m.Stats()
	}
	if tp != nil {
		tp.close() // after the mixer stopped: no frame can follow
	}
	if stream != nil {
		stream.Close()
		monitor.Close()
		views.close()
		if ended {
			// Keep serving the final playlist for players that are
			// still catching up; the recording takes over.
			time.AfterFunc(time.Minute, func() {
				v.rt.hls.Remove(v.id)
				v.rt.hls.RemoveView(v.id, MonitorView)
				views.unregister()
			})
		} else {
			v.rt.hls.Remove(v.id)
			v.rt.hls.RemoveView(v.id, MonitorView)
			views.unregister()
		}
	}
	return final
}

// mixStats reads the mixer's counters; zero when not live.
func (v *venue) mixStats() (mix.Stats, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.mixer == nil {
		return mix.Stats{}, false
	}
	return v.mixer.Stats(), true
}

// LiveStatus is the /live document.
type LiveStatus struct {
	State     space.State    `json:"state"`
	Listeners int            `json:"listeners"`
	Speakers  []SpeakerState `json:"speakers"`
	Recorded  bool           `json:"recorded"`
	// DelaySeconds is the audience's delay; Speakers' levels are those of
	// the delayed audio, what listeners hear now.
	DelaySeconds int `json:"delay_seconds"`
	// Restrictions are the live restrictions in force (a listener page
	// shows "withheld in DE"); Policy changes whenever the space's policy
	// does (the player then renews its ticket and switches view). It
	// counts changes seen by this node.
	Restrictions []LiveRestriction `json:"restrictions"`
	Policy       uint64            `json:"policy"`
	// RecordingError is set while the recording is failing (e.g. disk full).
	RecordingError string `json:"recording_error,omitempty"`
}

// LiveRestriction is a live restriction in LiveStatus.
type LiveRestriction struct {
	ID           string             `json:"id"`
	Territories  []policy.Territory `json:"territories"`
	Since        time.Time          `json:"since"`
	Text         string             `json:"text"`
	StatementURL string             `json:"statement_url"`
}

// SpeakerState is one speaker in LiveStatus.
type SpeakerState struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
	// Muted says the speaker is not heard: SelfMuted (their own) or
	// HostMuted (the host's, which only the host lifts).
	Muted     bool    `json:"muted"`
	SelfMuted bool    `json:"self_muted"`
	HostMuted bool    `json:"host_muted"`
	Level     float32 `json:"level"`
	Speaking  bool    `json:"speaking"`
}

// statusJSON returns the live status, rebuilt when the state or the stage
// changed and otherwise at most every maxAge, so that a crowd polling it
// costs one build per interval.
func (v *venue) statusJSON(state space.State, maxAge time.Duration) []byte {
	now := time.Now()
	stageVersion := v.stage.Version()
	var pol *policy.Policy
	if v.rt.cfg.Policies != nil {
		pol = v.rt.cfg.Policies.Policy(v.id)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.status != nil && now.Sub(v.statusAt) < maxAge && v.statusState == state && v.statusStage == stageVersion && v.statusPolicy == pol {
		return v.status
	}
	if pol != v.statusPolicy {
		v.policyVersion++
		v.statusPolicy = pol
	}
	st := LiveStatus{State: state, Speakers: []SpeakerState{}, Restrictions: []LiveRestriction{}, Policy: v.policyVersion}
	for _, r := range pol.Restrictions() {
		if r.Kind == policy.SilenceLive || r.Kind == policy.WithholdRecording {
			st.Restrictions = append(st.Restrictions, LiveRestriction{ID: r.ID, Territories: r.Territories, Since: r.Since,
				Text: r.Text, StatementURL: "/statements/" + r.ID})
		}
	}
	levels := map[string]mix.Level{}
	if v.delay != nil {
		for _, l := range v.delay.levels() {
			levels[l.ID] = l
		}
	}
	st.DelaySeconds = int(max(v.hostDelay, v.floorDelay) / time.Second)
	if v.stream != nil && v.rt.cfg.Listeners != nil {
		st.Listeners = v.rt.cfg.Listeners.Count(v.id)
	}
	if v.tape != nil {
		st.Recorded = true
		st.RecordingError = v.tape.problem()
	}
	for _, sp := range v.stage.Speakers() {
		l := levels[sp.ID]
		st.Speakers = append(st.Speakers, SpeakerState{ID: sp.ID, Name: sp.Name, Role: sp.Role,
			Muted: sp.Muted(), SelfMuted: sp.SelfMuted, HostMuted: sp.HostMuted, Level: l.Level, Speaking: l.Speaking && !sp.Muted()})
	}
	v.status, _ = json.Marshal(st)
	v.statusAt, v.statusState, v.statusStage = now, state, stageVersion
	return v.status
}

// MonitorView is the view segment of the undelayed feed.
const MonitorView = "monitor"

// Delay is a space's audience delay as set: the host's choice, the
// operator's floor and the one in force (the larger).
type Delay struct {
	Host, Floor, Effective time.Duration
}

// setDelay sets the host's delay, or with operator the floor, and applies
// the result to the delay line. The check (a host below the floor) and the
// change are under v.mu.
func (v *venue) setDelay(d time.Duration, operator bool) (Delay, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if operator {
		v.floorDelay = d
	} else {
		if d < v.floorDelay {
			return v.delayLocked(), fmt.Errorf("%w: %d s", ErrDelayFloor, v.floorDelay/time.Second)
		}
		v.hostDelay = d
	}
	if v.delay != nil {
		v.delay.setDelay(max(v.hostDelay, v.floorDelay))
	}
	v.status = nil
	return v.delayLocked(), nil
}

func (v *venue) delayLocked() Delay {
	return Delay{Host: v.hostDelay, Floor: v.floorDelay, Effective: max(v.hostDelay, v.floorDelay)}
}
