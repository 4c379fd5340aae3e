package demo

import (
	"math"
	"time"
)

// Voice is a synthetic speaker: a pitched, syllabic "bleep-speech" made of a
// fundamental and a few harmonics, shaped into syllables and phrases. Two
// voices share one turn clock so they talk in turns with pauses.
//
// Nothing may click: every syllable rises from and falls back to silence
// along a raised cosine (no step and no kink in the envelope), a turn holds
// whole syllables only (one cut off mid-sound clicked at the end of every
// turn), and pitch changes only between syllables, in silence, while the
// phase runs on continuously.
type Voice struct {
	// Pitches cycles per syllable (Hz).
	Pitches []float64
	// Harmonics are the relative amplitudes of harmonics 2, 3, ...
	Harmonics []float64
	// Turn is this voice's turn index (0 or 1) of Turns.
	Turn, Turns int
	// Phrase is how long one turn lasts; the last Pause of it (at least) is
	// silence: the talk ends with the last whole syllable that fits.
	Phrase, Pause time.Duration
	Amplitude     float64

	t     int64 // samples generated
	phase float64
}

// Fill writes the next len(pcm) samples at 48 kHz.
func (v *Voice) Fill(pcm []float32) {
	const rate = 48000
	turnLen := int64(v.Phrase.Seconds() * rate)
	const syl = rate / 5 // five syllables a second
	talkLen := (turnLen - int64(v.Pause.Seconds()*rate)) / syl * syl
	for i := range pcm {
		n := v.t
		v.t++
		cycle := n % (turnLen * int64(v.Turns))
		mine := cycle/turnLen == int64(v.Turn)
		inTurn := cycle % turnLen
		if !mine || inTurn >= talkLen {
			pcm[i] = 0
			continue
		}
		k := inTurn / syl
		f := v.Pitches[int(k+(n/(turnLen*int64(v.Turns))))%len(v.Pitches)]
		// a syllable envelope: a raised cosine over 80% of the syllable,
		// then silence
		pos := float64(inTurn%syl) / float64(syl)
		env := 0.0
		if pos < 0.8 {
			env = 0.5 - 0.5*math.Cos(2*math.Pi*pos/0.8)
		}
		v.phase += 2 * math.Pi * f / rate
		if v.phase > 2*math.Pi*1000 {
			v.phase -= 2 * math.Pi * 1000
		}
		s := math.Sin(v.phase)
		for h, a := range v.Harmonics {
			s += a * math.Sin(float64(h+2)*v.phase)
		}
		pcm[i] = float32(v.Amplitude * env * s)
	}
}
