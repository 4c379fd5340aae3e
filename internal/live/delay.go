package live

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/mix"
)

// Delays a space's audience may run with, in seconds.
var Delays = []int{0, 10, 30}

// MaxDelay is the longest audience delay.
const MaxDelay = 30 * time.Second

// frameDur is one mixed frame.
const frameDur = 20 * time.Millisecond

// ErrBadDelay is a delay that is not one of Delays.
var ErrBadDelay = errors.New("delay must be 0, 10 or 30 seconds")

// ErrDelayFloor is a host lowering the delay below the operator's floor.
var ErrDelayFloor = errors.New("the operator imposed a longer delay")

// ErrBadDump is a dump of nothing or of more than the current delay.
var ErrBadDump = errors.New("dump seconds must be at least 1 and at most the current delay")

// delayedFrame is one 20 ms frame in the delay line: the encoded mix, the
// levels the mixer measured for it and when it was mixed.
type delayedFrame struct {
	pkt    []byte // buf, or silence once dumped
	buf    []byte // the slot's own copy of the packet, reused
	levels []mix.Level
	at     time.Time
}

// delayLine holds the audience's delay: a ring of the newest encoded
// frames. push runs on the mixer goroutine (the output path); setDelay,
// dump and levels run on request goroutines. mu guards every field; it is
// held for a copy per frame, never across I/O.
//
// Changing the delay while live: raising it inserts silence (the line
// outputs silent frames until it holds the new delay), so listeners hear a
// pause of the difference; lowering it skips the oldest frames at once, so
// listeners miss the difference. Nothing is ever heard twice.
type delayLine struct {
	silence []byte

	mu     sync.Mutex
	ring   []delayedFrame // capacity MaxDelay in frames + 1
	head   int            // index of the oldest frame
	n      int            // frames held
	target int            // frames to hold
	// out is the levels of the frame that last left the line: what the
	// audience hears now.
	out []mix.Level
}

func newDelayLine(silence []byte) *delayLine {
	return &delayLine{silence: silence, ring: make([]delayedFrame, int(MaxDelay/frameDur)+1)}
}

// silencePacket is an Opus packet of digital silence, encoded once.
var silencePacket = sync.OnceValue(func() []byte {
	enc, err := codec.NewEncoder(0)
	if err != nil {
		panic(err) // the default configuration always builds
	}
	var pcm [codec.FrameSamples]float32
	var buf [codec.MaxPacket]byte
	var n int
	for range 10 { // let the encoder settle, as the mixer does
		if n, err = enc.Encode(pcm[:], buf[:]); err != nil {
			panic(err)
		}
	}
	return append([]byte(nil), buf[:n]...)
})

// validDelay reports whether s is one of Delays.
func validDelay(s int) bool {
	for _, d := range Delays {
		if d == s {
			return true
		}
	}
	return false
}

// setDelay makes the line hold d (see delayLine for what listeners hear).
func (d *delayLine) setDelay(delay time.Duration) {
	d.mu.Lock()
	d.target = int(delay / frameDur)
	d.mu.Unlock()
}

// push takes the newest frame and returns the frame the audience hears
// now, valid until the next push. levels is kept (not copied).
func (d *delayLine) push(pkt []byte, levels []mix.Level, at time.Time) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.target == 0 && d.n == 0 {
		d.out = levels
		return pkt
	}
	slot := &d.ring[(d.head+d.n)%len(d.ring)]
	slot.buf = append(slot.buf[:0], pkt...)
	slot.pkt = slot.buf
	slot.levels, slot.at = levels, at
	d.n++
	for d.n > d.target+1 { // lowered: skip the oldest
		d.head = (d.head + 1) % len(d.ring)
		d.n--
	}
	if d.n <= d.target { // filling (start, or raised): silence
		d.out = nil
		return d.silence
	}
	f := &d.ring[d.head]
	d.head = (d.head + 1) % len(d.ring)
	d.n--
	d.out = f.levels
	return f.pkt
}

// levels returns the levels of the frame the audience hears now.
func (d *delayLine) levels() []mix.Level {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out
}

// dump replaces the newest frames of dur with silence before the audience
// hears them and returns the wall-clock range dumped (when those frames
// were mixed). dur must be at least a second and at most the delay.
func (d *delayLine) dump(dur time.Duration) (from, to time.Time, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := int(dur / frameDur)
	if dur < time.Second || k > d.target {
		return from, to, fmt.Errorf("%w (now %d s)", ErrBadDump, d.target*int(frameDur)/int(time.Second))
	}
	k = min(k, d.n)
	for i := d.n - k; i < d.n; i++ {
		f := &d.ring[(d.head+i)%len(d.ring)]
		f.pkt, f.levels = d.silence, nil
		if from.IsZero() {
			from = f.at
		}
		to = f.at.Add(frameDur)
	}
	return from, to, nil
}
