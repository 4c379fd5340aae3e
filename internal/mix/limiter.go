package mix

import "math"

const (
	// ceiling is the limiter's output bound, -1 dBFS: headroom for the
	// codec, whose decoded peaks can overshoot its input slightly.
	ceiling = 0.891
	// releaseSeconds is the time constant over which gain recovers after
	// a peak.
	releaseSeconds = 0.15
	// maxInput bounds a sane mixed sample; anything beyond (or NaN) is
	// treated as garbage and silenced.
	maxInput = 64
)

// limiter keeps the mix within [-ceiling, ceiling] without hard clipping.
// A peak envelope attacks instantly and releases slowly; the gain is
// ceiling/envelope whenever the envelope is above the ceiling. Because the
// envelope is never below the current sample, the output never exceeds the
// ceiling, and a signal that stays under the ceiling passes unchanged.
type limiter struct {
	env     float32
	release float32 // per-sample envelope decay
}

func newLimiter(rate int) limiter {
	return limiter{release: float32(math.Exp(-1 / (releaseSeconds * float64(rate))))}
}

// process limits x in place and reports whether any gain reduction was
// applied.
func (l *limiter) process(x []float32) bool {
	env, rel := l.env, l.release
	limited := false
	for i, v := range x {
		a := v
		if a < 0 {
			a = -a
		}
		if !(a <= maxInput) {
			v, a = 0, 0
		}
		env *= rel
		if a > env {
			env = a
		}
		if env > ceiling {
			v *= ceiling / env
			limited = true
		}
		x[i] = v
	}
	if env < 1e-9 {
		env = 0
	}
	l.env = env
	return limited
}
