package live

import (
	"context"
	"sync"
	"time"

	"github.com/podium-live/podium/internal/space"
)

// accessCache remembers for a short while whether a space's recording is
// public, so serving replay segments costs no database read per request.
type accessCache struct {
	mu sync.Mutex // guards m
	m  map[string]accessEntry
}

type accessEntry struct {
	public bool
	until  time.Time
}

const accessTTL = 2 * time.Second

// ReplayPublic reports whether anyone may fetch the replay of space id.
func (s *Service) ReplayPublic(ctx context.Context, id string) bool {
	now := s.now()
	s.access.mu.Lock()
	e, ok := s.access.m[id]
	s.access.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.public
	}
	public := false
	if space.ValidID(id) {
		if pub, err := s.store.Recording(ctx, id); err == nil {
			public = pub.Public(now)
			if !pub.PublishAt.IsZero() && now.Before(pub.PublishAt) && pub.PublishAt.Sub(now) < accessTTL {
				// becomes public within the TTL: do not cache the "no"
				return false
			}
		}
	}
	s.access.mu.Lock()
	if s.access.m == nil || len(s.access.m) > 10000 {
		s.access.m = map[string]accessEntry{}
	}
	s.access.m[id] = accessEntry{public: public, until: now.Add(accessTTL)}
	s.access.mu.Unlock()
	return public
}

func (s *Service) forgetAccess(id string) {
	s.access.mu.Lock()
	delete(s.access.m, id)
	s.access.mu.Unlock()
}
