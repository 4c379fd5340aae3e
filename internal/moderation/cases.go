package moderation

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Deadlines podium sets itself for deciding a case, by lane: a trusted
// flagger's notices are decided with priority (Art. 22(1)).
const (
	DeadlineTrusted = 24 * time.Hour
	DeadlineNotices = 7 * 24 * time.Hour
)

// ErrConflict: the case is not in a state that allows the change.
var ErrConflict = errors.New("moderation: conflict")

// Case is the work a notice opens: one case per notice, with the notice's id.
type Case struct {
	Notice     Notice
	Assignee   string // moderator id; "" while unassigned
	AssignedAt time.Time
}

// Deadline is when c should be decided.
func (c Case) Deadline() time.Time {
	if c.Notice.Lane == LaneTrusted {
		return c.Notice.Received.Add(DeadlineTrusted)
	}
	return c.Notice.Received.Add(DeadlineNotices)
}

// CaseStore keeps cases. store.SQLite implements it.
type CaseStore interface {
	// Cases lists cases, oldest first, filtered by lane and state ("" = any).
	Cases(ctx context.Context, lane, state string) ([]Case, error)
	// Case returns case id (ErrNotFound).
	Case(ctx context.Context, id string) (Case, error)
	// AssignCase assigns open case id to moderator at at, in one
	// conditional write (ErrConflict if the case is no longer open).
	AssignCase(ctx context.Context, id, moderator string, at time.Time) (Case, error)
}

// Cases lets moderators see and take cases.
type Cases struct {
	st  CaseStore
	log *Log
	now func() time.Time
}

// NewCases returns the cases kept in st, their changes recorded in log.
// now may be nil.
func NewCases(st CaseStore, log *Log, now func() time.Time) *Cases {
	if now == nil {
		now = time.Now
	}
	return &Cases{st: st, log: log, now: now}
}

// List lists cases by lane and state ("" = any).
func (cs *Cases) List(ctx context.Context, lane, state string) ([]Case, error) {
	switch lane {
	case "", LaneTrusted, LaneNotices:
	default:
		return nil, bad("lane", "unknown lane %q (trusted or notices)", lane)
	}
	switch state {
	case "", StateOpen:
	default:
		return nil, bad("state", "unknown state %q (open)", state)
	}
	return cs.st.Cases(ctx, lane, state)
}

// Get returns case id.
func (cs *Cases) Get(ctx context.Context, id string) (Case, error) { return cs.st.Case(ctx, id) }

// Assign gives open case id to moderator; by is the moderator who did it.
func (cs *Cases) Assign(ctx context.Context, id, moderator, by string) (Case, error) {
	if moderator == "" {
		return Case{}, fmt.Errorf("%w: assignee is required", ErrInvalid)
	}
	c, err := cs.st.AssignCase(ctx, id, moderator, cs.now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return c, err
	}
	if err := cs.log.Append(ctx, EventAssign, by, id, map[string]string{"assignee": moderator}); err != nil {
		return c, fmt.Errorf("moderation: log assignment: %w", err)
	}
	return c, nil
}
