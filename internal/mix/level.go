package mix

import "math"

const (
	// floorDB is the level shown as 0; 0 dBFS is shown as 1.
	floorDB = -60
	// speakingLevel is the meter level above which a source is speaking:
	// -40 dBFS RMS, well above codec noise and below quiet speech.
	speakingLevel = 1 - 40.0/-floorDB
	// hangoverFrames keeps Speaking set 300 ms after the level drops, so
	// the indicator does not flicker between words.
	hangoverFrames = 15
	// levelFall is how much of the previous level survives a quieter frame:
	// the meter rises at once and falls smoothly.
	levelFall = 0.8
)

// Level is one source's loudness for a speaking indicator.
type Level struct {
	ID string
	// Level is perceptual loudness in [0, 1]: RMS in dBFS mapped linearly
	// from -60 (0) to 0 (1), rising at once and falling over ~100 ms.
	Level float32
	// Speaking is set while the frame level is above -40 dBFS and for
	// 300 ms afterwards.
	Speaking bool
}

// meter turns frames into a Level. It belongs to the frame-producing
// goroutine.
type meter struct {
	level float32
	hold  int // frames of Speaking left
}

// update folds in one frame (nil for silence) and returns the new reading.
func (m *meter) update(frame []float32) (float32, bool) {
	inst := dbLevel(rms(frame))
	if inst >= m.level {
		m.level = inst
	} else {
		m.level = m.level*levelFall + inst*(1-levelFall)
		if m.level < 1e-3 {
			m.level = 0
		}
	}
	if inst >= speakingLevel {
		m.hold = hangoverFrames
	} else if m.hold > 0 {
		m.hold--
	}
	return m.level, m.hold > 0
}

// rms returns the root mean square of frame.
func rms(frame []float32) float64 {
	if len(frame) == 0 {
		return 0
	}
	var sum float32
	for _, v := range frame {
		sum += v * v
	}
	return math.Sqrt(float64(sum) / float64(len(frame)))
}

// dbLevel maps an RMS amplitude to [0, 1] on a dB scale.
func dbLevel(r float64) float32 {
	if !(r > 0) {
		return 0
	}
	l := (20*math.Log10(r) - floorDB) / -floorDB
	return float32(min(max(l, 0), 1))
}
