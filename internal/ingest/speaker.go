package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/podium-live/podium/internal/space"
)

// Speaker is one WebRTC connection on a stage.
type Speaker struct {
	ID     string
	stage  *Stage
	pc     *webrtc.PeerConnection
	joiner Joiner
	joined time.Time

	// slots are the tracks this speaker hears others on; fixed after Join.
	slots []*slot
	// subs are other speakers' slots that forward this speaker's audio;
	// replaced whole by Stage.rewireLocked.
	subs atomic.Pointer[[]*slot]
	sink atomic.Pointer[sinkBox]
	// selfMuted is the speaker's own mute (guarded by Stage.mu; the host's
	// is Stage.hostMuted). silent is what the read loop goes by: whether
	// either is set, published by Stage.publishMuteLocked.
	selfMuted bool
	silent    atomic.Bool

	closeOnce sync.Once
	done      chan struct{}
}

type sinkBox struct{ PacketSink }

func newSpeaker(st *Stage, pc *webrtc.PeerConnection, j Joiner) *Speaker {
	return &Speaker{ID: space.NewID("spk"), stage: st, pc: pc, joiner: j, joined: time.Now(), done: make(chan struct{})}
}

// Done is closed when the speaker has left the stage.
func (s *Speaker) Done() <-chan struct{} { return s.done }

func (s *Speaker) negotiate(ctx context.Context, offer string) (string, error) {
	s.pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if t.Kind() != webrtc.RTPCodecTypeAudio {
			return
		}
		go s.readLoop(t)
	})
	s.pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		switch state {
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			s.Close()
		}
	})
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	answer, err := s.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: cannot answer: %v", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(s.pc)
	if err := s.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("ingest: set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("ingest: ICE gathering: %w", ctx.Err())
	case <-time.After(5 * time.Second):
		return "", errors.New("ingest: ICE gathering timed out")
	}
	return s.pc.LocalDescription().SDP, nil
}

// readLoop reads the speaker's RTP, feeds the mixer and forwards to the
// other speakers' slots. It ends when the track ends.
func (s *Speaker) readLoop(t *webrtc.TrackRemote) {
	defer s.Close()
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.stage.log.Debug("speaker read ended", "speaker", s.ID, "err", err)
			}
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil || len(pkt.Payload) == 0 {
			continue
		}
		if s.silent.Load() {
			continue
		}
		if b := s.sink.Load(); b != nil {
			b.Push(pkt.SequenceNumber, pkt.Timestamp, pkt.Payload)
		}
		if subs := s.subs.Load(); subs != nil {
			now := time.Now()
			for _, sl := range *subs {
				sl.forward(s.ID, &pkt, now)
			}
		}
	}
}

// Close takes the speaker off the stage and closes its connection. Safe to
// call more than once and from any goroutine.
func (s *Speaker) Close() {
	s.closeOnce.Do(func() {
		removed, joined := s.stage.remove(s)
		// pc.Close waits for pion's goroutines: never from their
		// callbacks, so on a goroutine of its own that Stage.Close joins
		// (remove counted it in closing).
		go func() {
			if joined {
				defer s.stage.closing.Done()
			}
			s.pc.Close()
		}()
		close(s.done)
		if removed {
			s.stage.log.Info("speaker left", "speaker", s.ID)
		}
	})
}
