package mix

import (
	"testing"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/tone"
)

// speaker produces a real Opus stream of a sine tone, as a browser would.
type speaker struct {
	tb   testing.TB
	src  *Source
	enc  *codec.Encoder
	sine tone.Sine
	seq  uint16
	ts   uint32
	pcm  [codec.FrameSamples]float32
	buf  [codec.MaxPacket]byte
}

func newSpeaker(tb testing.TB, m *Mixer, id string, freq, amp float64) *speaker {
	tb.Helper()
	enc, err := codec.NewEncoder(0)
	if err != nil {
		tb.Fatal(err)
	}
	sp := &speaker{tb: tb, enc: enc, sine: tone.Sine{Freq: freq, Amplitude: amp, Rate: codec.SampleRate}, seq: 1000}
	if m != nil {
		sp.src = m.AddSource(id)
	}
	return sp
}

// packet is one RTP payload with its sequence number and timestamp.
type packet struct {
	seq     uint16
	ts      uint32
	payload []byte
}

// next encodes the next 20 ms of the tone into a fresh packet.
func (sp *speaker) next() packet {
	sp.tb.Helper()
	sp.sine.Fill(sp.pcm[:])
	n, err := sp.enc.Encode(sp.pcm[:], sp.buf[:])
	if err != nil {
		sp.tb.Fatal(err)
	}
	p := packet{seq: sp.seq, ts: sp.ts, payload: append([]byte(nil), sp.buf[:n]...)}
	sp.seq++
	sp.ts += codec.FrameSamples
	return p
}

// send encodes and pushes the next packet.
func (sp *speaker) send() {
	p := sp.next()
	sp.src.Push(p.seq, p.ts, p.payload)
}

// listener decodes everything the mixer emits.
type listener struct {
	tb    testing.TB
	dec   *codec.Decoder
	pcm   []float32
	calls int
	frame [maxPacketSamples]float32
}

func newListener(tb testing.TB) *listener {
	tb.Helper()
	dec, err := codec.NewDecoder()
	if err != nil {
		tb.Fatal(err)
	}
	return &listener{tb: tb, dec: dec}
}

func (l *listener) out(idx int64, pkt []byte) {
	if idx != int64(l.calls) {
		l.tb.Errorf("out idx = %d, want %d", idx, l.calls)
	}
	l.calls++
	n, err := l.dec.Decode(pkt, l.frame[:])
	if err != nil {
		l.tb.Errorf("frame %d: decode mixer output: %v", idx, err)
		return
	}
	if n != codec.FrameSamples {
		l.tb.Errorf("frame %d: decoded %d samples, want %d", idx, n, codec.FrameSamples)
	}
	l.pcm = append(l.pcm, l.frame[:n]...)
}

// last returns the last frames frames of decoded output.
func (l *listener) last(frames int) []float32 {
	n := frames * codec.FrameSamples
	if n > len(l.pcm) {
		l.tb.Fatalf("want %d frames of output, have %d samples", frames, len(l.pcm))
	}
	return l.pcm[len(l.pcm)-n:]
}

func newTestMixer(tb testing.TB, cfg Config) (*Mixer, *listener) {
	tb.Helper()
	l := newListener(tb)
	m, err := New(cfg, l.out, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return m, l
}

// step pushes one packet from each speaker, then ticks once, n times.
func step(m *Mixer, n int, sps ...*speaker) {
	for range n {
		for _, sp := range sps {
			sp.send()
		}
		m.Tick()
	}
}

// window is how much output the tone checks look at: 200 ms, so the 5 Hz
// Goertzel resolution puts every test tone exactly on a bin.
const window = 10

func power(pcm []float32, freq float64) float64 { return tone.Power(pcm, freq, codec.SampleRate) }

// wantTone fails unless freq is in pcm with amplitude within [lo, hi].
func wantTone(tb testing.TB, what string, pcm []float32, freq, lo, hi float64) {
	tb.Helper()
	if got := power(pcm, freq); got < lo || got > hi {
		tb.Errorf("%s: %v Hz amplitude = %.3f, want %.2f..%.2f", what, freq, got, lo, hi)
	}
}

// wantNoTone fails if freq is audible in pcm.
func wantNoTone(tb testing.TB, what string, pcm []float32, freq float64) {
	tb.Helper()
	if got := power(pcm, freq); got > 0.03 {
		tb.Errorf("%s: %v Hz amplitude = %.3f, want < 0.03", what, freq, got)
	}
}
