package live

import (
	"context"
	"encoding/json"
	"errors"
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
	info, err := r.stage.Info(speakerID)
	if err != nil {
		return nil, err
	}
	if c.Role == auth.RoleSpeaker && info.Invite != c.Invite {
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
	return r.stage.Leave(speakerID)
}

// Mute mutes or unmutes a speaker: a speaker's own mute when c is the
// speaker, the host's mute (which only the host lifts) otherwise. It
// returns the speaker's mutes as they are now.
func (s *Service) Mute(id, speakerID string, muted bool, c auth.Claims) (ingest.SpeakerInfo, error) {
	r, err := s.speakerOf(id, speakerID, c)
	if err != nil {
		return ingest.SpeakerInfo{}, err
	}
	set := r.stage.SetHostMuted
	if c.Role == auth.RoleSpeaker {
		set = r.stage.SetSelfMuted
	}
	info, err := set(speakerID, muted)
	if err != nil {
		return info, err
	}
	r.invalidate()
	return info, nil
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
// The stage is barred after the revocation is stored, under the stage's
// lock: a join that was authorized before the revocation and is still
// negotiating is refused when it would be added.
func (s *Service) RevokeInvite(ctx context.Context, id, invite string) error {
	if err := s.store.RevokeInvite(ctx, id, invite, s.now()); err != nil {
		return err
	}
	r, err := s.room(ctx, id)
	if errors.Is(err, space.ErrEnded) {
		return nil // no stage any more
	}
	if err != nil {
		return err
	}
	r.stage.Bar(invite)
	r.invalidate()
	return nil
}

// Kick removes a speaker from the stage (host action). A speaker who
// joined with an invite is barred at once and the invite revoked, so the
// removal holds across reconnects and restarts; the host invites them
// again with a new invite.
func (s *Service) Kick(ctx context.Context, id, speakerID string) error {
	r := s.openRoom(id)
	if r == nil {
		return ingest.ErrNoSpeaker
	}
	info, err := r.stage.Remove(speakerID)
	if err != nil {
		return err
	}
	r.invalidate()
	if info.Invite == "" {
		return nil
	}
	err = s.store.RevokeInvite(ctx, id, info.Invite, s.now())
	if errors.Is(err, space.ErrNotFound) { // revoked already
		err = nil
	}
	return err
}
