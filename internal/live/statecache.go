package live

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/podium-live/podium/internal/space"
)

// stateCache remembers for a moment what state a space is in (or that it
// does not exist), so that the join route, the path a join storm hits,
// costs no database read per request. This node's own state changes
// forget the entry at once; another node's reach it within stateTTL.
type stateCache struct {
	mu sync.Mutex // guards m
	m  map[string]stateEntry
}

type stateEntry struct {
	state space.State
	err   error // space.ErrNotFound, or nil
	until time.Time
}

const (
	stateTTL        = time.Second
	stateCacheLimit = 10000 // entries; past it the cache starts afresh
)

// SpaceState is the state of space id as of at most a second ago, or
// space.ErrNotFound. Other store errors are returned and not remembered.
func (s *Service) SpaceState(ctx context.Context, id string) (space.State, error) {
	now := s.now()
	s.states.mu.Lock()
	e, ok := s.states.m[id]
	s.states.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.state, e.err
	}
	sp, err := s.Space(ctx, id)
	if err != nil && !errors.Is(err, space.ErrNotFound) {
		return "", err
	}
	e = stateEntry{state: sp.State, err: err, until: now.Add(stateTTL)}
	s.states.mu.Lock()
	if s.states.m == nil || len(s.states.m) >= stateCacheLimit {
		s.states.m = map[string]stateEntry{}
	}
	s.states.m[id] = e
	s.states.mu.Unlock()
	return e.state, e.err
}

// updateSpace stores sp and forgets its cached state.
func (s *Service) updateSpace(ctx context.Context, sp space.Space) error {
	err := s.store.UpdateSpace(ctx, sp)
	s.states.mu.Lock()
	delete(s.states.m, sp.ID)
	s.states.mu.Unlock()
	return err
}
