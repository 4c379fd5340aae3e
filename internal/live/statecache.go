package live

import (
	"context"
	"errors"
	"time"

	"github.com/podium-live/podium/internal/space"
)

// stateEntry is a space's state, or space.ErrNotFound.
type stateEntry struct {
	state space.State
	err   error
}

// stateTTL is how long a space's state is remembered for joins: the path a
// join storm hits costs no database read per request. This node's own
// state changes forget the entry at once (updateSpace); another node's
// reach it within stateTTL.
const stateTTL = time.Second

// SpaceState is the state of space id as of at most a second ago, or
// space.ErrNotFound. Other store errors are returned and not remembered.
func (s *Service) SpaceState(ctx context.Context, id string) (space.State, error) {
	now := s.now()
	if e, ok := s.states.get(id, now); ok {
		return e.state, e.err
	}
	sp, err := s.Space(ctx, id)
	if err != nil && !errors.Is(err, space.ErrNotFound) {
		return "", err
	}
	s.states.put(id, stateEntry{state: sp.State, err: err}, now, stateTTL)
	return sp.State, err
}

// updateSpace stores sp and forgets its remembered state.
func (s *Service) updateSpace(ctx context.Context, sp space.Space) error {
	err := s.store.UpdateSpace(ctx, sp)
	s.states.forget(sp.ID)
	return err
}
