package live

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/ingest"
	"github.com/podium-live/podium/internal/space"
	"github.com/podium-live/podium/internal/store"
)

// recorder remembers the events it got, in order.
type recorder struct {
	NoEvents
	mu     sync.Mutex
	states []space.State
}

func (r *recorder) StateChanged(sp space.Space) {
	r.mu.Lock()
	r.states = append(r.states, sp.State)
	r.mu.Unlock()
}

type fixture struct {
	rt     *Runtime
	spaces *Spaces
	events *recorder
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	signer, err := auth.NewSigner(auth.NewKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	engine, err := ingest.NewEngine(ingest.Config{Loopback: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	rt := NewRuntime(RuntimeConfig{}, engine, hls.NewServer(log), nil, log)
	t.Cleanup(rt.Close)
	rec := &recorder{}
	return fixture{rt: rt, spaces: NewSpaces(SpacesConfig{}, st, signer, Fanout{rt, rec}, log), events: rec}
}

// TestStartEndSerialized: concurrent starts and ends of one space are
// stored and reported one after the other: the events say live at most
// once, then ended, and nothing stays open.
func TestStartEndSerialized(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for range 10 {
		sp, _, err := f.spaces.Create(ctx, "Race", "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		f.events.mu.Lock()
		f.events.states = nil
		f.events.mu.Unlock()
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				var err error
				if i%2 == 0 {
					_, err = f.spaces.Start(ctx, sp.ID)
				} else {
					_, err = f.spaces.End(ctx, sp.ID)
				}
				if err != nil && !errors.Is(err, space.ErrEnded) && !errors.Is(err, space.ErrAlreadyLive) {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		f.events.mu.Lock()
		got := append([]space.State(nil), f.events.states...)
		f.events.mu.Unlock()
		ok := len(got) == 1 && got[0] == space.Ended || len(got) == 2 && got[0] == space.Live && got[1] == space.Ended
		if !ok {
			t.Fatalf("events %v, want [live ended] or [ended]", got)
		}
		if f.rt.open(sp.ID) != nil {
			t.Fatal("a venue is open after the space ended")
		}
	}
}

// TestRevokeAfterEndOpensNothing: revoking an invite of an ended space
// opens no venue (it would never close).
func TestRevokeAfterEndOpensNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sp, _, err := f.spaces.Create(ctx, "Done", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	inv, _, err := f.spaces.NewInvite(ctx, sp.ID, "Ann", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.spaces.End(ctx, sp.ID); err != nil {
		t.Fatal(err)
	}
	f.rt.mu.Lock()
	clear(f.rt.ended) // as after a restart, or long after the end
	f.rt.mu.Unlock()
	if err := f.spaces.RevokeInvite(ctx, sp.ID, inv.ID); err != nil {
		t.Fatal(err)
	}
	if f.rt.open(sp.ID) != nil {
		t.Fatal("revoking an ended space's invite opened a venue")
	}
	// While scheduled, a revocation bars the invite on the stage.
	sp2, _, _ := f.spaces.Create(ctx, "Later", "", time.Time{})
	inv2, _, _ := f.spaces.NewInvite(ctx, sp2.ID, "Bo", 0)
	if err := f.spaces.RevokeInvite(ctx, sp2.ID, inv2.ID); err != nil {
		t.Fatal(err)
	}
	if f.rt.open(sp2.ID) == nil {
		t.Fatal("revocation did not reach the stage")
	}
}
