package mix

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
)

// playout runs a jitter buffer for len(ticks) frames: each frame inserts
// that frame's packets (payload = the sequence number), then pops once. It
// returns what was played: the sequence number, L for a concealed loss, or
// . for nothing.
func playout(j *jitterBuffer, ticks [][]uint16) string {
	var out []string
	for _, pkts := range ticks {
		for _, seq := range pkts {
			j.insert(seq, binary.BigEndian.AppendUint16(nil, seq))
		}
		j.trimDrift()
		switch pkt, r := j.pop(); r {
		case popPacket:
			out = append(out, strconv.Itoa(int(binary.BigEndian.Uint16(pkt))))
		case popLost:
			out = append(out, "L")
		default:
			out = append(out, ".")
		}
	}
	return strings.Join(out, " ")
}

type seqs = []uint16

func TestJitterPlayout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ticks [][]uint16
		want  string
		check func(t *testing.T, c *counters)
	}{{
		name:  "in order, then the sender stops",
		ticks: [][]uint16{{10}, {11}, {12}, {13}, {14}, nil, nil, nil, nil, nil, nil},
		want:  ". . 10 11 12 13 14 L L L .",
		check: func(t *testing.T, c *counters) { wantCount(t, "underruns", c.underruns.Load(), 1) },
	}, {
		name:  "reordered",
		ticks: [][]uint16{{12, 10, 11}, {13}, {15, 14}, nil, nil},
		want:  "10 11 12 13 14",
	}, {
		name:  "late and duplicate",
		ticks: [][]uint16{{10, 11, 12}, {10, 11}, {13}, nil},
		want:  "10 11 12 13",
		check: func(t *testing.T, c *counters) {
			wantCount(t, "late", c.late.Load(), 1)
			wantCount(t, "duplicates", c.duplicates.Load(), 1)
		},
	}, {
		name:  "one loss is concealed",
		ticks: [][]uint16{{10, 11, 13}, {14}, {15}, {16}, nil},
		want:  "10 11 L 13 14",
	}, {
		name:  "sequence wraps",
		ticks: [][]uint16{{65534, 65535, 0}, {1}, nil, nil},
		want:  "65534 65535 0 1",
	}, {
		name:  "far ahead drops the oldest and re-syncs",
		ticks: [][]uint16{{10, 11, 12}, {300}, {301}},
		want:  "10 300 301",
		check: func(t *testing.T, c *counters) {
			wantCount(t, "resyncs", c.resyncs.Load(), 1)
			wantCount(t, "dropped", c.dropped.Load(), 2)
		},
	}, {
		name:  "sender restarts its sequence",
		ticks: [][]uint16{{1000, 1001, 1002}, {5}, {6}, {7}, nil},
		want:  "1000 . . 5 6",
		check: func(t *testing.T, c *counters) { wantCount(t, "resyncs", c.resyncs.Load(), 1) },
	}, {
		name:  "a lone packet plays after the playout delay",
		ticks: [][]uint16{{10}, nil, nil, nil},
		want:  ". . 10 L",
	}, {
		name:  "a long hole is concealed, then skipped",
		ticks: [][]uint16{{10, 11, 12}, {20, 21}, nil, nil, nil, nil, nil},
		want:  "10 11 12 L L L 20",
	}, {
		name:  "a burst within the window is kept",
		ticks: [][]uint16{{10, 11, 12}, {13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59}, nil},
		want:  "10 11 12",
		check: func(t *testing.T, c *counters) { wantCount(t, "dropped", c.dropped.Load(), 0) },
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := new(counters)
			j := &jitterBuffer{target: 3, c: c}
			if got := playout(j, tc.ticks); got != tc.want {
				t.Errorf("played %q, want %q", got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// TestJitterDriftTrim keeps the buffer six packets too deep: after one
// drift window the excess is dropped in one step.
func TestJitterDriftTrim(t *testing.T) {
	c := new(counters)
	j := &jitterBuffer{target: 3, c: c}
	first := make(seqs, 9)
	for i := range first {
		first[i] = uint16(100 + i)
	}
	ticks := [][]uint16{first}
	for i := range driftWindow + 5 {
		ticks = append(ticks, seqs{uint16(109 + i)})
	}
	playout(j, ticks)
	wantCount(t, "resyncs", c.resyncs.Load(), 1)
	// In steady state a frame's pop leaves target-1 packets behind.
	if j.count != j.target-1 {
		t.Errorf("depth after trimming = %d, want %d", j.count, j.target-1)
	}
}

func wantCount(t *testing.T, what string, got, want uint64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", what, got, want)
	}
}

func TestOpusSamples(t *testing.T) {
	for _, tc := range []struct {
		pkt  []byte
		want int
	}{
		{nil, 0},
		{[]byte{0xf8}, 960},         // CELT FB 20 ms, one frame
		{[]byte{0xf8 | 1}, 1920},    // two frames
		{[]byte{0xf8 | 3, 3}, 2880}, // code 3, three frames
		{[]byte{0xf8 | 3}, 0},       // code 3 without its count byte
		{[]byte{0xf8 | 3, 0}, 0},    // zero frames
		{[]byte{0xf8 | 3, 48}, 0},   // 960 ms: beyond the 120 ms limit
		{[]byte{0x08}, 960},         // SILK NB 20 ms
		{[]byte{0x18}, 2880},        // SILK NB 60 ms
		{[]byte{0x60}, 480},         // hybrid SWB 10 ms
		{[]byte{0x80}, 120},         // CELT NB 2.5 ms
	} {
		if got := opusSamples(tc.pkt); got != tc.want {
			t.Errorf("opusSamples(% x) = %d, want %d", tc.pkt, got, tc.want)
		}
	}
}

// TestJitterStallIsWaitedOutThenAbsorbed: a stream that stalls and then
// delivers its backlog at once (what a starved sender, ingest loop or
// network does) loses nothing: the stall is concealed while the buffer waits
// for the held-back packet, which then plays instead of being dropped as
// late; and the buffer keeps the added delay, so the same stall again is
// not even heard. (A buffer that skipped ahead dropped each stalled packet
// as late: concealed frames heard as a tone at a third of its level.)
func TestJitterStallIsWaitedOutThenAbsorbed(t *testing.T) {
	c := &counters{}
	j := &jitterBuffer{target: 3, c: c}
	var ticks [][]uint16
	seq := uint16(10)
	steady := func(n int) {
		for range n {
			ticks = append(ticks, seqs{seq})
			seq++
		}
	}
	stall := func(frames int) {
		for range frames {
			ticks = append(ticks, nil)
		}
		var burst seqs // the held-back packets and this frame's
		for range frames + 1 {
			burst = append(burst, seq)
			seq++
		}
		ticks = append(ticks, burst)
	}
	steady(10)
	stall(4)
	steady(20)
	stall(4)
	steady(10)
	got := strings.Fields(playout(j, ticks))
	first, second := strings.Join(got[:20], " "), strings.Join(got[20:], " ")
	t.Logf("first stall: %s\nsecond stall: %s", first, second)
	// Every packet plays, in order, once.
	want := 10
	for _, g := range got {
		if g == "L" || g == "." {
			continue
		}
		if g != strconv.Itoa(want) {
			t.Fatalf("played %s where %d was due: %v", g, want, got)
		}
		want++
	}
	if int(seq)-want > j.depth() {
		t.Errorf("played up to %d of %d sent, more than the buffer's depth %d behind", want-1, seq-1, j.depth())
	}
	wantCount(t, "late", c.late.Load(), 0)
	if n := strings.Count(first, "L"); n == 0 || n > 2 {
		t.Errorf("first stall: %d frames concealed, want the 1 or 2 the buffer's depth did not cover", n)
	}
	if strings.Contains(second, "L") || strings.Contains(second, ".") {
		t.Errorf("second stall heard (%s): the buffer kept no delay from the first", second)
	}
}

// TestJitterGrownDelayIsGivenBack: the delay a stall added goes away again
// once the stream has played calmly, so latency does not only grow.
func TestJitterGrownDelayIsGivenBack(t *testing.T) {
	c := &counters{}
	j := &jitterBuffer{target: 3, c: c, grown: maxGrow}
	var ticks [][]uint16
	for i := range calmFrames*maxGrow + 2*driftWindow {
		ticks = append(ticks, seqs{uint16(i)})
	}
	playout(j, ticks)
	if j.grown != 0 {
		t.Errorf("grown = %d after %d calm frames, want 0", j.grown, len(ticks))
	}
}
