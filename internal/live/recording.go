package live

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/podium-live/podium/internal/record"
	"github.com/podium-live/podium/internal/space"
)

// Recording states as the API shows them.
const (
	RecRecording   = "recording"
	RecInterrupted = "interrupted"
	RecComplete    = "complete"
	RecDeleted     = "deleted"
)

// RecordingInfo is everything known about a space's recording.
type RecordingInfo struct {
	Space    space.Space
	Pub      space.Recording
	State    string
	Public   bool
	Duration time.Duration
	Size     int64
	Turns    []record.Turn
	Gaps     []record.Gap
	// Error is set while the live recording is failing.
	Error string
}

// ErrStillLive refuses actions that need the recording to be finished.
var ErrStillLive = errors.New("the space is still live: end it first")

// SetRecord switches a scheduled space's recording on or off.
func (s *Service) SetRecord(ctx context.Context, id string, on bool) (space.Space, error) {
	sp, err := s.Space(ctx, id)
	if err != nil {
		return sp, err
	}
	if err := sp.SetRecord(on); err != nil {
		return sp, err
	}
	return sp, s.updateSpace(ctx, sp)
}

// Recording describes the recording of space id, whoever asks: callers
// decide visibility with Public. A space that has no recording (not
// recorded, never live, nothing written) is space.ErrNotFound.
func (s *Service) Recording(ctx context.Context, id string) (RecordingInfo, error) {
	sp, err := s.Space(ctx, id)
	if err != nil {
		return RecordingInfo{}, err
	}
	pub, err := s.store.Recording(ctx, id)
	if err != nil {
		return RecordingInfo{}, err
	}
	info := RecordingInfo{Space: sp, Pub: pub, Public: pub.Public(s.now())}
	if pub.Deleted() {
		info.State = RecDeleted
		return info, nil
	}
	if s.rec == nil || sp.State == space.Scheduled {
		return info, space.ErrNotFound
	}
	rec, err := s.loadRecording(id)
	if errors.Is(err, record.ErrNotFound) {
		return info, space.ErrNotFound
	}
	if err != nil {
		return info, fmt.Errorf("live: load recording %s: %w", id, err)
	}
	info.Duration, info.Size, info.Turns, info.Gaps = rec.Duration(), rec.Size(), rec.Turns(), rec.Gaps()
	switch sp.State {
	case space.Live:
		info.State = RecRecording
		if r := s.openRoom(id); r != nil {
			r.mu.Lock()
			if r.tape != nil {
				info.Error = r.tape.problem()
			}
			r.mu.Unlock()
		}
	case space.Interrupted:
		info.State = RecInterrupted
	default:
		info.State = RecComplete
	}
	return info, nil
}

// loadRecording loads the index of id's recording through the replay
// server's cache (record.Server.Load) when there is one: a full scan of
// the Ogg pages only when the files changed.
func (s *Service) loadRecording(id string) (*record.Recording, error) {
	if c, ok := s.replay.(interface {
		Load(string) (*record.Recording, error)
	}); ok {
		return c.Load(id)
	}
	return record.Load(s.rec, id)
}

// PublishRecording publishes now (zero at) or at a scheduled time.
func (s *Service) PublishRecording(ctx context.Context, id string, at time.Time) (RecordingInfo, error) {
	return s.changeRecording(ctx, id, func(r *space.Recording) error { return r.Publish(at, s.now()) })
}

// UnpublishRecording makes a recording private again.
func (s *Service) UnpublishRecording(ctx context.Context, id string) (RecordingInfo, error) {
	return s.changeRecording(ctx, id, func(r *space.Recording) error { return r.Unpublish() })
}

func (s *Service) changeRecording(ctx context.Context, id string, change func(*space.Recording) error) (RecordingInfo, error) {
	info, err := s.Recording(ctx, id)
	if err != nil {
		return info, err
	}
	if err := change(&info.Pub); err != nil {
		return info, err
	}
	if err := s.store.SaveRecording(ctx, info.Pub); err != nil {
		return info, err
	}
	s.access.forget(id)
	if s.replay != nil {
		s.replay.Forget(id)
	}
	info.Public = info.Pub.Public(s.now())
	return info, nil
}

// DeleteRecording removes a finished recording's audio and records who
// deleted it and when.
func (s *Service) DeleteRecording(ctx context.Context, id, by string) error {
	info, err := s.Recording(ctx, id)
	if err != nil {
		return err
	}
	if info.State == RecDeleted {
		return space.ErrRecordingDeleted
	}
	if info.Space.State == space.Live {
		return ErrStillLive
	}
	if err := info.Pub.Delete(by, s.now()); err != nil {
		return err
	}
	// Mark first: a failure while removing files leaves a deleted
	// recording with leftovers, never a visible one with holes.
	if err := s.store.SaveRecording(ctx, info.Pub); err != nil {
		return err
	}
	s.access.forget(id)
	if s.replay != nil {
		s.replay.Forget(id)
	}
	if err := record.Delete(s.rec, id); err != nil {
		return fmt.Errorf("live: delete recording %s: %w", id, err)
	}
	s.log.Info("recording deleted", "space", id, "by", by)
	return nil
}

// Recordings lists the recordings of recent spaces, for operators.
func (s *Service) Recordings(ctx context.Context) ([]RecordingInfo, error) {
	spaces, err := s.store.Spaces(ctx, 1000)
	if err != nil {
		return nil, err
	}
	var out []RecordingInfo
	for _, sp := range spaces {
		if sp.State == space.Scheduled {
			continue
		}
		info, err := s.Recording(ctx, sp.ID)
		if errors.Is(err, space.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Retention says how long recordings are kept; zero keeps forever.
type Retention struct {
	Unpublished time.Duration // after the space ended
	Published   time.Duration
}

// ApplyRetention deletes ended spaces' recordings older than the policy
// allows and returns how many it deleted.
func (s *Service) ApplyRetention(ctx context.Context, p Retention) (int, error) {
	if p.Unpublished <= 0 && p.Published <= 0 {
		return 0, nil
	}
	ended, err := s.store.SpacesIn(ctx, space.Ended)
	if err != nil {
		return 0, err
	}
	now, n := s.now(), 0
	for _, sp := range ended {
		pub, err := s.store.Recording(ctx, sp.ID)
		if err != nil {
			return n, err
		}
		keep := p.Unpublished
		if pub.Public(now) {
			keep = p.Published
		}
		if pub.Deleted() || keep <= 0 || now.Sub(sp.EndedAt) < keep {
			continue
		}
		err = s.DeleteRecording(ctx, sp.ID, "retention")
		if errors.Is(err, space.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
