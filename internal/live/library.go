package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// LibraryStore is the durable state the library needs.
type LibraryStore interface {
	Space(ctx context.Context, id string) (space.Space, error)
	Spaces(ctx context.Context, limit int) ([]space.Space, error)
	SpacesIn(ctx context.Context, state space.State) ([]space.Space, error)
	Recording(ctx context.Context, spaceID string) (space.Recording, error)
	// UpdateRecording applies change as one conditional write.
	UpdateRecording(ctx context.Context, spaceID string, change func(*space.Recording) error) (space.Recording, error)
	DeletedRecordings(ctx context.Context) ([]string, error)
}

// Problems tells the library how a live recording is doing.
type Problems interface {
	RecordingProblem(spaceID string) string
}

// Index loads a recording's index (sessions, turns, gaps), cached: the
// replay server's (record.Server.Load) scans the Ogg pages only when the
// files changed.
type Index interface {
	Load(spaceID string) (*record.Recording, error)
}

// Library is the recordings library: what was recorded, publication,
// deletion and retention. Each change of publication state is one
// conditional write in the store, reported as PublicationChanged.
type Library struct {
	store  LibraryStore
	rec    record.Storage // nil: recording disabled on this node
	index  Index          // nil: record.Load on every read
	live   Problems
	events Events
	log    *slog.Logger
	now    func() time.Time
}

// NewLibrary returns the library over st and the recordings in rec (nil:
// none on this node), read through index (nil: uncached).
func NewLibrary(st LibraryStore, rec record.Storage, index Index, live Problems, events Events, log *slog.Logger) *Library {
	return &Library{store: st, rec: rec, index: index, live: live, events: events, log: log, now: time.Now}
}

// load returns the index of id's recording.
func (l *Library) load(id string) (*record.Recording, error) {
	if l.index != nil {
		return l.index.Load(id)
	}
	return record.Load(l.rec, id)
}

// Recording describes the recording of space id, whoever asks: callers
// decide visibility with Public. A space that has no recording (not
// recorded, never live, nothing written) is space.ErrNotFound.
func (l *Library) Recording(ctx context.Context, id string) (RecordingInfo, error) {
	if !space.ValidID(id) {
		return RecordingInfo{}, space.ErrNotFound
	}
	sp, err := l.store.Space(ctx, id)
	if err != nil {
		return RecordingInfo{}, err
	}
	pub, err := l.store.Recording(ctx, id)
	if err != nil {
		return RecordingInfo{}, err
	}
	return l.describe(sp, pub)
}

func (l *Library) describe(sp space.Space, pub space.Recording) (RecordingInfo, error) {
	id := sp.ID
	info := RecordingInfo{Space: sp, Pub: pub, Public: pub.Public(l.now())}
	if pub.Deleted() {
		info.State = RecDeleted
		return info, nil
	}
	if l.rec == nil || sp.State == space.Scheduled {
		return info, space.ErrNotFound
	}
	rec, err := l.load(id)
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
		info.Error = l.live.RecordingProblem(id)
	case space.Interrupted:
		info.State = RecInterrupted
	default:
		info.State = RecComplete
	}
	return info, nil
}

// Publish publishes now (zero at) or at a scheduled time.
func (l *Library) Publish(ctx context.Context, id string, at time.Time) (RecordingInfo, error) {
	return l.change(ctx, id, func(r *space.Recording) error { return r.Publish(at, l.now()) })
}

// Unpublish makes a recording private again.
func (l *Library) Unpublish(ctx context.Context, id string) (RecordingInfo, error) {
	return l.change(ctx, id, func(r *space.Recording) error { return r.Unpublish() })
}

func (l *Library) change(ctx context.Context, id string, change func(*space.Recording) error) (RecordingInfo, error) {
	info, err := l.Recording(ctx, id) // there must be a recording
	if err != nil {
		return info, err
	}
	pub, err := l.store.UpdateRecording(ctx, id, change)
	if err != nil {
		return info, err
	}
	l.events.PublicationChanged(id)
	info.Pub, info.Public = pub, pub.Public(l.now())
	return info, nil
}

// Delete removes a finished recording's audio and records who deleted it
// and when. The mark is written first, so a crash before the files are
// gone leaves a deleted recording with leftovers, never a visible one with
// holes; Reconcile removes the leftovers at the next start.
func (l *Library) Delete(ctx context.Context, id, by string) error {
	info, err := l.Recording(ctx, id)
	if err != nil {
		return err
	}
	if info.State == RecDeleted {
		return space.ErrRecordingDeleted
	}
	if info.Space.State == space.Live {
		return ErrStillLive
	}
	if _, err := l.store.UpdateRecording(ctx, id, func(r *space.Recording) error { return r.Delete(by, l.now()) }); err != nil {
		return err
	}
	l.events.PublicationChanged(id)
	if err := record.Delete(l.rec, id); err != nil {
		return fmt.Errorf("live: delete recording %s: %w", id, err)
	}
	l.log.Info("recording deleted", "space", id, "by", by)
	return nil
}

// Reconcile removes the files of recordings marked deleted (left behind
// by a crash between the mark and the removal). Run it at start.
func (l *Library) Reconcile(ctx context.Context) error {
	if l.rec == nil {
		return nil
	}
	ids, err := l.store.DeletedRecordings(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		left, err := l.rec.List(id + "/")
		if err != nil {
			return fmt.Errorf("live: reconcile %s: %w", id, err)
		}
		if len(left) == 0 {
			continue
		}
		if err := record.Delete(l.rec, id); err != nil {
			return fmt.Errorf("live: reconcile %s: %w", id, err)
		}
		l.log.Warn("removed the files of a deleted recording left by a crash", "space", id, "files", len(left))
	}
	return nil
}

// Recordings lists the recordings of recent spaces, for operators.
func (l *Library) Recordings(ctx context.Context) ([]RecordingInfo, error) {
	spaces, err := l.store.Spaces(ctx, 1000)
	if err != nil {
		return nil, err
	}
	var out []RecordingInfo
	for _, sp := range spaces {
		if sp.State == space.Scheduled {
			continue
		}
		pub, err := l.store.Recording(ctx, sp.ID)
		if err != nil {
			return nil, err
		}
		info, err := l.describe(sp, pub)
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
func (l *Library) ApplyRetention(ctx context.Context, p Retention) (int, error) {
	if p.Unpublished <= 0 && p.Published <= 0 {
		return 0, nil
	}
	ended, err := l.store.SpacesIn(ctx, space.Ended)
	if err != nil {
		return 0, err
	}
	now, n := l.now(), 0
	for _, sp := range ended {
		pub, err := l.store.Recording(ctx, sp.ID)
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
		err = l.Delete(ctx, sp.ID, "retention")
		if errors.Is(err, space.ErrNotFound) || errors.Is(err, space.ErrRecordingDeleted) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
