package ingest

import (
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// slot is one outgoing audio track to a speaker: the server forwards one
// other speaker's packets into it. When the slot changes source, sequence
// numbers and timestamps are rewritten so the receiver sees one continuous
// stream with a gap, not a jump backwards.
type slot struct {
	track *webrtc.TrackLocalStaticRTP

	mu sync.Mutex // guards the fields below
	// src is the speaker forwarded into this slot ("" = free).
	src string
	// fresh is true until the first packet of src is written.
	fresh       bool
	seqOff      uint16
	tsOff       uint32
	lastSeq     uint16
	lastTS      uint32
	lastAt      time.Time
	everWritten bool
}

// assign points the slot at speaker id ("" frees it).
func (s *slot) assign(id string) {
	s.mu.Lock()
	if s.src != id {
		s.src, s.fresh = id, true
	}
	s.mu.Unlock()
}

func (s *slot) source() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.src
}

// forward writes pkt from speaker from into the slot if from is its source.
func (s *slot) forward(from string, pkt *rtp.Packet, now time.Time) {
	s.mu.Lock()
	if s.src != from {
		s.mu.Unlock()
		return
	}
	if s.fresh {
		s.fresh = false
		nextSeq, nextTS := uint16(0), uint32(0)
		if s.everWritten {
			nextSeq = s.lastSeq + 1
			gap := now.Sub(s.lastAt)
			if gap < 20*time.Millisecond {
				gap = 20 * time.Millisecond
			}
			nextTS = s.lastTS + uint32(gap.Seconds()*48000)
		}
		s.seqOff = nextSeq - pkt.SequenceNumber
		s.tsOff = nextTS - pkt.Timestamp
	}
	out := *pkt // shallow copy: the payload is shared, the header is ours
	out.SequenceNumber += s.seqOff
	out.Timestamp += s.tsOff
	if !s.everWritten || int16(out.SequenceNumber-s.lastSeq) > 0 {
		s.lastSeq, s.lastTS = out.SequenceNumber, out.Timestamp
	}
	s.lastAt, s.everWritten = now, true
	s.mu.Unlock()
	// A write error means the receiving speaker is gone; its own session
	// notices and leaves.
	_ = s.track.WriteRTP(&out)
}
