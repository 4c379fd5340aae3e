package live

import (
	"context"
	"time"

	"github.com/podium-live/podium/internal/space"
)

// accessTTL is how long whether a replay is public is remembered.
const accessTTL = 2 * time.Second

// ReplayPublic reports whether anyone may fetch the replay of space id.
func (s *Service) ReplayPublic(ctx context.Context, id string) bool {
	now := s.now()
	if public, ok := s.access.get(id, now); ok {
		return public
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
	s.access.put(id, public, now, accessTTL)
	return public
}
