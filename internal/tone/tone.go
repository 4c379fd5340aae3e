// Package tone makes and measures test signals: sine tones for synthetic
// speakers and the Goertzel filter that tells whether a tone is present in
// decoded audio. Tests, benchmarks and the demo share it.
package tone

import "math"

// Sine generates a continuous sine tone, frame after frame, with no phase
// jumps between frames.
type Sine struct {
	Freq      float64 // Hz
	Amplitude float64 // 0..1
	Rate      int     // samples per second
	phase     float64
}

// Fill writes the next len(dst) samples of the tone into dst.
func (s *Sine) Fill(dst []float32) {
	step := 2 * math.Pi * s.Freq / float64(s.Rate)
	for i := range dst {
		dst[i] = float32(s.Amplitude * math.Sin(s.phase))
		s.phase += step
		if s.phase > 2*math.Pi {
			s.phase -= 2 * math.Pi
		}
	}
}

// Power returns the Goertzel estimate of the amplitude of freq in samples:
// for a pure sine of amplitude A at freq it returns about A.
func Power(samples []float32, freq float64, rate int) float64 {
	if len(samples) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	if p < 0 {
		p = 0
	}
	return 2 * math.Sqrt(p) / float64(len(samples))
}

// RMS returns the root mean square of samples.
func RMS(samples []float32) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, x := range samples {
		sum += float64(x) * float64(x)
	}
	return math.Sqrt(sum / float64(len(samples)))
}
