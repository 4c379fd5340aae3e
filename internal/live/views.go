package live

import (
	"time"

	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/policy"
)

// liveViews keeps one hls.Stream per view of the space's policy that has a
// live restriction (SilenceLive or WithholdRecording), fed the same
// delayed frames as the audience stream with silence from the part at or
// after the restriction's Since. It belongs to the mixer goroutine (the
// output path): the policy is read (non-blocking) at each part boundary.
type liveViews struct {
	rt        *Runtime
	id        string
	liveSince time.Time
	cfg       hls.Config
	perPart   int // frames per part

	pol     *policy.Policy // the policy the streams were built for
	streams map[string]*viewStream
	frame   int // frames written in the current part
}

type viewStream struct {
	view     *policy.View
	st       *hls.Stream
	silenced bool // for the current part
}

func newLiveViews(rt *Runtime, id string, liveSince time.Time, cfg hls.Config) *liveViews {
	pd := cfg.PartDuration
	if pd == 0 {
		pd = hls.DefaultPartDuration
	}
	return &liveViews{rt: rt, id: id, liveSince: liveSince, cfg: cfg, perPart: int(pd / frameDur), streams: map[string]*viewStream{}}
}

// write feeds one delayed frame to every live view.
func (lv *liveViews) write(pkt, silence []byte, now time.Time) {
	if lv.rt.cfg.Policies == nil {
		return
	}
	if lv.frame == 0 {
		lv.refresh(now)
	}
	for _, vs := range lv.streams {
		if vs.silenced {
			vs.st.WriteFrame(silence)
		} else {
			vs.st.WriteFrame(pkt)
		}
	}
	if lv.frame++; lv.frame == lv.perPart {
		lv.frame = 0
	}
}

// refresh, at a part boundary, follows a new policy (streams for new
// views, closing those of views gone) and decides each view's silence for
// the part about to start.
func (lv *liveViews) refresh(now time.Time) {
	p := lv.rt.cfg.Policies.Policy(lv.id)
	if p != lv.pol {
		lv.pol = p
		want := map[string]*policy.View{}
		add := func(v *policy.View) {
			if v.ID != policy.None && hasLive(v) {
				want[v.ID] = v
			}
		}
		for _, r := range p.Restrictions() {
			for _, t := range r.Territories {
				add(p.For(t))
			}
		}
		add(p.For(policy.Unknown))
		add(p.For("ZZ")) // every territory no restriction names
		for id, vs := range lv.streams {
			if want[id] == nil {
				vs.st.Close()
				lv.rt.hls.RemoveView(lv.id, id)
				delete(lv.streams, id)
			}
		}
		for id, v := range want {
			if vs := lv.streams[id]; vs != nil {
				vs.view = v
				continue
			}
			st := hls.NewView(lv.id, id, false, lv.liveSince, now, lv.cfg)
			lv.streams[id] = &viewStream{view: v, st: st}
			lv.rt.hls.Add(st)
		}
	}
	for _, vs := range lv.streams {
		vs.silenced = vs.view.LiveSilenced(now)
	}
}

// close ends every view's stream; unregister removes them.
func (lv *liveViews) close() {
	for _, vs := range lv.streams {
		vs.st.Close()
	}
}

func (lv *liveViews) unregister() {
	for id := range lv.streams {
		lv.rt.hls.RemoveView(lv.id, id)
	}
}

// hasLive reports whether v restricts the live feed.
func hasLive(v *policy.View) bool {
	for _, r := range v.Restrictions {
		if r.Kind == policy.SilenceLive || r.Kind == policy.WithholdRecording {
			return true
		}
	}
	return false
}
