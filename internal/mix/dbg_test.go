package mix

import (
	"math/rand/v2"
	"testing"
)

func TestDbgFuzz(t *testing.T) {
	sp := newSpeaker(t, nil, "seed", 440, 0.3)
	p := sp.next()
	r := rand.New(rand.NewPCG(1, 2))
	for it := range 5000 {
		payload := append([]byte(nil), p.payload...)
		for range 1 + r.IntN(4) {
			payload[r.IntN(len(payload))] = byte(r.Uint32())
		}
		if r.IntN(3) == 0 {
			payload = payload[:r.IntN(len(payload))+1]
		}
		m, _ := New(Config{JitterFrames: 1}, func(int64, []byte) {}, nil)
		src := m.AddSource("f")
		seq := uint16(r.Uint32())
		for i, d := range []uint16{0, 2, 1, 1, 40000, 3} {
			src.Push(seq+d, uint32(i)*960, payload)
			m.Tick()
		}
		_ = it
	}
}
