package mix

import (
	"math"
	"testing"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/tone"
)

func TestLimiterPassesModerateSignal(t *testing.T) {
	l := newLimiter(codec.SampleRate)
	s := tone.Sine{Freq: 440, Amplitude: 0.5, Rate: codec.SampleRate}
	in := make([]float32, codec.FrameSamples)
	out := make([]float32, codec.FrameSamples)
	for range 20 {
		s.Fill(in)
		copy(out, in)
		if l.process(out) {
			t.Fatalf("limiter engaged on a 0.5 sine, want untouched")
		}
		for i := range in {
			if in[i] != out[i] {
				t.Fatalf("sample %d = %v, want %v unchanged", i, out[i], in[i])
			}
		}
	}
}

func TestLimiterBoundsLoudSignal(t *testing.T) {
	l := newLimiter(codec.SampleRate)
	s := tone.Sine{Freq: 300, Amplitude: 3, Rate: codec.SampleRate}
	x := make([]float32, codec.FrameSamples)
	var peak float64
	for range 20 {
		s.Fill(x)
		if !l.process(x) {
			t.Fatalf("limiter not engaged on a 3.0 sine")
		}
		for _, v := range x {
			peak = max(peak, math.Abs(float64(v)))
		}
	}
	if peak > ceiling+1e-6 || peak < ceiling*0.95 {
		t.Errorf("peak = %.4f, want about the ceiling %.3f", peak, ceiling)
	}
	wantTone(t, "limited sine", x, 300, 0.8, ceiling+0.01)
}

func TestLimiterSilencesGarbage(t *testing.T) {
	l := newLimiter(codec.SampleRate)
	x := []float32{float32(math.NaN()), float32(math.Inf(1)), 1e9, 0.5}
	l.process(x)
	for i, v := range x[:3] {
		if v != 0 {
			t.Errorf("x[%d] = %v, want 0", i, v)
		}
	}
	if x[3] != 0.5 {
		t.Errorf("x[3] = %v, want 0.5", x[3])
	}
}
