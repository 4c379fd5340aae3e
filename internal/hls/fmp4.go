package hls

import (
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

const (
	// timeScale is the fMP4 track time scale: one tick per Opus sample.
	timeScale = 48000
	// frameSamples is the duration of one 20 ms Opus packet in timeScale ticks.
	frameSamples = 960
	// trackID is the one and only track of every stream.
	trackID = 1
)

// buildInit returns the fMP4 initialization segment of a mono Opus stream.
// It depends on nothing but constants, so it is byte-identical across
// restarts and across nodes: init.mp4 URLs may be cached forever.
func buildInit() ([]byte, error) {
	init := fmp4.Init{
		Tracks: []*fmp4.InitTrack{{
			ID:        trackID,
			TimeScale: timeScale,
			Codec:     &codecs.Opus{ChannelCount: 1},
		}},
	}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("hls: marshal init: %w", err)
	}
	return buf.Bytes(), nil
}

// partBuilder turns buffered Opus packets into fMP4 fragments (moof+mdat).
// It is owned by the stream's writer side and reuses its buffers between
// parts; the bytes it returns are freshly allocated and never touched again.
type partBuilder struct {
	payload []byte         // packets of the pending part, back to back
	ends    []int          // end offset of each packet in payload
	samples []fmp4.Sample  // scratch, reused
	ptrs    []*fmp4.Sample // scratch, reused
}

// add copies one packet into the pending part.
func (b *partBuilder) add(pkt []byte) {
	b.payload = append(b.payload, pkt...)
	b.ends = append(b.ends, len(b.payload))
}

// frames is the number of packets pending.
func (b *partBuilder) frames() int { return len(b.ends) }

// build marshals the pending packets as one fragment whose first sample
// decodes at baseTime, with the given moof sequence number, and resets the
// pending state.
func (b *partBuilder) build(seq uint32, baseTime uint64) ([]byte, error) {
	n := len(b.ends)
	b.samples = b.samples[:0]
	b.ptrs = b.ptrs[:0]
	start := 0
	for _, end := range b.ends {
		b.samples = append(b.samples, fmp4.Sample{
			Duration: frameSamples,
			Payload:  b.payload[start:end],
		})
		start = end
	}
	for i := range b.samples {
		b.ptrs = append(b.ptrs, &b.samples[i])
	}
	part := fmp4.Part{
		SequenceNumber: seq,
		Tracks: []*fmp4.PartTrack{{
			ID:       trackID,
			BaseTime: baseTime,
			Samples:  b.ptrs,
		}},
	}
	var buf seekablebuffer.Buffer
	// moof+traf+trun overhead is about 100 bytes plus 8 per sample.
	buf.Grow(len(b.payload) + 128 + 16*n)
	if err := part.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("hls: marshal part: %w", err)
	}
	b.payload = b.payload[:0]
	b.ends = b.ends[:0]
	clear(b.ptrs)
	clear(b.samples) // drop references to payload
	return buf.Bytes(), nil
}

// InitSegment returns the fMP4 initialization segment that every live
// stream serves, for other packages (replay) that must produce the exact
// same format. The result is freshly allocated.
func InitSegment() ([]byte, error) { return buildInit() }

// BuildFragment returns one fMP4 fragment (moof+mdat) holding pkts, 20 ms
// Opus packets, the first decoding at baseTime (48 kHz ticks), with moof
// sequence number seq: the same layout as a live part or segment.
func BuildFragment(seq uint32, baseTime uint64, pkts [][]byte) ([]byte, error) {
	var b partBuilder
	for _, p := range pkts {
		b.add(p)
	}
	return b.build(seq, baseTime)
}
