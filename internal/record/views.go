package record

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

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

// maskFor is the mask of view v over rec: WithholdRange's [From, To), and
// SilenceLive's from the offset its Since maps to (rec.Offset) to the end.
func maskFor(v *policy.View, rec *Recording) mask {
	var m mask
	frames := rec.Frames()
	for _, r := range v.Restrictions {
		from, to := r.From, r.To
		switch r.Kind {
		case policy.WithholdRange:
		case policy.SilenceLive:
			from, to = rec.Offset(r.Since), rec.Duration()
		default:
			continue
		}
		a := int(from / frameDur)
		b := int((to + frameDur - 1) / frameDur)
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
	return maskFor(v, rec), nil
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

// Offset maps a wall-clock time to the recording timeline, from the
// sessions' wall-clock starts: inside a session, where it was recorded;
// in a gap between sessions (or before the first), where the next one
// starts; after the last, the end. A session without a readable start is
// taken to follow the previous one at once.
func (r *Recording) Offset(wall time.Time) time.Duration {
	var prevEnd time.Time
	for _, s := range r.sessions {
		fr := s.scan.frames()
		if fr == 0 {
			continue
		}
		start := s.side.header.StartWall
		if !s.side.ok || start.IsZero() {
			start = prevEnd
		}
		base := time.Duration(s.base) * frameDur
		if wall.Before(start) {
			return base
		}
		length := time.Duration(fr) * frameDur
		if d := wall.Sub(start); d < length {
			return base + d
		}
		prevEnd = start.Add(length)
	}
	return r.Duration()
}
