package hls

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/podium-live/podium/internal/codec"
)

const (
	// timeScale is the fMP4 track time scale: one tick per Opus sample.
	timeScale = 48000
	// frameSamples is the duration of one 20 ms Opus packet in timeScale ticks.
	frameSamples = 960
	// trackID is the one and only track of every stream.
	trackID = 1
)

// The BitRateBox (btrt, ISO/IEC 14496-12 §8.5.2) of the sample entry
// describes the stream to players that size buffers or pick renditions by
// it: bufferSizeDB, the decoding buffer in bytes; maxBitrate, the highest
// rate over any one-second window; avgBitrate, the rate over the whole
// presentation. The init segment is written before any media exists and
// must be identical across restarts and nodes, so the values come from the
// configured encoder, not from what was written: the mixer's Opus encoder
// runs VBR at codec.DefaultBitrate (48 kbit/s, not configurable) and never
// writes a packet over codec.MaxPacket bytes. The average is that target
// (a space with pauses averages below it: silence is a tiny packet); the
// maximum allows the encoder's VBR excursions, which stay within 4 % of
// the target on noise, clicks and chirps (TestBtrtHonest checks 1/6).
const (
	btrtBufferSize = codec.MaxPacket
	btrtAvgBitrate = codec.DefaultBitrate
	btrtMaxBitrate = codec.DefaultBitrate * 7 / 6
)

// buildInit returns the fMP4 initialization segment of a mono Opus stream.
// It depends on nothing but constants, so it is byte-identical across
// restarts and across nodes: init.mp4 URLs may be cached forever.
func buildInit() ([]byte, error) {
	init := fmp4.Init{
		Tracks: []*fmp4.InitTrack{{
			ID:         trackID,
			TimeScale:  timeScale,
			Codec:      &codecs.Opus{ChannelCount: 1},
			AvgBitrate: btrtAvgBitrate,
			MaxBitrate: btrtMaxBitrate,
		}},
	}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("hls: marshal init: %w", err)
	}
	b := buf.Bytes()
	if err := setBtrtBufferSize(b, btrtBufferSize); err != nil {
		return nil, err
	}
	return b, nil
}

// setBtrtBufferSize fills in bufferSizeDB of the one btrt box in init,
// which the muxer leaves at zero.
func setBtrtBufferSize(init []byte, size uint32) error {
	// size(4) "btrt" bufferSizeDB(4) maxBitrate(4) avgBitrate(4)
	head := []byte{0, 0, 0, 20, 'b', 't', 'r', 't'}
	i := bytes.Index(init, head)
	if i < 0 || bytes.Contains(init[i+1:], head) || i+20 > len(init) {
		return fmt.Errorf("hls: init segment has no single btrt box")
	}
	binary.BigEndian.PutUint32(init[i+8:], size)
	return nil
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
