package space

import (
	"errors"
	"time"
)

// ErrRecordingDeleted is returned for actions on a deleted recording.
var ErrRecordingDeleted = errors.New("recording was deleted")

// Recording is the publication state of a space's recording. The audio
// itself lives in the record package's storage.
type Recording struct {
	SpaceID     string
	PublishedAt time.Time // when it was published; zero = not published
	PublishAt   time.Time // scheduled publication; zero = none
	DeletedAt   time.Time // zero unless deleted
	DeletedBy   string    // "host", "operator" or "retention"
}

// Deleted reports whether the recording was deleted.
func (r Recording) Deleted() bool { return !r.DeletedAt.IsZero() }

// Public reports whether anyone may listen at now: published, or its
// scheduled publication time has come, and not deleted.
func (r Recording) Public(now time.Time) bool {
	if r.Deleted() {
		return false
	}
	return !r.PublishedAt.IsZero() || (!r.PublishAt.IsZero() && !now.Before(r.PublishAt))
}

// Publish publishes now (at zero or not after now) or schedules it for at.
func (r *Recording) Publish(at, now time.Time) error {
	if r.Deleted() {
		return ErrRecordingDeleted
	}
	if at.IsZero() || !at.After(now) {
		r.PublishedAt, r.PublishAt = now.UTC(), time.Time{}
		return nil
	}
	r.PublishedAt, r.PublishAt = time.Time{}, at.UTC()
	return nil
}

// Unpublish makes the recording private again and cancels a schedule.
func (r *Recording) Unpublish() error {
	if r.Deleted() {
		return ErrRecordingDeleted
	}
	r.PublishedAt, r.PublishAt = time.Time{}, time.Time{}
	return nil
}

// Delete records who deleted the recording and when.
func (r *Recording) Delete(by string, now time.Time) error {
	if r.Deleted() {
		return ErrRecordingDeleted
	}
	r.DeletedAt, r.DeletedBy = now.UTC(), by
	r.PublishedAt, r.PublishAt = time.Time{}, time.Time{}
	return nil
}
