package live

import (
	"fmt"
	"time"
)

// SetDelay sets space id's audience delay to seconds (one of Delays): the
// host's choice, or with operator the operator's floor, which the host
// cannot go below. It opens the venue if need be, so a delay set before
// going live applies from the first frame. See delayLine for what the
// audience hears when it changes while live.
func (rt *Runtime) SetDelay(id string, seconds int, operator bool) (Delay, error) {
	if !validDelay(seconds) {
		return Delay{}, fmt.Errorf("%w: got %d", ErrBadDelay, seconds)
	}
	v, err := rt.venue(id)
	if err != nil {
		return Delay{}, err
	}
	return v.setDelay(time.Duration(seconds)*time.Second, operator)
}

// Dump silences the newest seconds of space id's delay line before the
// audience hears them (1 ≤ seconds ≤ the delay in force) and returns the
// wall-clock range dumped, as mixed.
func (rt *Runtime) Dump(id string, seconds int) (from, to time.Time, err error) {
	v := rt.open(id)
	var dl *delayLine
	if v != nil {
		v.mu.Lock()
		dl = v.delay
		v.mu.Unlock()
	}
	if dl == nil {
		return from, to, fmt.Errorf("%w: the space is not live on this node", ErrBadDump)
	}
	return dl.dump(time.Duration(seconds) * time.Second)
}
