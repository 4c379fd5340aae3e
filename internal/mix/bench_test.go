package mix

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkMixer measures one 20 ms frame of a space where every speaker
// talks: each iteration pushes one packet per speaker and mixes a frame.
// core% is the share of one core the space needs in real time.
func BenchmarkMixer(b *testing.B) {
	for _, n := range []int{2, 10, 50} {
		b.Run(fmt.Sprintf("speakers=%d", n), func(b *testing.B) {
			m, err := New(Config{}, func(int64, []byte) {}, nil)
			if err != nil {
				b.Fatal(err)
			}
			const loop = 50 // distinct packets per speaker, replayed
			srcs := make([]*Source, n)
			pkts := make([][]packet, n)
			for i := range n {
				sp := newSpeaker(b, m, fmt.Sprintf("s%02d", i), 200+float64(i)*37, 0.1)
				srcs[i] = sp.src
				for range loop {
					pkts[i] = append(pkts[i], sp.next())
				}
			}
			seq := uint16(0)
			frame := func() {
				for i, src := range srcs {
					p := pkts[i][int(seq)%loop]
					src.Push(seq, p.ts, p.payload)
				}
				seq++
				m.Tick()
			}
			for range 2 * loop { // fill buffers and reach steady state
				frame()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				frame()
			}
			reportFrame(b)
		})
	}
}

// BenchmarkMixerSilent measures a space with ten connected speakers who
// send nothing.
func BenchmarkMixerSilent(b *testing.B) {
	m, err := New(Config{}, func(int64, []byte) {}, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10 {
		m.AddSource(fmt.Sprintf("s%02d", i))
	}
	m.Tick()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.Tick()
	}
	reportFrame(b)
}

func reportFrame(b *testing.B) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/frame")
	b.ReportMetric(ns/float64(20*time.Millisecond)*100, "core%")
}
