package loadtest

import "time"

// Playout models a listener's playout buffer, the way a player experiences
// the stream: playback starts when the first part arrives (the player
// starts PART-HOLD-BACK behind live, so that first fetch brings a few parts
// at once); every part adds its duration to the buffer, and the buffer
// drains in real time. When it runs dry before the next part arrives the
// listener hears a stall, which lasts until the next part arrives.
//
// A Playout is not safe for concurrent use; the listener guards it.
type Playout struct {
	started bool
	last    time.Time // accounted up to here
	bufEnd  time.Time // when the buffer runs dry

	Listened time.Duration // time since playback started (accounted)
	Stalled  time.Duration // of which the buffer was empty
	Stalls   int           // stalls begun

	repListened, repStalled time.Duration // as of the last Advance
}

// Part records a part (or segment) of duration d arriving at time at.
func (p *Playout) Part(at time.Time, d time.Duration) {
	if !p.started {
		p.started, p.last, p.bufEnd = true, at, at.Add(d)
		return
	}
	p.advance(at)
	if p.bufEnd.Before(at) {
		p.bufEnd = at // playback resumes with this part
	}
	p.bufEnd = p.bufEnd.Add(d)
}

// Advance accounts time up to now and returns what was listened to and
// stalled since the previous call of Advance.
func (p *Playout) Advance(now time.Time) (listened, stalled time.Duration) {
	p.advance(now)
	listened, stalled = p.Listened-p.repListened, p.Stalled-p.repStalled
	p.repListened, p.repStalled = p.Listened, p.Stalled
	return listened, stalled
}

// advance accounts time up to now.
func (p *Playout) advance(now time.Time) {
	if !p.started || !now.After(p.last) {
		return
	}
	listened := now.Sub(p.last)
	var stalled time.Duration
	if now.After(p.bufEnd) {
		from := p.last
		if p.bufEnd.After(from) {
			from = p.bufEnd
		}
		if !p.bufEnd.Before(p.last) {
			p.Stalls++ // the buffer ran dry inside this interval
		}
		stalled = now.Sub(from)
	}
	p.last = now
	p.Listened += listened
	p.Stalled += stalled
}

// Started reports whether playback has begun.
func (p *Playout) Started() bool { return p.started }

// Buffered is how much media is buffered at now (0 when stalled).
func (p *Playout) Buffered(now time.Time) time.Duration {
	if !p.started || !p.bufEnd.After(now) {
		return 0
	}
	return p.bufEnd.Sub(now)
}

// Goodput is the share of listening time without a stall (1 when nothing
// was listened to yet).
func (p *Playout) Goodput() float64 { return goodput(p.Listened, p.Stalled) }

func goodput(listened, stalled time.Duration) float64 {
	if listened <= 0 {
		return 1
	}
	return float64(listened-stalled) / float64(listened)
}
