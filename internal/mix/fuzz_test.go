package mix

import (
	"testing"
)

// FuzzPush pushes arbitrary packets around an arbitrary sequence number and
// plays them out: the mixer must never panic, and must keep producing
// frames.
func FuzzPush(f *testing.F) {
	sp := newSpeaker(f, nil, "seed", 440, 0.3)
	for i := range 3 {
		p := sp.next()
		f.Add(p.seq, p.ts, p.payload)
		f.Add(uint16(65535-i), uint32(0), p.payload[:len(p.payload)/2])
	}
	f.Add(uint16(0), uint32(0), []byte{0xfb, 0xff, 0xff})
	f.Add(uint16(7), uint32(1), []byte{0x1b, 0xbf})
	f.Fuzz(func(t *testing.T, seq uint16, ts uint32, payload []byte) {
		frames := 0
		m, err := New(Config{JitterFrames: 1}, func(int64, []byte) { frames++ }, nil)
		if err != nil {
			t.Fatal(err)
		}
		src := m.AddSource("f")
		for i, d := range []uint16{0, 2, 1, 1, 40000, 3} {
			src.Push(seq+d, ts+uint32(i)*960, payload)
			m.Tick()
		}
		for range 4 {
			m.Tick()
		}
		if frames != 10 {
			t.Fatalf("frames = %d after 10 ticks, want 10", frames)
		}
	})
}
