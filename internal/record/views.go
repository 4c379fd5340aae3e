package record

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/podium-live/podium/internal/policy"
)

// Views says which view of a recording a request may read.
type Views struct {
	// Policies is what moderation has in force per space (nil: nothing).
	Policies policy.Source
	// Territory resolves the requester's territory (nil: unknown).
	Territory func(*http.Request) policy.Territory
	// Original reports whether the request carries a verified credential
	// that may hear view 0, the original audio, whatever the policy
	// (legal hold: moderators, the operator). nil: nobody.
	Original func(r *http.Request, space string) bool
}

// silentPacket is an Opus packet (TOC 0xF8: CELT fullband 20 ms, mono,
// one frame) that decodes to 20 ms of silence.
var silentPacket = []byte{0xF8, 0xFF, 0xFE}

// mask is the frames [a, b) a view silences, sorted and merged. A
// restriction's bounds are rounded outward to whole 20 ms frames: a frame
// a boundary falls inside is silenced whole, so nothing withheld is heard.
type mask [][2]int

// maskFor is the mask of view v over a recording of frames packets.
// SilenceLive is not applied to replays yet: recordings keep no
// wall-clock start per session to map Since to an offset.
func maskFor(v *policy.View, frames int) mask {
	var m mask
	for _, r := range v.Restrictions {
		if r.Kind != policy.WithholdRange {
			continue
		}
		a := int(r.From / frameDur)
		b := int((r.To + frameDur - 1) / frameDur)
		a, b = max(a, 0), min(b, frames)
		if a >= b {
			continue
		}
		m = m.add(a, b)
	}
	return m
}

func (m mask) add(a, b int) mask {
	var out mask
	placed := false
	for _, r := range m {
		switch {
		case r[1] < a:
			out = append(out, r)
		case b < r[0]:
			if !placed {
				out = append(out, [2]int{a, b})
				placed = true
			}
			out = append(out, r)
		default:
			a, b = min(a, r[0]), max(b, r[1])
		}
	}
	if !placed {
		out = append(out, [2]int{a, b})
	}
	return out
}

// silenced reports whether frame i is silenced.
func (m mask) silenced(i int) bool {
	for _, r := range m {
		if i < r[0] {
			return false
		}
		if i < r[1] {
			return true
		}
	}
	return false
}

// apply replaces the silenced packets of pkts (frames first…) in place.
func (m mask) apply(first int, pkts [][]byte) {
	if len(m) == 0 {
		return
	}
	for i := range pkts {
		if m.silenced(first + i) {
			pkts[i] = silentPacket
		}
	}
}

// lengths returns lens with the silenced packets' lengths replaced.
func (m mask) lengths(lens []int32) []int32 {
	if len(m) == 0 {
		return lens
	}
	for i := range lens {
		if m.silenced(i) {
			lens[i] = int32(len(silentPacket))
		}
	}
	return lens
}

// viewOf decides the view a request reads: the one its territory gets,
// or the original for a legal-hold credential asking for view 0. A
// request for another view is 409 view_changed naming the right one; a
// view that withholds the whole recording is 451 withheld.
func (s *Server) viewOf(r *http.Request, req replayReq) (mask, *httpError) {
	var p *policy.Policy
	if s.views.Policies != nil {
		p = s.views.Policies.Policy(req.id)
	}
	t := policy.Unknown
	if s.views.Territory != nil {
		t = s.views.Territory(r)
	}
	v := p.For(t)
	if req.view != v.ID {
		if req.view == policy.None && s.views.Original != nil && s.views.Original(r, req.id) {
			return nil, nil
		}
		return nil, viewChanged(v.ID)
	}
	for _, x := range v.Restrictions {
		if x.Kind == policy.WithholdRecording {
			return nil, withheld(x)
		}
	}
	if req.kind == kindInit || v.ID == policy.None {
		return nil, nil
	}
	rec, err := s.recording(req.id)
	if err != nil {
		return nil, errNotFoundHTTP
	}
	return maskFor(v, rec.Frames()), nil
}

func viewChanged(view string) *httpError {
	b, _ := json.Marshal(map[string]string{"error": "your view of this recording is another one", "code": "view_changed", "view": view})
	b = append(b, '\n')
	return &httpError{status: http.StatusConflict, msg: "view changed", body: b, clen: []string{strconv.Itoa(len(b))}}
}

func withheld(x policy.Restriction) *httpError {
	b, _ := json.Marshal(map[string]string{"error": "this recording is withheld where you are: " + x.Text, "code": "withheld",
		"statement_url": "/statements/" + x.ID})
	b = append(b, '\n')
	return &httpError{status: http.StatusUnavailableForLegalReasons, msg: "withheld", body: b, clen: []string{strconv.Itoa(len(b))}}
}
