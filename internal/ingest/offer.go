package ingest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// ErrBadOffer wraps every reason an offer is refused; the message says why.
var ErrBadOffer = errors.New("bad offer")

// MaxOfferBytes bounds an SDP offer; real ones are a few KiB.
const MaxOfferBytes = 32 << 10

// offerShape is what podium needs to know about an offer before answering.
type offerShape struct {
	// listenSlots counts audio m-lines the client wants to receive on
	// (recvonly): one per other speaker it can hear.
	listenSlots int
}

// parseOffer checks that raw is an SDP offer podium can answer: it must
// parse, carry exactly one audio m-line that sends Opus, and may carry
// recvonly audio m-lines (listening slots). Video and other media are
// allowed (OBS sends video) and will be rejected in the answer.
func parseOffer(raw []byte) (offerShape, error) {
	var shape offerShape
	if len(raw) == 0 {
		return shape, fmt.Errorf("%w: empty body, want an SDP offer", ErrBadOffer)
	}
	if len(raw) > MaxOfferBytes {
		return shape, fmt.Errorf("%w: offer larger than %d bytes", ErrBadOffer, MaxOfferBytes)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(string(raw)); err != nil {
		return shape, fmt.Errorf("%w: SDP does not parse: %v", ErrBadOffer, err)
	}
	senders := 0
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Media != "audio" {
			continue
		}
		if !hasOpus(m) {
			if direction(m) == "recvonly" {
				continue
			}
			return shape, fmt.Errorf("%w: audio m-line offers no Opus codec", ErrBadOffer)
		}
		switch direction(m) {
		case "sendonly", "sendrecv":
			senders++
		case "recvonly":
			shape.listenSlots++
		}
	}
	switch {
	case senders == 0:
		return shape, fmt.Errorf("%w: no audio m-line sending Opus (a speaker must send audio)", ErrBadOffer)
	case senders > 1:
		return shape, fmt.Errorf("%w: %d audio m-lines send audio, want exactly one", ErrBadOffer, senders)
	case shape.listenSlots > MaxListenSlots:
		return shape, fmt.Errorf("%w: %d listening slots, at most %d", ErrBadOffer, shape.listenSlots, MaxListenSlots)
	}
	return shape, nil
}

func hasOpus(m *sdp.MediaDescription) bool {
	for _, a := range m.Attributes {
		if a.Key == "rtpmap" && strings.Contains(strings.ToLower(a.Value), "opus/48000") {
			return true
		}
	}
	return false
}

func direction(m *sdp.MediaDescription) string {
	for _, a := range m.Attributes {
		switch a.Key {
		case "sendonly", "recvonly", "sendrecv", "inactive":
			return a.Key
		}
	}
	return "sendrecv"
}
