package live

import (
	"testing"
	"time"

	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/mix"
)

// BenchmarkOutputPath is the mixer's output path per 20 ms frame: before
// the delay (one stream), and now (the monitor, the delay line, the
// audience stream) with delay 0 and 10 s.
func BenchmarkOutputPath(b *testing.B) {
	pkt := make([]byte, 120) // a 48 kbit/s Opus frame
	levels := []mix.Level{{ID: "a", Level: 0.5, Speaking: true}}
	now := time.Now()
	b.Run("stream-only", func(b *testing.B) {
		st := hls.NewStream("sp", now, now, hls.Config{})
		b.ReportAllocs()
		for b.Loop() {
			st.WriteFrame(pkt)
		}
	})
	for _, d := range []time.Duration{0, 10 * time.Second} {
		b.Run("monitor+delay-"+d.String(), func(b *testing.B) {
			st := hls.NewStream("sp", now, now, hls.Config{})
			mon := hls.NewView("sp", MonitorView, true, now, now, hls.Config{})
			dl := newDelayLine(silencePacket())
			dl.setDelay(d)
			b.ReportAllocs()
			for b.Loop() {
				mon.WriteFrame(pkt)
				st.WriteFrame(dl.push(pkt, levels, now))
			}
		})
	}
}
