package live

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/ingest"
	"github.com/podium-live/podium/internal/mix"
	"github.com/podium-live/podium/internal/space"
)

// room is the runtime of one open space: its stage always, and while live
// its mixer and HLS stream.
type room struct {
	svc   *Service
	id    string
	stage *ingest.Stage

	mu sync.Mutex // guards the fields below
	// state is the space's state as last seen by the room.
	state  space.State
	mixer  *mix.Mixer
	stream *hls.Stream
	cancel context.CancelFunc
	done   chan struct{}
	// tape records the mix; nil when the space is not recorded.
	tape *tape
	// status is the prebuilt /live JSON and when it was built.
	status   []byte
	statusAt time.Time
}

func newRoom(s *Service, sp space.Space) *room {
	r := &room{svc: s, id: sp.ID, state: sp.State}
	r.stage = s.engine.NewStage(sp.ID, s.cfg.MaxSpeakers, nil)
	return r
}

// mixAdapter lets the stage feed a mix.Mixer.
type mixAdapter struct{ m *mix.Mixer }

func (a mixAdapter) Add(id string) ingest.PacketSink { return a.m.AddSource(id) }
func (a mixAdapter) Remove(id string)                { a.m.RemoveSource(id) }
func (a mixAdapter) SetMuted(id string, muted bool)  { a.m.SetMuted(id, muted) }

// goLive starts the mixer and stream. Idempotent.
func (r *room) goLive(sp space.Space) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state = space.Live
	if r.mixer != nil {
		return nil
	}
	stream := hls.NewStream(sp.ID, sp.StartedAt, r.svc.now(), r.svc.cfg.HLS)
	var tp *tape
	if sp.Record && r.svc.rec != nil {
		tp = newTape(r.svc.rec, sp.ID, r.svc.cfg.Record, r.svc.log)
		for _, s := range r.stage.Speakers() {
			tp.names.Store(s.ID, s.Name)
		}
	}
	var m *mix.Mixer
	m, err := mix.New(r.svc.cfg.Mix, func(_ int64, pkt []byte) {
		stream.WriteFrame(pkt)
		if tp != nil {
			tp.frame(m, pkt)
		}
	}, r.svc.log.With("space", sp.ID))
	if err != nil {
		if tp != nil {
			tp.close()
		}
		return err
	}
	r.tape = tp
	ctx, cancel := context.WithCancel(context.Background())
	r.mixer, r.stream, r.cancel, r.done = m, stream, cancel, make(chan struct{})
	r.svc.hls.Add(stream)
	r.stage.AttachMix(mixAdapter{m})
	go func(done chan struct{}) {
		defer close(done)
		if err := m.Run(ctx); err != nil {
			r.svc.log.Error("mixer stopped", "space", r.id, "err", err)
		}
	}(r.done)
	r.status = nil
	return nil
}

// close releases the room. ended says the space ended (the stream gets its
// end marker); otherwise the node is shutting down and the space resumes
// on restart.
func (r *room) close(ended bool) {
	r.stage.Close()
	r.mu.Lock()
	cancel, done, stream, tp := r.cancel, r.done, r.stream, r.tape
	r.mixer, r.cancel, r.tape = nil, nil, nil
	if ended {
		r.state = space.Ended
	}
	r.mu.Unlock()
	r.stage.AttachMix(nil)
	if cancel != nil {
		cancel()
		<-done
	}
	if tp != nil {
		tp.close() // after the mixer stopped: no frame can follow
		if r.svc.replay != nil {
			r.svc.replay.Forget(r.id)
		}
	}
	if stream != nil {
		stream.Close()
		if ended {
			// Keep serving the final playlist for players that are
			// still catching up; the next issue's recording takes over.
			time.AfterFunc(time.Minute, func() { r.svc.hls.Remove(r.id) })
		} else {
			r.svc.hls.Remove(r.id)
		}
	}
}

func (r *room) addCounts(c *Counts) {
	r.mu.Lock()
	if r.state == space.Live {
		c.LiveSpaces++
	}
	if r.mixer != nil {
		st := r.mixer.Stats()
		m := &c.Mix
		m.Frames += st.Frames
		m.Overruns += st.Overruns
		m.Packets += st.Packets
		m.Late += st.Late
		m.Dropped += st.Dropped
		m.Concealed += st.Concealed
		m.Underruns += st.Underruns
	}
	r.mu.Unlock()
	c.Speakers += len(r.stage.Speakers())
}

// LiveStatus is the /live document.
type LiveStatus struct {
	State     space.State    `json:"state"`
	Listeners int            `json:"listeners"`
	Speakers  []SpeakerState `json:"speakers"`
	Recorded  bool           `json:"recorded"`
	// RecordingError is set while the recording is failing (e.g. disk full).
	RecordingError string `json:"recording_error,omitempty"`
}

// SpeakerState is one speaker in LiveStatus.
type SpeakerState struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Role     string  `json:"role"`
	Muted    bool    `json:"muted"`
	Level    float32 `json:"level"`
	Speaking bool    `json:"speaking"`
}

// statusJSON returns the live status, rebuilt at most every maxAge so that
// a crowd polling it costs one build per interval.
func (r *room) statusJSON(maxAge time.Duration) []byte {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status != nil && now.Sub(r.statusAt) < maxAge {
		return r.status
	}
	st := LiveStatus{State: r.state, Speakers: []SpeakerState{}}
	levels := map[string]mix.Level{}
	if r.mixer != nil {
		for _, l := range r.mixer.Levels() {
			levels[l.ID] = l
		}
	}
	if r.stream != nil && r.svc.cfg.Listeners != nil {
		st.Listeners = r.svc.cfg.Listeners.Count(r.id)
	}
	if r.tape != nil {
		st.Recorded = true
		st.RecordingError = r.tape.problem()
	}
	for _, sp := range r.stage.Speakers() {
		l := levels[sp.ID]
		st.Speakers = append(st.Speakers, SpeakerState{ID: sp.ID, Name: sp.Name, Role: sp.Role, Muted: sp.Muted, Level: l.Level, Speaking: l.Speaking && !sp.Muted})
	}
	r.status, _ = json.Marshal(st)
	r.statusAt = now
	return r.status
}
