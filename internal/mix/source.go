package mix

import (
	"sync"
	"sync/atomic"

	"github.com/podium-live/podium/internal/codec"
)

const (
	// inboxSize is how many packets a source may push between two frames
	// before the oldest are dropped (640 ms of 20 ms packets).
	inboxSize = 32
	// minPacketCap is the smallest storage given to a packet buffer, so that
	// ordinary Opus packets never need a second allocation.
	minPacketCap = 512
	// maxPacketSamples is the longest Opus packet (120 ms at 48 kHz).
	maxPacketSamples = 5760
	// fifoSize holds one packet's samples on top of a partly used frame.
	fifoSize = codec.FrameSamples + maxPacketSamples
)

// inPacket is a pushed packet waiting for the mixer.
type inPacket struct {
	buf []byte
	seq uint16
}

// inbox is a bounded FIFO of pushed packets.
type inbox struct {
	pkts    [inboxSize]inPacket
	head, n int
}

// Source is one speaker feeding a Mixer. Push is the only method; the mixer
// does the rest.
//
// Concurrency: mu guards in, and only in. Push fills in under mu; once per
// frame the mixer swaps in with its own drained inbox (out) under mu, so
// neither side holds mu for more than a copy of one packet. Everything
// below "audio state" belongs to the goroutine producing frames (the one
// holding Mixer.frameMu) and is never touched by Push.
type Source struct {
	id string
	c  *counters // the mixer's counters; atomics

	closed atomic.Bool // removed or replaced: Push drops everything
	muted  atomic.Bool // set by Mixer.SetMuted

	mu sync.Mutex
	in *inbox // guarded by mu

	// Audio state, owned by the frame-producing goroutine.
	out     *inbox
	jb      jitterBuffer
	dec     *codec.Decoder // nil if it could not be built: the source stays silent
	fifo    [fifoSize]float32
	fifoLen int // decoded samples in fifo
	served  int // samples handed to the mix last frame, dropped at the next
	meter   meter
}

func newSource(id string, jitterFrames int, c *counters, dec *codec.Decoder) *Source {
	s := &Source{id: id, c: c, in: new(inbox), out: new(inbox), dec: dec}
	s.jb.target = jitterFrames
	s.jb.c = c
	return s
}

// ID returns the identifier the source was added under.
func (s *Source) ID() string { return s.id }

// Push hands one RTP payload (one Opus packet) to the mixer. It copies
// payload, never blocks on the mixer for longer than a packet copy, and is
// safe to call concurrently with the mixer (normally from the one ingest
// read loop for this speaker). The timestamp is accepted for symmetry with
// RTP; playout is ordered by seq alone, and packet durations are read from
// the Opus packets themselves. When the mixer falls more than inboxSize
// packets behind, the oldest waiting packet is dropped.
func (s *Source) Push(seq uint16, timestamp uint32, payload []byte) {
	if len(payload) == 0 || len(payload) > codec.MaxPacket {
		s.c.invalid.Add(1)
		return
	}
	if s.closed.Load() {
		return
	}
	s.mu.Lock()
	in := s.in
	if in.n == inboxSize {
		in.head = (in.head + 1) % inboxSize
		in.n--
		s.c.dropped.Add(1)
	}
	p := &in.pkts[(in.head+in.n)%inboxSize]
	if cap(p.buf) < len(payload) {
		p.buf = make([]byte, 0, max(len(payload), minPacketCap))
	}
	p.buf = append(p.buf[:0], payload...)
	p.seq = seq
	in.n++
	s.mu.Unlock()
	s.c.packets.Add(1)
}

// drain moves pushed packets into the jitter buffer, recycling storage.
func (s *Source) drain() {
	s.mu.Lock()
	if s.in.n == 0 {
		s.mu.Unlock()
		return
	}
	q := s.in
	s.in, s.out = s.out, q
	s.mu.Unlock()
	for ; q.n > 0; q.n-- {
		p := &q.pkts[q.head]
		p.buf = s.jb.insert(p.seq, p.buf)[:0]
		q.head = (q.head + 1) % inboxSize
	}
	q.head = 0
}

// render produces the source's next 20 ms frame. It returns nil when the
// source has nothing to play or is muted; otherwise the frame stays valid
// until the next render. A source with no packets costs a lock and a few
// comparisons: nothing is decoded or concealed for it.
func (s *Source) render(muted bool) []float32 {
	if s.served > 0 {
		s.fifoLen = copy(s.fifo[:], s.fifo[s.served:s.fifoLen])
		s.served = 0
	}
	s.drain()
	s.jb.trimDrift()
	for s.fifoLen < codec.FrameSamples {
		pkt, r := s.jb.pop()
		if r == popNone {
			break
		}
		dst := s.fifo[s.fifoLen:]
		switch {
		case muted || s.dec == nil:
			// Keep time without decoding: the packet is consumed, unheard.
			n := codec.FrameSamples
			if r == popPacket {
				if d := opusSamples(pkt); d > 0 {
					n = d
				}
			}
			clear(dst[:n])
			s.fifoLen += n
		case r == popPacket:
			s.fifoLen += s.decode(pkt, dst)
		default:
			s.fifoLen += s.conceal(dst[:codec.FrameSamples])
		}
	}
	if s.fifoLen == 0 {
		return nil
	}
	if s.fifoLen < codec.FrameSamples {
		// Stopped mid-frame: finish the frame with silence.
		clear(s.fifo[s.fifoLen:codec.FrameSamples])
		s.fifoLen = codec.FrameSamples
	}
	s.served = codec.FrameSamples
	if muted || s.dec == nil {
		return nil
	}
	return s.fifo[:codec.FrameSamples]
}

// decode decodes pkt into dst, concealing instead when the packet is bad.
func (s *Source) decode(pkt []byte, dst []float32) int {
	n, err := s.dec.Decode(pkt, dst)
	if err != nil || n <= 0 || n > len(dst) {
		s.c.decodeErrors.Add(1)
		return s.conceal(dst[:codec.FrameSamples])
	}
	return n
}

// conceal fills one frame with packet-loss concealment (or silence when the
// decoder has nothing to extrapolate from) and returns len(dst).
func (s *Source) conceal(dst []float32) int {
	s.c.concealed.Add(1)
	n, err := s.dec.Conceal(dst)
	if err != nil || n < 0 {
		n = 0
	}
	if n < len(dst) {
		clear(dst[n:])
	}
	return len(dst)
}

// opusSamples returns the duration in 48 kHz samples of an Opus packet, read
// from its TOC byte (RFC 6716 section 3.1), or 0 if the packet is malformed.
func opusSamples(pkt []byte) int {
	if len(pkt) == 0 {
		return 0
	}
	toc := pkt[0]
	config := int(toc >> 3)
	var frame int
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = [4]int{480, 960, 1920, 2880}[config&3]
	case config < 16: // hybrid: 10, 20 ms
		frame = [2]int{480, 960}[config&1]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [4]int{120, 240, 480, 960}[config&3]
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(pkt) < 2 {
			return 0
		}
		frames = int(pkt[1] & 0x3f)
	}
	if n := frame * frames; n > 0 && n <= maxPacketSamples {
		return n
	}
	return 0
}
