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
	m, err := mix.New(r.svc.cfg.Mix, func(_ int64, pkt []byte) { stream.WriteFrame(pkt) }, r.svc.log.With("space", sp.ID))
	if err != nil {
		return err
	}
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
	cancel, done, stream := r.cancel, r.done, r.stream
	r.mixer, r.cancel = nil, nil
	if ended {
		r.state = space.Ended
	}
	r.mu.Unlock()
	r.stage.AttachMix(nil)
	if cancel != nil {
		cancel()
		<-done
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

func (r *room) counts() (live bool, speakers int, overruns uint64) {
	r.mu.Lock()
	live = r.state == space.Live
	if r.mixer != nil {
		overruns = r.mixer.Overruns()
	}
	r.mu.Unlock()
	return live, len(r.stage.Speakers()), overruns
}

// LiveStatus is the /live document.
type LiveStatus struct {
	State     space.State    `json:"state"`
	Listeners int            `json:"listeners"`
	Speakers  []SpeakerState `json:"speakers"`
	Recorded  bool           `json:"recorded"`
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
	if r.stream != nil {
		st.Listeners = r.stream.ListenerEstimate()
	}
	for _, sp := range r.stage.Speakers() {
		l := levels[sp.ID]
		st.Speakers = append(st.Speakers, SpeakerState{ID: sp.ID, Name: sp.Name, Role: sp.Role, Muted: sp.Muted, Level: l.Level, Speaking: l.Speaking && !sp.Muted})
	}
	r.status, _ = json.Marshal(st)
	r.statusAt = now
	return r.status
}
