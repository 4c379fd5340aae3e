package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
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
)

// PacketSink receives one speaker's Opus packets (the mixer's input).
type PacketSink interface {
	Push(seq uint16, timestamp uint32, payload []byte)
}

// Mix is the stage's view of a space's mixer.
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
	Muted  bool
	Joined time.Time
}

// Stage is the set of speakers of one space.
type Stage struct {
	engine *Engine
	space  string
	log    *slog.Logger
	max    int

	mu sync.Mutex // guards the fields below
	// speakers in join order.
	speakers []*Speaker
	mix      Mix
	closed   bool
	// onChange is called (without mu) after the stage changes.
	onLeave func(SpeakerInfo)
}

// NewStage returns an empty stage for space with room for max speakers.
// onLeave (may be nil) is called when a speaker leaves for any reason.
func (e *Engine) NewStage(space string, max int, onLeave func(SpeakerInfo)) *Stage {
	return &Stage{engine: e, space: space, log: e.log.With("space", space), max: max, onLeave: onLeave}
}

// Join answers a speaker's WHIP offer and puts the speaker on stage. It
// returns the speaker and the SDP answer, with every ICE candidate in it.
func (st *Stage) Join(ctx context.Context, offer []byte, j Joiner) (*Speaker, string, error) {
	shape, err := parseOffer(offer, st.engine.cands)
	if err != nil {
		return nil, "", err
	}
	st.mu.Lock()
	full, closed := len(st.speakers) >= st.max, st.closed
	st.mu.Unlock()
	if closed {
		return nil, "", ErrClosed
	}
	if full {
		return nil, "", ErrStageFull
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
	if st.closed {
		st.mu.Unlock()
		pc.Close()
		return nil, "", ErrClosed
	}
	if len(st.speakers) >= st.max {
		st.mu.Unlock()
		pc.Close()
		return nil, "", ErrStageFull
	}
	st.speakers = append(st.speakers, sp)
	if st.mix != nil {
		sp.sink.Store(&sinkBox{st.mix.Add(sp.ID)})
	}
	st.rewireLocked()
	st.mu.Unlock()
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
func (st *Stage) remove(sp *Speaker) bool {
	st.mu.Lock()
	i := slices.Index(st.speakers, sp)
	if i < 0 {
		st.mu.Unlock()
		return false
	}
	st.speakers = slices.Delete(st.speakers, i, i+1)
	if st.mix != nil {
		st.mix.Remove(sp.ID)
	}
	st.rewireLocked()
	st.mu.Unlock()
	return true
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
		out[i] = s.Info()
	}
	return out
}

// SetMuted mutes or unmutes a speaker in the mix and in forwarding.
func (st *Stage) SetMuted(id string, muted bool) error {
	sp, err := st.Speaker(id)
	if err != nil {
		return err
	}
	sp.muted.Store(muted)
	st.mu.Lock()
	if st.mix != nil {
		st.mix.SetMuted(id, muted)
	}
	st.mu.Unlock()
	return nil
}

// Kick removes a speaker from the stage and closes its connection.
func (st *Stage) Kick(id string) error {
	sp, err := st.Speaker(id)
	if err != nil {
		return err
	}
	sp.Close()
	return nil
}

// KickInvite removes every speaker that joined with invite id.
func (st *Stage) KickInvite(invite string) {
	st.mu.Lock()
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
// detaches it. Speakers already on stage are added with their mute state.
func (st *Stage) AttachMix(m Mix) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.mix != nil {
		for _, s := range st.speakers {
			st.mix.Remove(s.ID)
			s.sink.Store(nil)
		}
	}
	st.mix = m
	if m == nil {
		return
	}
	for _, s := range st.speakers {
		s.sink.Store(&sinkBox{m.Add(s.ID)})
		if s.muted.Load() {
			m.SetMuted(s.ID, true)
		}
	}
}

// Close removes every speaker and refuses new ones. Safe to call twice.
func (st *Stage) Close() {
	st.mu.Lock()
	st.closed = true
	all := slices.Clone(st.speakers)
	st.mu.Unlock()
	for _, s := range all {
		s.Close()
	}
}
