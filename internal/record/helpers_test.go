package record

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/tone"
	"github.com/thesyncim/gopus/container/ogg"
)

var t0 = time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)

// scheduleFreq is the tone of the test schedule at second sec:
// 440 Hz for 0–3 s, 660 Hz for 3–6 s, 880 Hz from 6 s.
func scheduleFreq(sec float64) float64 {
	switch {
	case sec < 3:
		return 440
	case sec < 6:
		return 660
	default:
		return 880
	}
}

var (
	scheduleOnce sync.Once
	schedulePkts [][]byte
	scheduleErr  error
)

// schedule returns 10 s (500 frames) of Opus packets of the tone schedule,
// encoded once per test binary.
func schedule(t testing.TB) [][]byte {
	t.Helper()
	scheduleOnce.Do(func() {
		enc, err := codec.NewEncoder(0)
		if err != nil {
			scheduleErr = err
			return
		}
		sines := map[float64]*tone.Sine{}
		pcm := make([]float32, codec.FrameSamples)
		buf := make([]byte, codec.MaxPacket)
		for i := range 500 {
			f := scheduleFreq(float64(i) * 0.02)
			s := sines[f]
			if s == nil {
				s = &tone.Sine{Freq: f, Amplitude: 0.5, Rate: codec.SampleRate}
				sines[f] = s
			}
			s.Fill(pcm)
			n, err := enc.Encode(pcm, buf)
			if err != nil {
				scheduleErr = err
				return
			}
			schedulePkts = append(schedulePkts, append([]byte(nil), buf[:n]...))
		}
	})
	if scheduleErr != nil {
		t.Fatal(scheduleErr)
	}
	return schedulePkts
}

func newDir(t testing.TB) *DirStorage {
	t.Helper()
	st, err := NewDirStorage(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// testOpts keep the queue large enough that feeding frames faster than
// real time drops nothing.
var testOpts = Options{QueueFrames: 5000, RetryEvery: 20 * time.Millisecond}

// record writes pkts as one session started at now and closes it.
func record(t testing.TB, st Storage, id string, now time.Time, pkts [][]byte, speaking func(i int) []Speaker) {
	t.Helper()
	rec, err := Start(st, id, now, testOpts, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		var sp []Speaker
		if speaking != nil {
			sp = speaking(i)
		}
		rec.WriteFrame(p, sp)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if s := rec.Status(); s.LostFrames != 0 || s.Frames != int64(len(pkts)) {
		t.Fatalf("status %+v, want %d frames and none lost", s, len(pkts))
	}
}

// readOgg reads a whole Ogg Opus stream with gopus's reader: the packets
// and the last granule position.
func readOgg(t testing.TB, b []byte) (pkts [][]byte, granule uint64) {
	t.Helper()
	r, err := ogg.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("ogg reader: %v", err)
	}
	if r.PreSkip() != preSkip || r.Channels() != 1 {
		t.Fatalf("pre-skip %d channels %d, want %d and 1", r.PreSkip(), r.Channels(), preSkip)
	}
	for {
		p, g, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			return pkts, granule
		}
		if err != nil {
			t.Fatalf("ogg packet %d: %v", len(pkts), err)
		}
		pkts = append(pkts, p)
		granule = g
	}
}

// decode decodes packets into 48 kHz mono samples.
func decode(t testing.TB, pkts [][]byte) []float32 {
	t.Helper()
	dec, err := codec.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	var out []float32
	pcm := make([]float32, 5760)
	for i, p := range pkts {
		n, err := dec.Decode(p, pcm)
		if err != nil {
			t.Fatalf("decode packet %d: %v", i, err)
		}
		out = append(out, pcm[:n]...)
	}
	return out
}

// checkTone fails unless samples[from:to s] hold want and none of the
// other schedule tones.
func checkTone(t testing.TB, what string, pcm []float32, from, to float64, want float64) {
	t.Helper()
	a, b := int(from*48000), int(to*48000)
	if b > len(pcm) {
		t.Fatalf("%s: %d samples, want at least %d", what, len(pcm), b)
	}
	win := pcm[a:b]
	for _, f := range []float64{440, 660, 880} {
		p := tone.Power(win, f, 48000)
		if f == want && p < 0.2 {
			t.Errorf("%s %.1f–%.1f s: %v Hz amplitude %.3f, want > 0.2", what, from, to, f, p)
		}
		if f != want && p > 0.05 {
			t.Errorf("%s %.1f–%.1f s: %v Hz amplitude %.3f, want < 0.05 (expecting %v Hz)", what, from, to, f, p, want)
		}
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
