package admission

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestListenersCountTicketsNotRequests(t *testing.T) {
	clk := newClock()
	l := NewListeners(clk.Now)
	tk, _ := NewTickets(testKey(1), time.Hour, clk.Now)
	tok, _, _ := tk.Issue("sp_a", "")
	id, _, err := tk.Verify(tok, "sp_a")
	if err != nil {
		t.Fatal(err)
	}
	// One hls.js-like player polling ten times a second for 20 s: one.
	for range 200 {
		l.Seen("sp_a", id)
		clk.Add(100 * time.Millisecond)
	}
	if got := l.Count("sp_a"); got != 1 {
		t.Errorf("one ticket polled 200 times: count %d, want 1", got)
	}
	// Its renewal is the same listener.
	renewed, _, _, err := tk.Renew(tok, "sp_a")
	if err != nil {
		t.Fatal(err)
	}
	rid, _, _ := tk.Verify(renewed, "sp_a")
	if rid != id {
		t.Fatalf("renewal changed the ticket id: %x -> %x", id, rid)
	}
	// A classic player: one segment every 2 s with its own ticket.
	classic, _, _ := tk.Issue("sp_a", "")
	if cid, _, _ := tk.Verify(classic, "sp_a"); cid == id {
		t.Fatal("two tickets with one id")
	}
	// Two random ids share a register once in 4,096 (the estimator's
	// error): from here on fixed ids and a fixed seed keep the test exact.
	l = NewListeners(clk.Now)
	l.seed = 0
	for range 10 {
		l.Seen("sp_a", 1)
		l.Seen("sp_a", 2)
		clk.Add(2 * time.Second)
		if got := l.Count("sp_a"); got != 2 {
			t.Fatalf("hls.js player and a segment-every-2-s player: count %d, want 2", got)
		}
	}
	if got, other := l.Total(), l.Count("sp_b"); got != 2 || other != 0 {
		t.Errorf("total %d (want 2), other space %d (want 0)", got, other)
	}
	// They leave: gone within two windows, and the space is dropped.
	clk.Add(2*ListenerWindow + time.Millisecond)
	if got := l.Total(); got != 0 || l.Spaces() != 0 {
		t.Errorf("after they left: total %d, %d spaces held; want 0, 0", got, l.Spaces())
	}
}

func TestListenersEstimateError(t *testing.T) {
	clk := newClock()
	l := NewListeners(clk.Now)
	for _, n := range []int{10, 100, 1000, 20000} {
		l := NewListeners(clk.Now)
		for i := range n {
			l.Seen("sp_a", uint64(i)*0x9e3779b97f4a7c15)
		}
		got := l.Count("sp_a")
		// About 4.5 standard errors (see Listeners): never flaky, still
		// catching a broken estimator.
		tol := math.Max(2, 0.05*float64(n))
		if n > 10000 {
			tol = 0.07 * float64(n)
		}
		if math.Abs(float64(got-n)) > tol {
			t.Errorf("%d listeners counted as %d (tolerance %.0f)", n, got, tol)
		}
	}
	// Memory is fixed however many ids pass.
	for i := range 1_000_000 {
		l.Seen("sp_a", uint64(i))
	}
	if l.Spaces() != 1 {
		t.Errorf("%d sketches", l.Spaces())
	}
}

func TestListenersConcurrent(t *testing.T) {
	clk := newClock()
	l := NewListeners(clk.Now)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5000 {
				l.Seen("sp_a", uint64(i%50+g*50))
				if i%100 == 0 {
					l.Total()
				}
			}
		}()
	}
	wg.Wait()
	// Linear counting's standard error at 200 is about 2.2.
	if got := l.Count("sp_a"); got < 190 || got > 210 {
		t.Errorf("200 ids from 4 goroutines: %d", got)
	}
}

func BenchmarkListenersSeen(b *testing.B) {
	l := NewListeners(nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var i uint64
		for pb.Next() {
			i++
			l.Seen("sp_a", i%1000)
		}
	})
	if b.N >= 10000 {
		if got := l.Count("sp_a"); got < 950 || got > 1050 {
			b.Fatalf("1000 ids counted as %d", got)
		}
	}
}
