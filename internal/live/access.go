package live

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/space"
)

// ErrForbidden means the credential is valid but does not allow the action.
var ErrForbidden = errors.New("forbidden")

// AccessStore is what Access reads.
type AccessStore interface {
	Space(ctx context.Context, id string) (space.Space, error)
	Invite(ctx context.Context, id string) (space.Invite, error)
	Recording(ctx context.Context, spaceID string) (space.Recording, error)
}

// Access decides who may do what: it checks credentials against a space
// and answers whether a replay is public, from a two-second cache that
// PublicationChanged clears. It is built before everything that reports
// events, so that the replay server can ask it.
type Access struct {
	NoEvents
	store  AccessStore
	signer *auth.Signer
	now    func() time.Time
	public ttlCache[bool] // whether a space's replay is public
}

// NewAccess returns the access rules over st, checking tokens with signer.
func NewAccess(st AccessStore, signer *auth.Signer) *Access {
	return &Access{store: st, signer: signer, now: time.Now}
}

// Authorize checks token against what the caller wants to do in spaceID:
// need is the least role allowed (operator > host > speaker). Speaker
// tokens are checked against their invite's revocation.
func (a *Access) Authorize(ctx context.Context, token, spaceID string, need auth.Role) (auth.Claims, error) {
	c, err := a.signer.Verify(token)
	if err != nil {
		return c, err
	}
	switch {
	case c.Role == auth.RoleOperator:
		return c, nil
	case c.Role == auth.RolePreview:
		return c, fmt.Errorf("%w: a preview token only plays the replay", ErrForbidden)
	case c.Role == auth.RoleModerator && need == auth.RoleModerator:
		return c, nil
	case c.Role == auth.RoleModerator:
		return c, fmt.Errorf("%w: a moderator credential only moderates", ErrForbidden)
	case need == auth.RoleModerator:
		return c, fmt.Errorf("%w: moderator credential required", ErrForbidden)
	case c.Role == auth.RoleFlagger && need == auth.RoleFlagger:
		return c, nil
	case c.Role == auth.RoleFlagger:
		return c, fmt.Errorf("%w: a trusted flagger's credential only sends notices", ErrForbidden)
	case need == auth.RoleFlagger:
		return c, fmt.Errorf("%w: trusted flagger credential required", ErrForbidden)
	case need == auth.RoleOperator:
		return c, fmt.Errorf("%w: operator credential required", ErrForbidden)
	case c.Space != spaceID:
		return c, fmt.Errorf("%w: token is for another space", ErrForbidden)
	case c.Role == auth.RoleHost:
		return c, nil
	case need == auth.RoleHost:
		return c, fmt.Errorf("%w: host credential required", ErrForbidden)
	}
	inv, err := a.store.Invite(ctx, c.Invite)
	if errors.Is(err, space.ErrNotFound) || (err == nil && inv.SpaceID != spaceID) {
		return c, fmt.Errorf("%w: unknown invite", ErrForbidden)
	}
	if err != nil {
		return c, err
	}
	if inv.Revoked() {
		return c, fmt.Errorf("%w: invite revoked", ErrForbidden)
	}
	return c, nil
}

// accessTTL is how long whether a replay is public is remembered.
const accessTTL = 2 * time.Second

// ReplayPublic reports whether anyone may fetch the replay of space id.
func (a *Access) ReplayPublic(ctx context.Context, id string) bool {
	now := a.now()
	if public, ok := a.public.get(id, now); ok {
		return public
	}
	public := false
	if space.ValidID(id) {
		if pub, err := a.store.Recording(ctx, id); err == nil {
			public = pub.Public(now)
			if !pub.PublishAt.IsZero() && now.Before(pub.PublishAt) && pub.PublishAt.Sub(now) < accessTTL {
				// becomes public within the TTL: do not cache the "no"
				return false
			}
		}
	}
	a.public.put(id, public, now, accessTTL)
	return public
}

// ReplayVisible reports whether a space has a replay to show its host:
// it went live at least once.
func (a *Access) ReplayVisible(ctx context.Context, id string) bool {
	if !space.ValidID(id) {
		return false
	}
	sp, err := a.store.Space(ctx, id)
	return err == nil && sp.State != space.Scheduled
}

// PublicationChanged forgets whether the replay is public.
func (a *Access) PublicationChanged(id string) { a.public.forget(id) }
