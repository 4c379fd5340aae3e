package live

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/podium-live/podium/internal/mix"
	"github.com/podium-live/podium/internal/record"
)

// tape is the recording side of a live venue: it feeds the mixed frames to a
// record.Recorder and keeps trying to start one when storage refuses.
//
// frame runs on the mixer goroutine and only reads atomics and the names
// map; start and close run on the venue's goroutines.
type tape struct {
	store record.Storage
	id    string
	log   *slog.Logger
	opts  record.Options

	rec      atomic.Pointer[record.Recorder]
	startErr atomic.Pointer[string]
	// names maps speaker ids to display names; written at join, read by frame.
	names sync.Map
	// speaking is frame's scratch slice (mixer goroutine only).
	speaking []record.Speaker

	cancel context.CancelFunc
	done   chan struct{}
}

func newTape(st record.Storage, id string, opts record.Options, log *slog.Logger) *tape {
	t := &tape{store: st, id: id, opts: opts, log: log, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	go t.run(ctx)
	return t
}

// run starts the recorder, retrying while storage refuses.
func (t *tape) run(ctx context.Context) {
	defer close(t.done)
	retry := t.opts.RetryEvery
	if retry <= 0 {
		retry = 5 * time.Second
	}
	for {
		rec, err := record.Start(t.store, t.id, time.Now(), t.opts, t.log)
		if err == nil {
			t.startErr.Store(nil)
			t.rec.Store(rec)
			return
		}
		msg := "recording cannot start: " + err.Error() + "; live stream unaffected, retrying"
		if t.startErr.Swap(&msg) == nil {
			t.log.Error("recording cannot start", "space", t.id, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
	}
}

// frame records one mixed frame with who is speaking in it.
func (t *tape) frame(m *mix.Mixer, pkt []byte) {
	rec := t.rec.Load()
	if rec == nil {
		return
	}
	t.speaking = t.speaking[:0]
	for _, l := range m.Levels() {
		if !l.Speaking {
			continue
		}
		name, _ := t.names.Load(l.ID)
		n, _ := name.(string)
		t.speaking = append(t.speaking, record.Speaker{ID: l.ID, Name: n})
	}
	rec.WriteFrame(pkt, t.speaking)
}

// problem is the loud message for hosts and operators, "" when healthy.
func (t *tape) problem() string {
	if p := t.startErr.Load(); p != nil {
		return *p
	}
	if rec := t.rec.Load(); rec != nil {
		if st := rec.Status(); st.Failing {
			return st.Err
		}
	}
	return ""
}

// close stops retrying and finishes the session.
func (t *tape) close() {
	t.cancel()
	<-t.done
	if rec := t.rec.Load(); rec != nil {
		if err := rec.Close(); err != nil {
			t.log.Error("recording close", "space", t.id, "err", err)
		}
	}
}
