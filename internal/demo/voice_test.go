package demo

import (
	"math"
	"sort"
	"testing"

	"github.com/podium-live/podium/internal/codec"
)

// through sends pcm through one Opus encode and decode, 20 ms at a time,
// as a speaker's leg or the mixer's output does.
func through(t *testing.T, pcm []float32) []float32 {
	t.Helper()
	enc, err := codec.NewEncoder(0)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := codec.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, codec.MaxPacket)
	tmp := make([]float32, 5760)
	var out []float32
	for i := 0; i+codec.FrameSamples <= len(pcm); i += codec.FrameSamples {
		n, err := enc.Encode(pcm[i:i+codec.FrameSamples], pkt)
		if err != nil {
			t.Fatal(err)
		}
		m, err := dec.Decode(pkt[:n], tmp)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tmp[:m]...)
	}
	return out
}

const win = codec.SampleRate / 200 // 5 ms

// hfEnergy is, per 5 ms window, the energy above 5 kHz (Hann-windowed DFT).
// The voices have nothing up there (their highest harmonic is below 3 kHz):
// what appears is a transient, heard as a click.
func hfEnergy(pcm []float32) []float64 {
	hann := make([]float64, win)
	for i := range hann {
		hann[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(win))
	}
	sin, cos := make([]float64, win), make([]float64, win)
	for i := range sin {
		sin[i], cos[i] = math.Sincos(2 * math.Pi * float64(i) / float64(win))
	}
	first := 5000 * win / codec.SampleRate
	out := make([]float64, len(pcm)/win)
	x := make([]float64, win)
	for w := range out {
		for i := range x {
			x[i] = float64(pcm[w*win+i]) * hann[i]
		}
		var e float64
		for k := first; k <= win/2; k++ {
			var re, im float64
			for i, v := range x {
				re += v * cos[k*i%win]
				im -= v * sin[k*i%win]
			}
			e += re*re + im*im
		}
		out[w] = e
	}
	return out
}

// clicks returns the times (s) of 5 ms windows whose energy above 5 kHz
// stands out from their neighbourhood (the median of the 100 ms either
// side) by more than 10 times, above a floor 55 dB under the signal's mean
// energy per window.
func clicks(pcm []float32) (at []float64, worst float64) {
	e := hfEnergy(pcm)
	var total float64
	for _, v := range pcm {
		total += float64(v) * float64(v)
	}
	floor := 3e-6 * total / float64(len(e)) * win / 2 // DFT energy scale: N/2 per unit of time-domain energy (Hann ≈ 3/8, close enough)
	for w := range e {
		var nb []float64
		for j := w - 20; j <= w+20; j++ {
			if j >= 0 && j < len(e) && (j < w-2 || j > w+2) {
				nb = append(nb, e[j])
			}
		}
		sort.Float64s(nb)
		ref := max(nb[len(nb)/2], floor)
		r := e[w] / ref
		worst = max(worst, r)
		if r > 10 {
			at = append(at, float64(w*win)/codec.SampleRate)
		}
	}
	return at, worst
}

// TestVoicesDoNotClick renders the demo's voices for a round of turns and more,
// each through a speaker's Opus leg, mixes them and sends the mix through
// the mixer's Opus encode, decodes it and looks for broadband transients.
// The old voices cut their last syllable off mid-sound at the end of every
// turn: one click per turn.
func TestVoicesDoNotClick(t *testing.T) {
	vs := voices()
	var round int
	for _, v := range vs {
		round = max(round, int(v.voice.Phrase.Seconds()*codec.SampleRate)*v.voice.Turns)
	}
	n := (round + round/4) / codec.FrameSamples * codec.FrameSamples // every turn end and the wrap of the round
	mix := make([]float32, n)
	for _, v := range vs {
		pcm := make([]float32, n)
		for i := 0; i < n; i += codec.FrameSamples {
			v.voice.Fill(pcm[i : i+codec.FrameSamples])
		}
		leg := through(t, pcm)
		if at, worst := clicks(leg); len(at) > 0 {
			t.Errorf("%s alone clicks at %v s (worst window %.0f× its neighbourhood)", v.name, at, worst)
		} else {
			t.Logf("%s alone: worst window %.1f× its neighbourhood above 5 kHz", v.name, worst)
		}
		for i := range leg {
			mix[i] += leg[i]
		}
	}
	out := through(t, mix)
	if at, worst := clicks(out); len(at) > 0 {
		t.Errorf("the mix clicks at %v s (worst window %.0f× its neighbourhood)", at, worst)
	} else {
		t.Logf("mix: worst window %.1f× its neighbourhood above 5 kHz", worst)
	}
}
