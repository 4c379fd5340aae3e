package admission

import (
	"errors"
	"math"
	"testing"
	"time"
)

func newTestRoom(t testing.TB, cfg RoomConfig) *Room {
	t.Helper()
	r, err := NewRoom("sp_abcdefghjkmn", testKey(3), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRoomFIFO(t *testing.T) {
	clk := newClock()
	head := false // full while they arrive, then room frees up
	r := newTestRoom(t, RoomConfig{AdmitRate: 10, Headroom: func() bool { return head }})
	toks := make([]string, 100)
	for i := range toks {
		d := r.Join(clk.Now())
		if d.Admit {
			t.Fatalf("join %d admitted with no headroom", i)
		}
		if d.Position != i {
			t.Fatalf("join %d: position %d, want %d", i, d.Position, i)
		}
		if i >= 5 {
			want := float64(i) / 10
			if got := d.Estimate.Seconds(); math.Abs(got-want) > 0.2*want {
				t.Errorf("join %d: estimate %.2fs, want %.2fs ±20%%", i, got, want)
			}
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
			d, err := r.Wait(tok, clk.Now())
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
			if want := i - round*10; d.Position != want {
				t.Errorf("round %d wait %d: position %d, want %d", round, i, d.Position, want)
			}
		}
		if admitted < 9*round || admitted > 11*round {
			t.Errorf("after %d s: %d admitted, want ~%d", round, admitted, 10*round)
		}
	}
}

func TestRoomHeadroom(t *testing.T) {
	clk := newClock()
	head := false
	r := newTestRoom(t, RoomConfig{AdmitRate: 2, Headroom: func() bool { return head }})
	d := r.Join(clk.Now())
	if d.Admit {
		t.Fatal("admitted without headroom")
	}
	// A full node admits nobody, however long they wait.
	clk.Add(10 * time.Second)
	if got, err := r.Wait(d.QueueToken, clk.Now()); err != nil || got.Admit || got.Position != 0 {
		t.Fatalf("full node after 10 s: %+v, %v; want still first in line", got, err)
	}
	// With headroom the line moves at AdmitRate, not all at once.
	head = true
	var toks []string
	for i := 0; i < 10; i++ {
		toks = append(toks, r.Join(clk.Now()).QueueToken)
	}
	clk.Add(time.Second)
	if got, err := r.Wait(d.QueueToken, clk.Now()); err != nil || !got.Admit {
		t.Fatalf("first in line with headroom: %+v, %v; want admitted", got, err)
	}
	admitted := 0
	for _, tok := range toks {
		if got, _ := r.Wait(tok, clk.Now()); got.Admit {
			admitted++
		}
	}
	if admitted > 2 {
		t.Errorf("%d of 10 newcomers admitted within a second at 2/s, want at most 2", admitted)
	}
	// The node fills again: credit is withdrawn and newcomers queue.
	head = false
	if got := r.Join(clk.Now()); got.Admit {
		t.Fatalf("newcomer on a full node: %+v", got)
	}
	// Waiters whose turn came while there was room, polling only now that
	// the node is full, wait at the front instead of overshooting it.
	clk.Add(10 * time.Second)
	for i, tok := range toks {
		got, err := r.Wait(tok, clk.Now())
		if err != nil || got.Admit || got.Position < 0 || got.Position > len(toks) || got.Estimate <= 0 {
			t.Fatalf("waiter %d on a full node: %+v, %v; want queued with a position", i, got, err)
		}
	}
	head = true
	if got, err := r.Wait(toks[0], clk.Now()); err != nil || !got.Admit {
		t.Fatalf("first waiter once there is room: %+v, %v; want admitted", got, err)
	}
}

func TestRoomTokens(t *testing.T) {
	clk := newClock()
	r := newTestRoom(t, RoomConfig{AdmitRate: 1, TokenTTL: time.Minute})
	other, _ := NewRoom("sp_abcdefghjkmn", testKey(4), RoomConfig{AdmitRate: 1})
	elsewhere, _ := NewRoom("sp_zzzzzzzzzzzz", testKey(3), RoomConfig{AdmitRate: 1})
	tok := r.Join(clk.Now()).QueueToken
	cases := []struct {
		name string
		tok  string
		want error
	}{
		{"forged", other.Join(clk.Now()).QueueToken, ErrQueueForged},
		{"other space", elsewhere.Join(clk.Now()).QueueToken, ErrQueueOtherSpace},
		{"malformed", "not a token", ErrQueueMalformed},
		{"truncated", tok[:10], ErrQueueMalformed},
	}
	for _, c := range cases {
		if _, err := r.Wait(c.tok, clk.Now()); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
	clk.Add(time.Minute + time.Millisecond)
	if _, err := r.Wait(tok, clk.Now()); !errors.Is(err, ErrQueueExpired) {
		t.Errorf("expired: err %v, want %v", err, ErrQueueExpired)
	}
	// Same key and space, other epoch (a restart): queued again, not refused.
	before := newTestRoom(t, RoomConfig{AdmitRate: 1})
	restarted := newTestRoom(t, RoomConfig{AdmitRate: 1})
	restarted.Join(clk.Now())
	if d, err := restarted.Wait(before.Join(clk.Now()).QueueToken, clk.Now()); err != nil || d.QueueToken == "" || d.Position != 1 {
		t.Errorf("other epoch: %+v, %v; want requeued", d, err)
	}
}

func TestRoomMemoryIsConstant(t *testing.T) {
	// The room has no per-waiter state: its size is fixed by its type, and
	// 100,000 waiters leave only the counters changed.
	clk := newClock()
	r := newTestRoom(t, RoomConfig{AdmitRate: 10})
	for range 100000 {
		r.Join(clk.Now())
	}
	if r.arrived != 100000 || r.Waiting() != 100000 {
		t.Errorf("arrived %d waiting %d", r.arrived, r.Waiting())
	}
}

func TestRoomLottery(t *testing.T) {
	clk := newClock()
	start := clk.Now().Add(time.Minute)
	r := newTestRoom(t, RoomConfig{AdmitRate: 100, LotteryAt: start})
	const n = 50
	toks := make([]string, n)
	for i := range toks {
		d := r.Join(clk.Now())
		if d.Admit || d.Position != -1 || d.Estimate != time.Minute {
			t.Fatalf("before draw: %+v", d)
		}
		toks[i] = d.QueueToken
	}
	clk.Add(time.Minute)
	late := r.Join(clk.Now())
	if late.Position != n {
		t.Errorf("late arrival position %d, want %d", late.Position, n)
	}
	seen := make(map[int]bool)
	inOrder := true
	for i, tok := range toks {
		d, err := r.Wait(tok, clk.Now())
		if err != nil || d.Admit {
			t.Fatalf("wait %d: %+v %v", i, d, err)
		}
		if d.Position < 0 || d.Position >= n || seen[d.Position] {
			t.Fatalf("wait %d: position %d repeated or out of range", i, d.Position)
		}
		seen[d.Position] = true
		inOrder = inOrder && d.Position == i
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

func FuzzRoomWait(f *testing.F) {
	clk := newClock()
	r := newTestRoom(f, RoomConfig{AdmitRate: 10})
	f.Add(r.Join(clk.Now()).QueueToken)
	f.Add("")
	f.Add("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")
	f.Fuzz(func(t *testing.T, tok string) {
		d, err := r.Wait(tok, clk.Now())
		if err != nil && (d.Admit || d.QueueToken != "") {
			t.Fatalf("error %v with decision %+v", err, d)
		}
	})
}

func TestRoomFreshStartsWithCredit(t *testing.T) {
	clk := newClock()
	r := newTestRoom(t, RoomConfig{AdmitRate: 5, Headroom: func() bool { return true }})
	admitted := 0
	for i := 0; i < 8; i++ {
		if r.Join(clk.Now()).Admit {
			admitted++
		}
	}
	if admitted != 5 {
		t.Fatalf("fresh room with headroom admitted %d of 8 at once, want 5 (one second of credit)", admitted)
	}
}
