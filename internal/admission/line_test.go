package admission

import (
	"errors"
	"math"
	"testing"
	"time"
)

func newTestLine(t testing.TB, cfg LineConfig) *Line {
	t.Helper()
	r, err := NewLine("sp_abcdefghjkmn", testKey(3), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLineFIFO(t *testing.T) {
	clk := newClock()
	head := false // full while they arrive, then room frees up
	r := newTestLine(t, LineConfig{AdmitRate: 10, Headroom: func() bool { return head }})
	toks := make([]string, 100)
	for i := range toks {
		d := r.join(clk.Now())
		if d.Admit {
			t.Fatalf("join %d admitted with no headroom", i)
		}
		if d.Position != i+1 {
			t.Fatalf("join %d: position %d, want %d (positions start at 1)", i, d.Position, i+1)
		}
		// A full node's line stands still: no estimate, and it says so.
		if d.Moving || d.Estimate != 0 {
			t.Errorf("join %d on a full node: moving %v, estimate %v; want no estimate", i, d.Moving, d.Estimate)
		}
		if d.RetryAfter < time.Second || d.RetryAfter > 10*time.Second || d.RetryAfter%time.Second != 0 {
			t.Errorf("join %d: retry after %v", i, d.RetryAfter)
		}
		toks[i] = d.QueueToken
	}
	head = true
	for round := 1; round <= 3; round++ {
		clk.Add(time.Second)
		admitted := 0
		for i, tok := range toks {
			d, err := r.wait(tok, clk.Now())
			if err != nil {
				t.Fatalf("round %d wait %d: %v", round, i, err)
			}
			if d.Admit {
				if i != admitted {
					t.Fatalf("round %d: %d admitted out of order (after %d)", round, i, admitted)
				}
				admitted++
				continue
			}
			toks[i] = d.QueueToken // fresh token
			if want := i - round*10 + 1; d.Position != want {
				t.Errorf("round %d wait %d: position %d, want %d", round, i, d.Position, want)
			}
			// Moving at 10/s: an estimate that matches the position.
			want := float64(d.Position) / 10
			if got := d.Estimate.Seconds(); !d.Moving || math.Abs(got-want) > 0.2*want+0.1 {
				t.Errorf("round %d wait %d: moving %v, estimate %.2fs, want %.2fs", round, i, d.Moving, got, want)
			}
		}
		if admitted < 9*round || admitted > 11*round {
			t.Errorf("after %d s: %d admitted, want ~%d", round, admitted, 10*round)
		}
	}
}

func TestLineHeadroom(t *testing.T) {
	clk := newClock()
	head := false
	r := newTestLine(t, LineConfig{AdmitRate: 2, Headroom: func() bool { return head }})
	d := r.join(clk.Now())
	if d.Admit {
		t.Fatal("admitted without headroom")
	}
	// A full node admits nobody, however long they wait.
	clk.Add(10 * time.Second)
	if got, err := r.wait(d.QueueToken, clk.Now()); err != nil || got.Admit || got.Position != 1 || got.Moving {
		t.Fatalf("full node after 10 s: %+v, %v; want still first in line, not moving", got, err)
	}
	// With headroom the line moves at AdmitRate, not all at once.
	head = true
	var toks []string
	for i := 0; i < 10; i++ {
		toks = append(toks, r.join(clk.Now()).QueueToken)
	}
	clk.Add(time.Second)
	if got, err := r.wait(d.QueueToken, clk.Now()); err != nil || !got.Admit {
		t.Fatalf("first in line with headroom: %+v, %v; want admitted", got, err)
	}
	admitted := 0
	for _, tok := range toks {
		if got, _ := r.wait(tok, clk.Now()); got.Admit {
			admitted++
		}
	}
	if admitted > 2 {
		t.Errorf("%d of 10 newcomers admitted within a second at 2/s, want at most 2", admitted)
	}
	// The node fills again: credit is withdrawn and newcomers queue.
	head = false
	if got := r.join(clk.Now()); got.Admit {
		t.Fatalf("newcomer on a full node: %+v", got)
	}
	// Waiters whose turn came while there was room, polling only now that
	// the node is full, wait at the front instead of overshooting it.
	clk.Add(10 * time.Second)
	for i, tok := range toks {
		got, err := r.wait(tok, clk.Now())
		if err != nil || got.Admit || got.Position < 1 || got.Position > len(toks) {
			t.Fatalf("waiter %d on a full node: %+v, %v; want queued with a position", i, got, err)
		}
	}
	head = true
	if got, err := r.wait(toks[0], clk.Now()); err != nil || !got.Admit {
		t.Fatalf("first waiter once there is room: %+v, %v; want admitted", got, err)
	}
}

func TestLineTokens(t *testing.T) {
	clk := newClock()
	r := newTestLine(t, LineConfig{AdmitRate: 1, TokenTTL: time.Minute})
	other, _ := NewLine("sp_abcdefghjkmn", testKey(4), LineConfig{AdmitRate: 1})
	elsewhere, _ := NewLine("sp_zzzzzzzzzzzz", testKey(3), LineConfig{AdmitRate: 1})
	tok := r.join(clk.Now()).QueueToken
	cases := []struct {
		name string
		tok  string
		want error
	}{
		{"forged", other.join(clk.Now()).QueueToken, ErrQueueForged},
		{"other space", elsewhere.join(clk.Now()).QueueToken, ErrQueueOtherSpace},
		{"malformed", "not a token", ErrQueueMalformed},
		{"truncated", tok[:10], ErrQueueMalformed},
	}
	for _, c := range cases {
		if _, err := r.wait(c.tok, clk.Now()); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
	clk.Add(time.Minute + time.Millisecond)
	if _, err := r.wait(tok, clk.Now()); !errors.Is(err, ErrQueueExpired) {
		t.Errorf("expired: err %v, want %v", err, ErrQueueExpired)
	}
	// Same key and space, other epoch (a restart): queued again, not refused.
	before := newTestLine(t, LineConfig{AdmitRate: 1})
	restarted := newTestLine(t, LineConfig{AdmitRate: 1})
	restarted.join(clk.Now())
	if d, err := restarted.wait(before.join(clk.Now()).QueueToken, clk.Now()); err != nil || d.QueueToken == "" || d.Position != 2 {
		t.Errorf("other epoch: %+v, %v; want requeued", d, err)
	}
}

func TestLineMemoryIsConstant(t *testing.T) {
	// The line has no per-waiter state: its size is fixed by its type, and
	// 100,000 waiters leave only the counters changed.
	clk := newClock()
	r := newTestLine(t, LineConfig{AdmitRate: 10})
	for range 100000 {
		r.join(clk.Now())
	}
	if r.arrived != 100000 || r.Waiting() != 100000 {
		t.Errorf("arrived %d waiting %d", r.arrived, r.Waiting())
	}
}

func TestLineLottery(t *testing.T) {
	clk := newClock()
	start := clk.Now().Add(time.Minute)
	r := newTestLine(t, LineConfig{AdmitRate: 100, LotteryAt: start})
	const n = 50
	toks := make([]string, n)
	for i := range toks {
		d := r.join(clk.Now())
		if d.Admit || d.Position != -1 || d.Estimate != time.Minute {
			t.Fatalf("before draw: %+v", d)
		}
		toks[i] = d.QueueToken
	}
	clk.Add(time.Minute)
	late := r.join(clk.Now())
	if late.Position != n+1 {
		t.Errorf("late arrival position %d, want %d", late.Position, n+1)
	}
	seen := make(map[int]bool)
	inOrder := true
	for i, tok := range toks {
		d, err := r.wait(tok, clk.Now())
		if err != nil || d.Admit {
			t.Fatalf("wait %d: %+v %v", i, d, err)
		}
		if d.Position < 1 || d.Position > n || seen[d.Position] {
			t.Fatalf("wait %d: position %d repeated or out of range", i, d.Position)
		}
		seen[d.Position] = true
		inOrder = inOrder && d.Position == i+1
	}
	if inOrder {
		t.Error("lottery kept arrival order")
	}
}

func TestPermute(t *testing.T) {
	key := [4]uint64{1, 2, 3, 4}
	for _, n := range []uint64{1, 2, 3, 7, 100, 1025} {
		seen := make([]bool, n)
		for i := range n {
			p := permute(i, n, &key)
			if p >= n || seen[p] {
				t.Fatalf("n=%d: permute(%d)=%d out of range or repeated", n, i, p)
			}
			seen[p] = true
		}
	}
}

func FuzzLineWait(f *testing.F) {
	clk := newClock()
	r := newTestLine(f, LineConfig{AdmitRate: 10})
	f.Add(r.join(clk.Now()).QueueToken)
	f.Add("")
	f.Add("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")
	f.Fuzz(func(t *testing.T, tok string) {
		d, err := r.wait(tok, clk.Now())
		if err != nil && (d.Admit || d.QueueToken != "") {
			t.Fatalf("error %v with decision %+v", err, d)
		}
	})
}

func TestLineFreshStartsWithCredit(t *testing.T) {
	clk := newClock()
	r := newTestLine(t, LineConfig{AdmitRate: 5, Headroom: func() bool { return true }})
	admitted := 0
	for i := 0; i < 8; i++ {
		if r.join(clk.Now()).Admit {
			admitted++
		}
	}
	if admitted != 5 {
		t.Fatalf("fresh room with headroom admitted %d of 8 at once, want 5 (one second of credit)", admitted)
	}
}

// join and wait are Join and Wait without a proof of work, for lines that
// need none.
func (r *Line) join(now time.Time) Decision {
	d, err := r.Join(false, now)
	if err != nil {
		panic(err)
	}
	return d
}

func (r *Line) wait(tok string, now time.Time) (Decision, error) { return r.Wait(tok, false, now) }

// TestLineProofCannotBeSkipped: in attack mode a queue token taken before
// attack mode was declared, or from an earlier process, does not skip the
// challenge; one whose holder solved it keeps its place.
func TestLineProofCannotBeSkipped(t *testing.T) {
	clk := newClock()
	attack := false
	cfg := LineConfig{AdmitRate: 1, ProofNeeded: func() bool { return attack }}
	r := newTestLine(t, cfg)
	before := r.join(clk.Now()) // taken in peacetime
	earlier := newTestLine(t, cfg).join(clk.Now()).QueueToken
	attack = true
	if _, err := r.Join(false, clk.Now()); !errors.Is(err, ErrProofNeeded) {
		t.Errorf("newcomer without proof: %v, want %v", err, ErrProofNeeded)
	}
	if _, err := r.Wait(before.QueueToken, false, clk.Now()); !errors.Is(err, ErrProofNeeded) {
		t.Errorf("peacetime token in attack mode: %v, want %v", err, ErrProofNeeded)
	}
	if _, err := r.Wait(earlier, false, clk.Now()); !errors.Is(err, ErrProofNeeded) {
		t.Errorf("earlier process's token in attack mode: %v, want %v", err, ErrProofNeeded)
	}
	if got := r.Waiting(); got != 1 {
		t.Errorf("refusals changed the line: %d waiting, want 1", got)
	}
	// Solving keeps the place, and the fresh token remembers the proof.
	d, err := r.Wait(before.QueueToken, true, clk.Now())
	if err != nil || d.Position != 1 {
		t.Fatalf("peacetime token with a proof: %+v %v, want position 1", d, err)
	}
	if d, err = r.Wait(d.QueueToken, false, clk.Now()); err != nil || d.Position != 1 {
		t.Errorf("proved token polling again: %+v %v, want its place without a new proof", d, err)
	}
	if _, err := r.Join(true, clk.Now()); err != nil {
		t.Errorf("newcomer with a proof: %v", err)
	}
}

// TestLineFullButMoving: a full node whose line let people in within the
// last seconds gives an estimate from the measured pace.
func TestLineFullButMoving(t *testing.T) {
	clk := newClock()
	head := true
	r := newTestLine(t, LineConfig{AdmitRate: 2, Headroom: func() bool { return head }})
	var toks []string
	for range 40 {
		if d := r.join(clk.Now()); !d.Admit {
			toks = append(toks, d.QueueToken)
		}
	}
	for range 6 { // the line moves at 2/s, polled every half second
		clk.Add(500 * time.Millisecond)
		r.wait(toks[0], clk.Now())
	}
	head = false
	clk.Add(500 * time.Millisecond)
	d, err := r.wait(toks[len(toks)-1], clk.Now())
	if err != nil || !d.Moving || d.Estimate <= 0 {
		t.Fatalf("full node that admitted a second ago: %+v %v, want an estimate", d, err)
	}
	clk.Add(time.Minute) // nobody admitted since: standing still
	if d, err = r.wait(d.QueueToken, clk.Now()); err != nil || d.Moving || d.Estimate != 0 {
		t.Errorf("full node a minute later: %+v %v, want no estimate", d, err)
	}
}

// TestLinesDropIdleAndRemove: lines of ended spaces go with Remove, and
// lines nobody used for the token TTL go by themselves.
func TestLinesDropIdleAndRemove(t *testing.T) {
	clk := newClock()
	ls, err := NewLines(testKey(3), LineConfig{AdmitRate: 1, TokenTTL: 10 * time.Minute}, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ls.Get("sp_a")
	ls.Get("sp_b")
	tok := a.join(clk.Now()).QueueToken
	a.join(clk.Now())
	if got := ls.Waiting("sp_a"); got != 2 {
		t.Fatalf("waiting %d, want 2", got)
	}
	ls.Remove("sp_b")
	ls.Remove("sp_none")
	if ls.Len() != 1 || ls.Waiting("sp_b") != 0 || ls.Len() != 1 {
		t.Fatalf("after Remove: %d lines, want 1", ls.Len())
	}
	clk.Add(9 * time.Minute)
	a.wait(tok, clk.Now()) // in use
	clk.Add(9 * time.Minute)
	if ls.Len() != 1 {
		t.Fatal("line used 9 minutes ago dropped")
	}
	clk.Add(2 * time.Minute)
	if ls.Len() != 0 {
		t.Errorf("line idle for the token TTL still held")
	}
}
