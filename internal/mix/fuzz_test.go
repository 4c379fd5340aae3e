package mix

import (
	"math"
	"testing"

	"github.com/podium-live/podium/internal/codec"
)

// FuzzPush drives one source's inbox and jitter buffer with an arbitrary
// stream of packets (ops: pairs of a sequence step and a payload length,
// with the high bit of the length asking for a frame to be played out)
// around an arbitrary starting sequence number. The jitter buffer keeps
// its invariant after every step, and a mixer fed the same stream produces
// exactly one frame per tick.
//
// It used to build a mixer per input (New primes an Opus encoder with ten
// encodes) and decode every packet: about a millisecond per input, and
// since nearly every input reached new decoder code, the engine spent its
// time minimizing each one for up to a minute, reporting 13 executions in
// 25 s. Decoding arbitrary packets is FuzzDecode's; here the packets are
// consumed undecoded (the path of a muted source, which keeps time from
// the packets' TOC bytes), and the mixer is built once.
func FuzzPush(f *testing.F) {
	sp := newSpeaker(f, nil, "seed", 440, 0.3)
	p := sp.next()
	f.Add(p.seq, []byte{1, 10, 1, 0x8a, 2, 0x8a, 0xff, 10, 1, 0x8a, 0x80, 0x8a}, p.payload)
	f.Add(uint16(65535), []byte{1, 0x81, 1, 0x81, 100, 0x81, 0x9c, 0x81}, p.payload[:3])
	f.Add(uint16(0), []byte{0, 0x83, 0, 0x83, 40, 3, 0x80, 0x80, 0x80, 0x80}, []byte{0xfb, 0xff, 0xff})
	f.Add(uint16(7), []byte{}, []byte{0x1b, 0xbf})
	frames := 0
	m, err := New(Config{JitterFrames: 1}, func(int64, []byte) { frames++ }, nil)
	if err != nil {
		f.Fatal(err)
	}
	// One muted mixer source for the whole run (AddSource builds an Opus
	// decoder, 0.4 ms): it sees one long arbitrary stream, as a speaker's
	// source does.
	m.SetMuted("f", true)
	src := m.AddSource("f")
	var c counters
	f.Fuzz(func(t *testing.T, seq uint16, ops []byte, payload []byte) {
		// 64 steps: enough to fill, wrap and drain the buffer (maxDepth
		// 50), few enough that a mixer tick per played frame stays cheap.
		if len(ops) > 128 {
			ops = ops[:128]
		}
		s := newSource("direct", 2, &c, nil)
		frames = 0
		ticks := 0
		for i := 0; i+1 < len(ops); i += 2 {
			seq += uint16(int8(ops[i]))
			n := min(int(ops[i+1]&0x7f), len(payload))
			s.Push(seq, 0, payload[:n])
			src.Push(seq, 0, payload[:n])
			if ops[i+1]&0x80 != 0 {
				if frame := s.render(false); frame != nil {
					t.Fatalf("an undecoded source rendered %d samples", len(frame))
				}
				m.Tick()
				ticks++
			}
			s.drain()
			checkJitter(t, &s.jb)
		}
		m.Tick()
		if frames != ticks+1 {
			t.Fatalf("frames = %d after %d ticks", frames, ticks+1)
		}
	})
}

// checkJitter checks the jitter buffer's invariant: every buffered packet
// is in [next, next+maxDepth), in its own slot, and count counts them.
func checkJitter(t *testing.T, j *jitterBuffer) {
	t.Helper()
	n := 0
	for i := range j.slots {
		sl := &j.slots[i]
		if !sl.ok {
			continue
		}
		n++
		if d := seqDiff(sl.seq, j.next); d < 0 || d >= maxDepth {
			t.Fatalf("packet %d buffered %d from next %d", sl.seq, d, j.next)
		}
		if int(sl.seq&ringMask) != i {
			t.Fatalf("packet %d in slot %d", sl.seq, i)
		}
	}
	if n != j.count {
		t.Fatalf("count %d, %d packets buffered", j.count, n)
	}
}

// FuzzDecode plays one arbitrary packet, then a loss, through a source's
// decoder and concealment: a whole frame of finite samples or nothing,
// never a panic. One decoder serves the whole run (NewDecoder costs
// 0.4 ms, as much as the decoding), so it carries state from input to
// input, as a speaker's decoder does from packet to packet.
func FuzzDecode(f *testing.F) {
	sp := newSpeaker(f, nil, "seed", 440, 0.3)
	for range 2 {
		f.Add(sp.next().payload)
	}
	f.Add([]byte{0xfb, 0xff, 0xff})
	f.Add([]byte{0x1b, 0xbf})
	f.Add([]byte{0x03, 0x3f}) // code 3: up to 48 frames
	var c counters
	dec, err := codec.NewDecoder()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		s := newSource("f", 1, &c, dec)
		s.Push(1, 0, payload)
		for range 2 {
			checkFrame(t, s.render(false))
		}
	})
}

func checkFrame(t *testing.T, frame []float32) {
	t.Helper()
	if frame == nil {
		return
	}
	if len(frame) != codec.FrameSamples {
		t.Fatalf("rendered %d samples, want %d", len(frame), codec.FrameSamples)
	}
	for i, v := range frame {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("sample %d is %v", i, v)
		}
	}
}
