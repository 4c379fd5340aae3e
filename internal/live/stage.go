package live

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/ingest"
	"github.com/podium-live/podium/internal/space"
)

// Join puts the holder of c on the stage of space id with its WHIP offer.
// name overrides the name in the token when not empty.
func (s *Service) Join(ctx context.Context, id string, c auth.Claims, name string, offer []byte) (speakerID, answer string, err error) {
	if name == "" {
		name = c.Name
	}
	if name, err = space.CleanName(name); err != nil {
		return "", "", err
	}
	if name == "" {
		name = string(c.Role)
	}
	r, err := s.room(ctx, id)
	if err != nil {
		return "", "", err
	}
	role := "speaker"
	if c.Role != auth.RoleSpeaker {
		role = "host"
	}
	sp, answer, err := r.stage.Join(ctx, offer, ingest.Joiner{Name: name, Role: role, Invite: c.Invite})
	if err != nil {
		return "", "", err
	}
	r.mu.Lock()
	if r.tape != nil {
		r.tape.names.Store(sp.ID, name)
	}
	r.mu.Unlock()
	return sp.ID, answer, nil
}

// speakerOf finds a speaker of an open space and checks that c may act
// on it: hosts on anyone, speakers on themselves.
func (s *Service) speakerOf(id, speakerID string, c auth.Claims) (*room, error) {
	r := s.openRoom(id)
	if r == nil {
		return nil, ingest.ErrNoSpeaker
	}
	sp, err := r.stage.Speaker(speakerID)
	if err != nil {
		return nil, err
	}
	if c.Role == auth.RoleSpeaker && sp.Info().Invite != c.Invite {
		return nil, fmt.Errorf("%w: not your stage session", ErrForbidden)
	}
	return r, nil
}

// Leave takes a speaker off the stage.
func (s *Service) Leave(id, speakerID string, c auth.Claims) error {
	r, err := s.speakerOf(id, speakerID, c)
	if err != nil {
		return err
	}
	return r.stage.Kick(speakerID)
}

// Mute mutes or unmutes a speaker.
func (s *Service) Mute(id, speakerID string, muted bool, c auth.Claims) error {
	r, err := s.speakerOf(id, speakerID, c)
	if err != nil {
		return err
	}
	if err := r.stage.SetMuted(speakerID, muted); err != nil {
		return err
	}
	r.invalidate()
	return nil
}

// invalidate makes the next status request rebuild at once.
func (r *room) invalidate() {
	r.mu.Lock()
	r.status = nil
	r.mu.Unlock()
}

// Status returns the live status document of a space.
func (s *Service) Status(ctx context.Context, id string) ([]byte, error) {
	if r := s.openRoom(id); r != nil {
		return r.statusJSON(time.Second), nil
	}
	sp, err := s.Space(ctx, id)
	if err != nil {
		return nil, err
	}
	// Not open on this node: nobody on stage, nobody listening here.
	return json.Marshal(LiveStatus{State: sp.State, Speakers: []SpeakerState{}, Recorded: sp.Record && sp.State == space.Live})
}

// NewInvite creates a speaker invite for space id.
func (s *Service) NewInvite(ctx context.Context, id, name string, ttl time.Duration) (space.Invite, string, error) {
	sp, err := s.Space(ctx, id)
	if err != nil {
		return space.Invite{}, "", err
	}
	if sp.State == space.Ended {
		return space.Invite{}, "", space.ErrEnded
	}
	if name, err = space.CleanName(name); err != nil {
		return space.Invite{}, "", err
	}
	if ttl <= 0 {
		ttl = s.cfg.InviteTTL
	}
	if ttl > 365*24*time.Hour {
		return space.Invite{}, "", fmt.Errorf("%w: ttl_seconds longer than a year", space.ErrInvalid)
	}
	now := s.now()
	inv := space.Invite{ID: space.NewID("inv"), SpaceID: id, Name: name, CreatedAt: now, ExpiresAt: now.Add(ttl).Truncate(time.Second)}
	if err := s.store.CreateInvite(ctx, inv); err != nil {
		return inv, "", err
	}
	tok := s.signer.Sign(auth.Claims{Role: auth.RoleSpeaker, Space: id, Invite: inv.ID, Name: name, Expires: inv.ExpiresAt.Unix()})
	return inv, tok, nil
}

// Invites lists the invites of space id.
func (s *Service) Invites(ctx context.Context, id string) ([]space.Invite, error) {
	if _, err := s.Space(ctx, id); err != nil {
		return nil, err
	}
	return s.store.Invites(ctx, id)
}

// RevokeInvite revokes an invite and removes its speakers from the stage.
func (s *Service) RevokeInvite(ctx context.Context, id, invite string) error {
	if err := s.store.RevokeInvite(ctx, id, invite, s.now()); err != nil {
		return err
	}
	// The invite id is the speaker token's id: Verify refuses it from now on.
	if err := s.signer.Revoke(ctx, invite, time.Time{}); err != nil {
		return err
	}
	if r := s.openRoom(id); r != nil {
		r.stage.KickInvite(invite)
	}
	return nil
}

// Kick removes a speaker from the stage (host action).
func (s *Service) Kick(id, speakerID string) error {
	r := s.openRoom(id)
	if r == nil {
		return ingest.ErrNoSpeaker
	}
	return r.stage.Kick(speakerID)
}
