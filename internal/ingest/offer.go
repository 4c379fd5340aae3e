package ingest

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pion/sdp/v3"
)

// ErrBadOffer wraps every reason an offer is refused; the message says why.
var ErrBadOffer = errors.New("bad offer")

// MaxOfferBytes bounds an SDP offer; real ones are a few KiB.
const MaxOfferBytes = 32 << 10

// MaxOfferCandidates bounds the distinct ICE candidates (transport,
// address, port) an offer may list: the node sends connectivity checks to
// each one, so an offer must not make it probe hundreds of addresses. A
// browser on a well-connected laptop lists a dozen.
const MaxOfferCandidates = 32

// offerShape is what podium needs to know about an offer before answering.
type offerShape struct {
	// listenSlots counts audio m-lines the client wants to receive on
	// (recvonly): one per other speaker it can hear.
	listenSlots int
	// sdp is the offer to answer: raw without the candidates the node
	// will not probe (candidatePolicy).
	sdp string
	// dropped counts the candidate lines removed.
	dropped int
}

// candidatePolicy says which addresses a speaker's ICE candidates may
// name. The node sends STUN to every candidate it keeps, so by default
// only public unicast addresses are kept: otherwise anyone with an invite
// could make the node probe its own loopback ports or its private network.
// A speaker behind NAT still connects: its checks reach the node, which
// learns its address from them (a peer-reflexive candidate).
type candidatePolicy struct {
	// loopback keeps 127.0.0.0/8 and ::1 (ice.loopback: tests, a demo on
	// one machine).
	loopback bool
	// private keeps private (RFC 1918, fc00::/7, 100.64.0.0/10) and
	// link-local addresses (ice.allow_private_candidates: a node on a LAN
	// serving speakers on that LAN).
	private bool
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// allows reports whether a candidate's connection address may be probed.
// Names (mDNS ".local" or DNS) are never kept: resolving them would let
// the offer choose what the node looks up, and mDNS is off.
func (p candidatePolicy) allows(addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return p.loopback
	case a.IsPrivate() || a.IsLinkLocalUnicast() || (a.Is4() && cgnat.Contains(a)):
		return p.private
	case a.IsUnspecified() || a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast():
		return false
	case a.Is4() && (a.As4()[0] == 0 || a.As4()[0] >= 240):
		return false // "this network" and reserved, incl. broadcast
	}
	return true
}

// candidateKey returns the distinct identity (transport, address, port)
// and the connection address of an "a=candidate:" value (RFC 8839:
// foundation component transport priority address port "typ" type ...).
func candidateKey(v string) (key, addr string, ok bool) {
	f := strings.Fields(v)
	if len(f) < 8 || f[6] != "typ" {
		return "", "", false
	}
	return strings.ToLower(f[2]) + " " + f[4] + " " + f[5], f[4], true
}

// filterCandidates returns raw without the candidate lines p refuses and
// the number removed; it refuses an offer with more than
// MaxOfferCandidates distinct candidates or a malformed candidate line.
// Every other line is kept byte for byte.
func filterCandidates(raw string, p candidatePolicy) (string, int, error) {
	if !strings.Contains(raw, "a=candidate:") {
		return raw, 0, nil
	}
	seen := map[string]bool{}
	var b strings.Builder
	b.Grow(len(raw))
	dropped := 0
	for rest := raw; rest != ""; {
		line, next, _ := strings.Cut(rest, "\n")
		rest = next
		v, isCand := strings.CutPrefix(strings.TrimSuffix(line, "\r"), "a=candidate:")
		if isCand {
			key, addr, ok := candidateKey(v)
			if !ok {
				return "", 0, fmt.Errorf("%w: malformed ICE candidate %q", ErrBadOffer, truncate(v, 60))
			}
			if !seen[key] {
				seen[key] = true
				if len(seen) > MaxOfferCandidates {
					return "", 0, fmt.Errorf("%w: more than %d ICE candidates", ErrBadOffer, MaxOfferCandidates)
				}
			}
			if !p.allows(addr) {
				dropped++
				continue
			}
		}
		b.WriteString(line)
		if next != "" || strings.HasSuffix(raw, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String(), dropped, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// parseOffer checks that raw is an SDP offer podium can answer: it must
// parse, carry exactly one audio m-line that sends Opus, may carry
// recvonly audio m-lines (listening slots), and at most
// MaxOfferCandidates ICE candidates, of which those p refuses are removed.
// Video and other media are allowed (OBS sends video) and will be
// rejected in the answer.
func parseOffer(raw []byte, p candidatePolicy) (offerShape, error) {
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
	var err error
	if shape.sdp, shape.dropped, err = filterCandidates(string(raw), p); err != nil {
		return shape, err
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
