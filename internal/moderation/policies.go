package moderation

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/podium-live/podium/internal/policy"
)

// RestrictionStore keeps the restrictions decisions put in force.
// store.SQLite implements it.
type RestrictionStore interface {
	// AddRestriction stores r on space (a decision taking effect).
	AddRestriction(ctx context.Context, space string, r policy.Restriction) error
	// Restrictions returns the restrictions not reversed, by space.
	Restrictions(ctx context.Context) (map[string][]policy.Restriction, error)
}

// Policies owns the restrictions in force: one immutable policy.Policy per
// space behind an atomic pointer, rebuilt from the store on every change
// (Reload) and at the next expiry (Run). It implements policy.Source.
//
// Concurrency: mu serializes Reload; readers load snap without locking.
type Policies struct {
	st      RestrictionStore
	unknown policy.UnknownRule
	now     func() time.Time

	mu   sync.Mutex
	snap atomic.Pointer[map[string]*policy.Policy]
	// changed is signalled (non-blocking) after each Reload, so Run
	// re-arms its timer for the new next expiry.
	changed chan struct{}
}

var _ policy.Source = (*Policies)(nil)

// NewPolicies loads the restrictions in st. now may be nil.
func NewPolicies(ctx context.Context, st RestrictionStore, unknown policy.UnknownRule, now func() time.Time) (*Policies, error) {
	if now == nil {
		now = time.Now
	}
	p := &Policies{st: st, unknown: unknown, now: now, changed: make(chan struct{}, 1)}
	if err := p.Reload(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Policy returns space's policy (nil: nothing in force). It never blocks.
func (p *Policies) Policy(space string) *policy.Policy { return (*p.snap.Load())[space] }

// Reload rebuilds every space's policy from the store.
func (p *Policies) Reload(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	all, err := p.st.Restrictions(ctx)
	if err != nil {
		return fmt.Errorf("moderation: load restrictions: %w", err)
	}
	now := p.now()
	m := make(map[string]*policy.Policy, len(all))
	for space, rs := range all {
		pol := policy.New(space, rs, now, p.unknown)
		if len(pol.Restrictions()) > 0 {
			m[space] = pol
		}
	}
	p.snap.Store(&m)
	select {
	case p.changed <- struct{}{}:
	default:
	}
	return nil
}

// next is the earliest expiry among the policies in force (zero: none).
func (p *Policies) next() time.Time {
	var t time.Time
	for _, pol := range *p.snap.Load() {
		if n := pol.Next(); !n.IsZero() && (t.IsZero() || n.Before(t)) {
			t = n
		}
	}
	return t
}

// Run rebuilds the policies when the next restriction lapses, until ctx
// ends. It is the one timer goroutine; the app joins it at shutdown.
func (p *Policies) Run(ctx context.Context) error {
	for {
		var fire <-chan time.Time
		var timer *time.Timer
		if n := p.next(); !n.IsZero() {
			timer = time.NewTimer(max(time.Until(n), 0) + time.Millisecond)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil
		case <-p.changed:
		case <-fire:
			if err := p.Reload(ctx); err != nil && ctx.Err() == nil {
				return err
			}
		}
		if timer != nil {
			timer.Stop()
		}
	}
}
