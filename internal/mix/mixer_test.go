package mix

import (
	"context"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/tone"
)

func TestTwoTonesMix(t *testing.T) {
	m, l := newTestMixer(t, Config{})
	a := newSpeaker(t, m, "a", 440, 0.3)
	b := newSpeaker(t, m, "b", 660, 0.3)
	step(m, 30, a, b)
	pcm := l.last(window)
	wantTone(t, "mix", pcm, 440, 0.22, 0.38)
	wantTone(t, "mix", pcm, 660, 0.22, 0.38)
	wantNoTone(t, "mix", pcm, 550)
	wantNoTone(t, "mix", pcm, 880)
	if s := m.Stats(); s.Limited != 0 {
		t.Errorf("limiter engaged on %d frames for two moderate speakers, want 0", s.Limited)
	}
}

func TestMuteRemoveAdd(t *testing.T) {
	m, l := newTestMixer(t, Config{})
	a := newSpeaker(t, m, "a", 440, 0.3)
	b := newSpeaker(t, m, "b", 660, 0.3)
	step(m, 20, a, b)

	m.SetMuted("b", true)
	step(m, 20, a, b)
	pcm := l.last(window)
	wantTone(t, "b muted", pcm, 440, 0.22, 0.38)
	wantNoTone(t, "b muted", pcm, 660)

	m.SetMuted("b", false)
	step(m, 20, a, b)
	wantTone(t, "b unmuted", l.last(window), 660, 0.22, 0.38)

	m.RemoveSource("a")
	m.RemoveSource("a") // idempotent
	step(m, 20, a, b)   // a's pushes now go nowhere
	pcm = l.last(window)
	wantNoTone(t, "a removed", pcm, 440)
	wantTone(t, "a removed", pcm, 660, 0.22, 0.38)

	c := newSpeaker(t, m, "c", 880, 0.3)
	step(m, 20, b, c)
	pcm = l.last(window)
	wantTone(t, "c added", pcm, 660, 0.22, 0.38)
	wantTone(t, "c added", pcm, 880, 0.22, 0.38)
	if got := len(m.Levels()); got != 2 {
		t.Errorf("len(Levels()) = %d, want 2", got)
	}
}

func TestMuteSurvivesReconnect(t *testing.T) {
	m, l := newTestMixer(t, Config{})
	m.SetMuted("a", true)
	a := newSpeaker(t, m, "a", 440, 0.3)
	step(m, 20, a)
	m.RemoveSource("a")
	a = newSpeaker(t, m, "a", 440, 0.3)
	step(m, 20, a)
	wantNoTone(t, "muted speaker rejoined", l.last(window), 440)
	if s := m.Stats(); s.Encodes != 0 {
		t.Errorf("Encodes = %d with only a muted speaker, want 0", s.Encodes)
	}
}

func TestLimiterLoudSpeakers(t *testing.T) {
	m, l := newTestMixer(t, Config{})
	var sps []*speaker
	for i, f := range []float64{300, 450, 600, 750, 900} {
		sps = append(sps, newSpeaker(t, m, string(rune('a'+i)), f, 0.9))
	}
	step(m, 40, sps...)
	var peak float64
	for _, v := range l.pcm {
		peak = max(peak, math.Abs(float64(v)))
	}
	if peak > 1.0 {
		t.Errorf("decoded mix peak = %.3f, want <= 1.0", peak)
	}
	if got := tone.RMS(l.last(window)); got < 0.2 {
		t.Errorf("mix RMS = %.3f, want >= 0.2 (limited, not silenced)", got)
	}
	if s := m.Stats(); s.Limited == 0 {
		t.Errorf("Limited = 0 with five speakers at 0.9, want > 0")
	}
	// Every speaker is still audible through the limiter.
	for _, sp := range sps {
		wantTone(t, "limited mix", l.last(window), sp.sine.Freq, 0.05, 0.5)
	}
}

func TestJitterReorderDuplicatesLoss(t *testing.T) {
	m, l := newTestMixer(t, Config{})
	a := newSpeaker(t, m, "a", 440, 0.3)
	const blocks = 40
	var pkts []packet
	for range blocks * 3 {
		pkts = append(pkts, a.next())
	}
	lost := map[int]bool{31: true, 62: true, 95: true}
	for blk := range blocks {
		// Each block of three arrives reversed, with the middle one twice.
		for _, k := range []int{2, 1, 0, 1} {
			if i := blk*3 + k; !lost[i] {
				p := pkts[i]
				a.src.Push(p.seq, p.ts, p.payload)
			}
		}
		m.Tick()
		m.Tick()
		m.Tick()
	}
	wantTone(t, "reordered stream", l.last(window * 2)[:window*codec.FrameSamples], 440, 0.2, 0.4)
	s := m.Stats()
	if s.Duplicates < uint64(blocks-len(lost)) {
		t.Errorf("Duplicates = %d, want >= %d", s.Duplicates, blocks-len(lost))
	}
	if s.Concealed < uint64(len(lost)) {
		t.Errorf("Concealed = %d, want >= %d (one per lost packet)", s.Concealed, len(lost))
	}
	if s.Underruns != 0 {
		t.Errorf("Underruns = %d, want 0", s.Underruns)
	}
}

func TestSequenceWrap(t *testing.T) {
	m, l := newTestMixer(t, Config{})
	a := newSpeaker(t, m, "a", 440, 0.3)
	a.seq = 65500
	step(m, 100, a) // seq 65500 .. 65535, 0 .. 63
	for w := 1; w < 10; w++ {
		pcm := l.pcm[w*window*codec.FrameSamples : (w+1)*window*codec.FrameSamples]
		wantTone(t, "window "+string(rune('0'+w)), pcm, 440, 0.22, 0.38)
	}
	if s := m.Stats(); s.Late+s.Concealed+s.Resyncs+s.Dropped != 0 {
		t.Errorf("stats across wrap = %+v, want no late, concealed, resynced or dropped packets", s)
	}
}

// TestPacketDurations feeds 60 ms packets (three 20 ms Opus frames in one
// code-3 packet), which the mixer must play out over three frames.
func TestPacketDurations(t *testing.T) {
	m, l := newTestMixer(t, Config{})
	a := newSpeaker(t, m, "a", 440, 0.3)
	for i := range 30 {
		f := [3]packet{a.next(), a.next(), a.next()}
		pkt := []byte{f[0].payload[0] | 3, 0x80 | 3} // code 3, VBR, 3 frames
		for _, p := range f[:2] {
			if len(p.payload)-1 >= 252 {
				t.Fatalf("frame of %d bytes needs a two-byte length", len(p.payload)-1)
			}
			pkt = append(pkt, byte(len(p.payload)-1))
		}
		for _, p := range f {
			pkt = append(pkt, p.payload[1:]...)
		}
		if got := opusSamples(pkt); got != 3*codec.FrameSamples {
			t.Fatalf("opusSamples(60 ms packet) = %d, want %d", got, 3*codec.FrameSamples)
		}
		a.src.Push(uint16(i), f[0].ts, pkt) // one sequence number per packet
		m.Tick()
		m.Tick()
		m.Tick()
	}
	for w := 3; w < 9; w++ {
		wantTone(t, "60 ms packets", l.pcm[w*window*codec.FrameSamples:(w+1)*window*codec.FrameSamples], 440, 0.22, 0.38)
	}
	if s := m.Stats(); s.DecodeErrors != 0 || s.Underruns != 0 {
		t.Errorf("DecodeErrors = %d, Underruns = %d, want 0, 0", s.DecodeErrors, s.Underruns)
	}
}

func TestLevels(t *testing.T) {
	m, _ := newTestMixer(t, Config{})
	a := newSpeaker(t, m, "talker", 440, 0.3)
	m.AddSource("quiet") // connected, sends nothing
	z := newSpeaker(t, m, "zero", 440, 0)
	step(m, 20, a, z)

	lv := m.Levels()
	if len(lv) != 3 || lv[0].ID != "quiet" || lv[1].ID != "talker" || lv[2].ID != "zero" {
		t.Fatalf("Levels() = %+v, want quiet, talker, zero in that order", lv)
	}
	if !lv[1].Speaking || lv[1].Level < 0.3 {
		t.Errorf("talker = %+v, want Speaking with Level > 0.3", lv[1])
	}
	for _, q := range []Level{lv[0], lv[2]} {
		if q.Speaking || q.Level > 0.1 {
			t.Errorf("%s = %+v, want not Speaking, Level near 0", q.ID, q)
		}
	}

	// The talker stops: Speaking holds for about 300 ms, then clears.
	step(m, 5, z)
	if lv := m.Levels(); !lv[1].Speaking {
		t.Errorf("100 ms after stopping: talker = %+v, want still Speaking (hangover)", lv[1])
	}
	step(m, 20, z)
	if lv := m.Levels(); lv[1].Speaking || lv[1].Level > 0.1 {
		t.Errorf("500 ms after stopping: talker = %+v, want not Speaking, Level near 0", lv[1])
	}
}

func TestSilence(t *testing.T) {
	m, l := newTestMixer(t, Config{})
	for range 20 {
		m.Tick()
	}
	if l.calls != 20 {
		t.Fatalf("out called %d times for 20 ticks, want 20", l.calls)
	}
	if got := tone.RMS(l.pcm); got > 1e-3 {
		t.Errorf("silent mix decodes to RMS %.5f, want < 0.001", got)
	}
	if s := m.Stats(); s.Encodes != 0 || s.Frames != 20 {
		t.Errorf("Encodes, Frames = %d, %d; want 0, 20", s.Encodes, s.Frames)
	}
}

// TestStoppedSpeakerIsFree checks that a speaker who stops sending is
// concealed briefly, then costs no decoding, and that the encoder stops
// once the mix has faded out.
func TestStoppedSpeakerIsFree(t *testing.T) {
	m, l := newTestMixer(t, Config{})
	a := newSpeaker(t, m, "a", 440, 0.3)
	step(m, 20, a)
	before := m.Stats()
	step(m, 30)
	after := m.Stats()
	if got := after.Concealed - before.Concealed; got != plcFrames {
		t.Errorf("frames concealed after the speaker stopped = %d, want %d", got, plcFrames)
	}
	if got := after.Underruns - before.Underruns; got != 1 {
		t.Errorf("underruns after the speaker stopped = %d, want 1", got)
	}
	// Buffered packets play out, then concealment, then the encoder's tail.
	if got, most := after.Encodes-before.Encodes, uint64(m.jitterFrames+plcFrames+tailFrames); got > most {
		t.Errorf("encodes after the speaker stopped = %d, want <= %d", got, most)
	}
	wantNoTone(t, "after stop", l.last(window), 440)

	// And comes back.
	step(m, 20, a)
	wantTone(t, "speaker resumed", l.last(window), 440, 0.22, 0.38)
}

func TestNoAllocsSteadyState(t *testing.T) {
	m, _ := newTestMixer(t, Config{})
	a := newSpeaker(t, m, "a", 440, 0.3)
	b := newSpeaker(t, m, "b", 660, 0.3)
	m.AddSource("idle")
	const n = 200
	var pa, pb []packet
	for range n + 100 {
		pa, pb = append(pa, a.next()), append(pb, b.next())
	}
	i := 0
	tick := func() {
		a.src.Push(pa[i].seq, pa[i].ts, pa[i].payload)
		b.src.Push(pb[i].seq, pb[i].ts, pb[i].payload)
		m.Tick()
		i++
	}
	for range 100 { // warm up: every ring slot gets its storage
		tick()
	}
	if got := testing.AllocsPerRun(n-1, tick); got != 0 {
		t.Errorf("allocations per frame = %v, want 0", got)
	}
}

func TestRun(t *testing.T) {
	base := runtime.NumGoroutine()
	var mu sync.Mutex
	var frames []int64
	m, err := New(Config{}, func(idx int64, pkt []byte) {
		mu.Lock()
		frames = append(frames, idx)
		mu.Unlock()
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- m.Run(ctx) }()
	time.Sleep(500 * time.Millisecond)
	if err := m.Run(ctx); err == nil {
		t.Errorf("second concurrent Run returned nil, want an error")
	}
	cancel()
	elapsed := time.Since(start)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	mu.Lock()
	got := len(frames)
	for i, idx := range frames {
		if idx != int64(i) {
			t.Fatalf("frame %d has idx %d, want %d", i, idx, i)
		}
	}
	mu.Unlock()
	// One frame at start, then one per 20 ms; allow for scheduling delays
	// at either end.
	if want := int(elapsed/FrameDuration) + 1; got < want-3 || got > want+1 {
		t.Errorf("frames in %v = %d, want %d (50 per second)", elapsed, got, want)
	}
	for deadline := time.Now().Add(time.Second); runtime.NumGoroutine() > base; {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines = %d after Run returned, want %d", runtime.NumGoroutine(), base)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunCatchesUp drives Run with a clock that jumps ahead: the missed
// frames are produced back-to-back, none skipped, and counted as overruns.
func TestRunCatchesUp(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last int64 = -1
	m, err := New(Config{Clock: clock}, func(idx int64, pkt []byte) {
		if idx != last+1 {
			t.Errorf("frame idx %d after %d, want %d", idx, last, last+1)
		}
		last = idx
		if idx == 0 {
			mu.Lock()
			now = now.Add(10 * FrameDuration) // the process stalled for 200 ms
			mu.Unlock()
		}
		if idx == 10 {
			cancel()
		}
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if last < 10 {
		t.Errorf("last frame = %d, want >= 10", last)
	}
	if got := m.Overruns(); got < 8 || got > 10 {
		t.Errorf("Overruns = %d, want 8..10 (frames 1..9 were a frame or more late)", got)
	}
}

// TestConcurrentUse exercises every goroutine-safe method against a
// running mixer; run with -race.
func TestConcurrentUse(t *testing.T) {
	m, _ := newTestMixer(t, Config{})
	a := newSpeaker(t, m, "a", 440, 0.3)
	var pkts []packet
	for range 100 {
		pkts = append(pkts, a.next())
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, p := range pkts {
			a.src.Push(p.seq, p.ts, p.payload)
		}
	})
	wg.Go(func() {
		for i := range 100 {
			m.SetMuted("a", i%2 == 0)
			_ = m.Levels()
			_ = m.Stats()
			s := m.AddSource("b")
			s.Push(uint16(i), 0, pkts[i].payload)
			m.RemoveSource("b")
		}
	})
	for range 100 {
		m.Tick()
	}
	wg.Wait()
}

func TestNewRejectsBadConfig(t *testing.T) {
	out := func(int64, []byte) {}
	for _, tc := range []struct {
		name string
		cfg  Config
		out  func(int64, []byte)
	}{
		{"nil out", Config{}, nil},
		{"negative bitrate", Config{Bitrate: -1}, out},
		{"negative jitter", Config{JitterFrames: -1}, out},
		{"huge jitter", Config{JitterFrames: maxJitterFrames + 1}, out},
	} {
		if _, err := New(tc.cfg, tc.out, nil); err == nil {
			t.Errorf("%s: New = nil error, want an error", tc.name)
		}
	}
}
