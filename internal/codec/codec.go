// Package codec is podium's small window onto Opus: mono, 48 kHz, 20 ms
// frames, the only shape the audio path uses. Keeping the Opus library behind
// this package lets it be swapped or cross-checked without touching callers.
package codec

import (
	"fmt"

	"github.com/thesyncim/gopus"
)

const (
	// SampleRate is the only rate podium encodes and decodes at.
	SampleRate = 48000
	// FrameSamples is one 20 ms mono frame at SampleRate.
	FrameSamples = 960
	// MaxPacket is large enough for any Opus packet podium produces or accepts.
	MaxPacket = 1500
	// DefaultBitrate is the encoder's target rate when none is given.
	DefaultBitrate = 48000
)

// Encoder turns 20 ms mono float32 frames into Opus packets. It is not safe
// for concurrent use.
type Encoder struct {
	enc *gopus.Encoder
}

// NewEncoder returns a mono 48 kHz encoder tuned for speech at bitrate bits/s
// (0 picks DefaultBitrate).
func NewEncoder(bitrate int) (*Encoder, error) {
	if bitrate == 0 {
		bitrate = DefaultBitrate
	}
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{
		SampleRate:  SampleRate,
		Channels:    1,
		Application: gopus.ApplicationAudio,
	})
	if err != nil {
		return nil, fmt.Errorf("codec: new encoder: %w", err)
	}
	if err := enc.SetBitrate(bitrate); err != nil {
		return nil, fmt.Errorf("codec: set bitrate %d: %w", bitrate, err)
	}
	return &Encoder{enc: enc}, nil
}

// Encode encodes exactly one frame (FrameSamples samples) into dst and
// returns the packet length.
func (e *Encoder) Encode(pcm []float32, dst []byte) (int, error) {
	if len(pcm) != FrameSamples {
		return 0, fmt.Errorf("codec: encode: frame has %d samples, want %d", len(pcm), FrameSamples)
	}
	n, err := e.enc.Encode(pcm, dst)
	if err != nil {
		return 0, fmt.Errorf("codec: encode: %w", err)
	}
	return n, nil
}

// Decoder turns Opus packets into mono float32 samples at 48 kHz. It is not
// safe for concurrent use.
type Decoder struct {
	dec *gopus.Decoder
}

// NewDecoder returns a mono 48 kHz decoder.
func NewDecoder() (*Decoder, error) {
	dec, err := gopus.NewDecoder(gopus.DefaultDecoderConfig(SampleRate, 1))
	if err != nil {
		return nil, fmt.Errorf("codec: new decoder: %w", err)
	}
	return &Decoder{dec: dec}, nil
}

// Decode decodes one packet into pcm (which must hold at least the packet's
// duration; 5760 samples covers any packet) and returns the samples written.
// A stereo packet is downmixed by the decoder configuration.
func (d *Decoder) Decode(pkt []byte, pcm []float32) (int, error) {
	if len(pkt) == 0 {
		return 0, fmt.Errorf("codec: decode: empty packet")
	}
	n, err := d.dec.Decode(pkt, pcm)
	if err != nil {
		return 0, fmt.Errorf("codec: decode: %w", err)
	}
	return n, nil
}

// Conceal fills pcm with packet-loss concealment for one missing frame of
// len(pcm) samples and returns the samples written.
func (d *Decoder) Conceal(pcm []float32) (int, error) {
	n, err := d.dec.Decode(nil, pcm)
	if err != nil {
		return 0, fmt.Errorf("codec: conceal: %w", err)
	}
	return n, nil
}
