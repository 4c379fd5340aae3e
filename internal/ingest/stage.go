package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// MaxListenSlots bounds how many other speakers one speaker can hear at once.
const MaxListenSlots = 16

// Errors a caller maps to statuses.
var (
	ErrStageFull = errors.New("stage is full")
	ErrClosed    = errors.New("stage is closed")
	ErrNoSpeaker = errors.New("no such speaker on stage")
	// ErrBarred refuses a join with an invite the host removed from the
	// stage or revoked.
	ErrBarred = errors.New("this invite was removed from the stage by the host")
)

// PacketSink receives one speaker's Opus packets (the mixer's input).
type PacketSink interface {
	Push(seq uint16, timestamp uint32, payload []byte)
}

// Mix is the stage's view of a space's mixer. The stage owns who is
// muted; SetMuted tells the mixer whether a source is heard (so that a
// muted source is silent at once, with no concealment tail).
type Mix interface {
	Add(id string) PacketSink
	Remove(id string)
	SetMuted(id string, muted bool)
}

// Joiner describes who is joining.
type Joiner struct {
	Name   string
	Role   string // "host" or "speaker"
	Invite string // invite id, for speakers
}

// SpeakerInfo is a speaker as others see it.
type SpeakerInfo struct {
	ID     string
	Name   string
	Role   string
	Invite string
	// SelfMuted is the speaker's own mute; HostMuted the host's, which
	// only the host lifts. The speaker is heard when neither is set.
	SelfMuted, HostMuted bool
	Joined               time.Time
}

// Muted reports whether the speaker is silent in the mix and to the others.
func (i SpeakerInfo) Muted() bool { return i.SelfMuted || i.HostMuted }

// Stage is the set of speakers of one space. It owns who may be on it:
// one session per invite, a place always left for the host, invites the
// host barred, and both kinds of mute. Every such check is made under mu
// at the moment a session is added, so a join that negotiated while the
// host barred its invite never lands.
type Stage struct {
	engine *Engine
	log    *slog.Logger
	max    int

	mu sync.Mutex // guards the fields below and every Speaker.selfMuted
	// speakers in join order.
	speakers []*Speaker
	mix      Mix
	closed   bool
	// barred holds the invites the host removed or revoked: their joins
	// are refused for the life of the stage.
	barred map[string]bool
	// hostMuted holds the host's mutes by muteKey, so that a host mute
	// outlives the session: a speaker who reconnects is still muted.
	hostMuted map[string]bool
	// closing joins the goroutines closing speakers' connections.
	closing sync.WaitGroup
	// version counts changes of who is on stage and their mutes, so that
	// a cached view knows when it is stale; written under mu.
	version atomic.Uint64
}

// Version changes whenever who is on stage or a mute changes.
func (st *Stage) Version() uint64 { return st.version.Load() }

// NewStage returns an empty stage for space with room for max speakers,
// one of them always kept for the host (speakers with invites take at
// most max-1 places).
func (e *Engine) NewStage(space string, max int) *Stage {
	return &Stage{engine: e, log: e.log.With("space", space), max: max, barred: map[string]bool{}, hostMuted: map[string]bool{}}
}

// muteKey is what a host mute is kept by: the invite of a speaker (every
// session of that invite), or the session of a host.
func muteKey(sp *Speaker) string {
	if sp.joiner.Invite != "" {
		return sp.joiner.Invite
	}
	return "session:" + sp.ID
}

// refuseLocked says why j may not take a place now, nil when it may; a
// session with the same invite does not count, since j replaces it.
func (st *Stage) refuseLocked(j Joiner) error {
	if st.closed {
		return ErrClosed
	}
	if j.Invite != "" && st.barred[j.Invite] {
		return ErrBarred
	}
	total, invited := 0, 0
	for _, s := range st.speakers {
		if j.Invite != "" && s.joiner.Invite == j.Invite {
			continue
		}
		total++
		if s.joiner.Invite != "" {
			invited++
		}
	}
	if total >= st.max || (j.Invite != "" && invited >= st.max-1) {
		return ErrStageFull
	}
	return nil
}

// Join answers a speaker's WHIP offer and puts the speaker on stage. It
// returns the speaker and the SDP answer, with every ICE candidate in it.
func (st *Stage) Join(ctx context.Context, offer []byte, j Joiner) (*Speaker, string, error) {
	shape, err := parseOffer(offer, st.engine.cands)
	if err != nil {
		return nil, "", err
	}
	st.mu.Lock()
	err = st.refuseLocked(j)
	st.mu.Unlock()
	if err != nil {
		return nil, "", err
	}
	pc, err := st.engine.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("ingest: new peer connection: %w", err)
	}
	sp := newSpeaker(st, pc, j)
	for i := 0; i < shape.listenSlots; i++ {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
			fmt.Sprintf("slot%d", i), sp.ID)
		if err != nil {
			pc.Close()
			return nil, "", fmt.Errorf("ingest: slot track: %w", err)
		}
		sender, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			pc.Close()
			return nil, "", fmt.Errorf("ingest: slot transceiver: %w", err)
		}
		go drainRTCP(sender.Sender())
		sp.slots = append(sp.slots, &slot{track: tr})
	}
	answer, err := sp.negotiate(ctx, shape.sdp)
	if err != nil {
		pc.Close()
		return nil, "", err
	}
	st.mu.Lock()
	if err := st.refuseLocked(j); err != nil {
		st.mu.Unlock()
		pc.Close()
		return nil, "", err
	}
	// One session per invite: a new join replaces the old one, as a
	// reconnect does.
	var replaced []*Speaker
	if j.Invite != "" {
		st.speakers = slices.DeleteFunc(st.speakers, func(s *Speaker) bool {
			if s.joiner.Invite != j.Invite {
				return false
			}
			replaced = append(replaced, s)
			st.detachLocked(s)
			return true
		})
	}
	st.speakers = append(st.speakers, sp)
	if st.mix != nil {
		sp.sink.Store(&sinkBox{st.mix.Add(sp.ID)})
	}
	st.publishMuteLocked(sp)
	st.rewireLocked()
	st.mu.Unlock()
	for _, old := range replaced {
		st.log.Info("speaker replaced by a new session", "speaker", old.ID, "by", sp.ID)
		old.Close()
	}
	st.log.Info("speaker joined", "speaker", sp.ID, "role", j.Role)
	return sp, answer, nil
}

func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}

// rewireLocked assigns listening slots: each speaker hears the others,
// keeping existing assignments and filling free slots in join order.
func (st *Stage) rewireLocked() {
	st.version.Add(1)
	present := make(map[string]bool, len(st.speakers))
	for _, s := range st.speakers {
		present[s.ID] = true
	}
	subs := make(map[string][]*slot, len(st.speakers))
	for _, r := range st.speakers {
		heard := map[string]bool{}
		var free []*slot
		for _, sl := range r.slots {
			src := sl.source()
			if src != "" && present[src] && src != r.ID && !heard[src] {
				heard[src] = true
				continue
			}
			free = append(free, sl)
		}
		for _, s := range st.speakers {
			if s == r || heard[s.ID] || len(free) == 0 {
				continue
			}
			free[0].assign(s.ID)
			heard[s.ID] = true
			free = free[1:]
		}
		for _, sl := range free {
			sl.assign("")
		}
		for _, sl := range r.slots {
			if src := sl.source(); src != "" {
				subs[src] = append(subs[src], sl)
			}
		}
	}
	for _, s := range st.speakers {
		list := subs[s.ID]
		s.subs.Store(&list)
	}
}

// remove takes sp off the stage (idempotent) and reports whether it was on it.
//
// It also counts sp's connection closer into closing, under mu: a speaker
// still on stage when Close took the list is closed by Close itself
// (which then waits for closeOnce), and one removed before is counted
// before Close could start waiting, so closing never gains a member while
// Close waits on it. joined is false only for a speaker that was never on
// this stage once it closed; its closer runs on its own.
func (st *Stage) remove(sp *Speaker) (removed, joined bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	i := slices.Index(st.speakers, sp)
	if i < 0 {
		if st.closed {
			return false, false
		}
		st.closing.Add(1)
		return false, true
	}
	st.closing.Add(1)
	st.speakers = slices.Delete(st.speakers, i, i+1)
	st.detachLocked(sp)
	st.rewireLocked()
	return true, true
}

// Speaker returns the speaker with id.
func (st *Stage) Speaker(id string) (*Speaker, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.speakers {
		if s.ID == id {
			return s, nil
		}
	}
	return nil, ErrNoSpeaker
}

// Speakers lists who is on stage, in join order.
func (st *Stage) Speakers() []SpeakerInfo {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]SpeakerInfo, len(st.speakers))
	for i, s := range st.speakers {
		out[i] = st.infoLocked(s)
	}
	return out
}

// Info describes the speaker with id.
func (st *Stage) Info(id string) (SpeakerInfo, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.speakers {
		if s.ID == id {
			return st.infoLocked(s), nil
		}
	}
	return SpeakerInfo{}, ErrNoSpeaker
}

func (st *Stage) infoLocked(s *Speaker) SpeakerInfo {
	return SpeakerInfo{ID: s.ID, Name: s.joiner.Name, Role: s.joiner.Role, Invite: s.joiner.Invite,
		SelfMuted: s.selfMuted, HostMuted: st.hostMuted[muteKey(s)], Joined: s.joined}
}

// publishMuteLocked hands the speaker's read loop and the mixer whether
// the speaker is heard.
func (st *Stage) publishMuteLocked(s *Speaker) {
	st.version.Add(1)
	silent := s.selfMuted || st.hostMuted[muteKey(s)]
	s.silent.Store(silent)
	if st.mix != nil {
		st.mix.SetMuted(s.ID, silent)
	}
}

// detachLocked takes s out of the mixer, forgetting its mute there.
func (st *Stage) detachLocked(s *Speaker) {
	if st.mix != nil {
		st.mix.SetMuted(s.ID, false)
		st.mix.Remove(s.ID)
	}
}

// SetSelfMuted sets a speaker's own mute and returns the speaker as it is
// now: a host mute stays whatever the speaker does.
func (st *Stage) SetSelfMuted(id string, muted bool) (SpeakerInfo, error) {
	return st.change(id, func(s *Speaker) { s.selfMuted = muted })
}

// SetHostMuted sets the host's mute of a speaker, kept for every session
// of the speaker's invite until the host lifts it.
func (st *Stage) SetHostMuted(id string, muted bool) (SpeakerInfo, error) {
	return st.change(id, func(s *Speaker) {
		if muted {
			st.hostMuted[muteKey(s)] = true
		} else {
			delete(st.hostMuted, muteKey(s))
		}
	})
}

func (st *Stage) change(id string, do func(*Speaker)) (SpeakerInfo, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.speakers {
		if s.ID == id {
			do(s)
			st.publishMuteLocked(s)
			return st.infoLocked(s), nil
		}
	}
	return SpeakerInfo{}, ErrNoSpeaker
}

// Leave takes a speaker off the stage at their own request: they may join
// again with the same invite.
func (st *Stage) Leave(id string) error {
	sp, err := st.Speaker(id)
	if err != nil {
		return err
	}
	sp.Close()
	return nil
}

// Remove takes a speaker off the stage at the host's request. A speaker
// who joined with an invite is barred: the invite's joins are refused from
// now on. It returns who was removed.
func (st *Stage) Remove(id string) (SpeakerInfo, error) {
	st.mu.Lock()
	var found *Speaker
	for _, s := range st.speakers {
		if s.ID == id {
			found = s
		}
	}
	if found == nil {
		st.mu.Unlock()
		return SpeakerInfo{}, ErrNoSpeaker
	}
	info := st.infoLocked(found)
	st.mu.Unlock()
	if info.Invite != "" {
		st.Bar(info.Invite)
	} else {
		found.Close()
	}
	return info, nil
}

// Bar removes every session of invite and refuses its joins from now on,
// including joins already negotiating.
func (st *Stage) Bar(invite string) {
	st.mu.Lock()
	st.barred[invite] = true
	var gone []*Speaker
	for _, s := range st.speakers {
		if s.joiner.Invite == invite {
			gone = append(gone, s)
		}
	}
	st.mu.Unlock()
	for _, s := range gone {
		s.Close()
	}
}

// AttachMix connects the stage to a mixer (when the space goes live); nil
// detaches it.
func (st *Stage) AttachMix(m Mix) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.speakers {
		st.detachLocked(s)
		s.sink.Store(nil)
	}
	st.mix = m
	if m == nil {
		return
	}
	for _, s := range st.speakers {
		s.sink.Store(&sinkBox{m.Add(s.ID)})
		m.SetMuted(s.ID, s.silent.Load())
	}
}

// Close removes every speaker and refuses new ones, and returns when
// every speaker's connection is closed. Safe to call twice; not from a
// pion callback.
func (st *Stage) Close() {
	st.mu.Lock()
	st.closed = true
	all := slices.Clone(st.speakers)
	st.mu.Unlock()
	for _, s := range all {
		s.Close()
	}
	// Every Speaker.Close has started its closer by now (closeOnce), and
	// no speaker can join a closed stage.
	st.closing.Wait()
}
