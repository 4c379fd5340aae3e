package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// LegacyKeyID names the node's first key: the one from before key ids,
// which verifies tokens of the form PAYLOAD.SIG until it is rotated out.
const LegacyKeyID = "0"

// MaxLifetime is the longest any token podium issues lives (an operator
// token: a year). A revocation by id alone is kept this long.
const MaxLifetime = 366 * 24 * time.Hour

// Token lifetimes.
const (
	OperatorTTL = 365 * 24 * time.Hour
	HostTTL     = 30 * 24 * time.Hour
)

// Key is a signing key as the store keeps it.
type Key struct {
	ID     string
	Secret []byte
	// Created is when the key was made.
	Created time.Time
	// Retired is when a rotation replaced the key; zero for the current key.
	Retired time.Time
	// AcceptUntil is when tokens signed with a retired key stop being
	// accepted (Retired + the rotation's grace).
	AcceptUntil time.Time
}

// Store keeps keys, revocations and issued tokens for every node sharing
// it. store.SQLite implements it.
type Store interface {
	// SigningKeys returns every key still accepted at now (and prunes the
	// others); at most one has Retired zero.
	SigningKeys(ctx context.Context, now time.Time) ([]Key, error)
	// FirstSigningKey stores k as the current key if there is none.
	FirstSigningKey(ctx context.Context, k Key) error
	// RotateSigningKey, in one transaction, retires the current key at
	// k.Created (accepted until acceptUntil) and makes k current.
	RotateSigningKey(ctx context.Context, k Key, acceptUntil time.Time) error
	// RevokeToken records that token id is refused until until.
	RevokeToken(ctx context.Context, id string, until time.Time) error
	// RevokedTokens returns the revocations still in force at now (and
	// prunes the others).
	RevokedTokens(ctx context.Context, now time.Time) (map[string]time.Time, error)
	// ReplaceToken, in one transaction, records id (valid until until) as
	// the token of slot and revokes the slot's previous token, which it
	// returns ("" if none).
	ReplaceToken(ctx context.Context, slot, id string, until time.Time) (old string, oldUntil time.Time, err error)
}

// Signer signs and verifies tokens. It is safe for concurrent use.
//
// Concurrency: ring is replaced whole (copy on write) under rotMu and read
// lock-free by Verify; revMu guards revokedIDs, read under RLock by every
// Verify. Writes go to the store first, then to memory.
type Signer struct {
	st  Store // nil: memory only
	now func() time.Time

	ring atomic.Pointer[keyring]

	rotMu sync.Mutex // serializes Rotate and Reload

	revMu      sync.RWMutex
	revokedIDs map[string]int64 // token id → unix ms until which it is refused
}

// keyring is an immutable set of keys.
type keyring struct {
	current *signingKey
	byID    map[string]*signingKey
}

func newSigner(st Store, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{st: st, now: now, revokedIDs: map[string]int64{}}
}

// Open returns a Signer over the keys and revocations in st, making the
// first key if there is none. now may be nil.
func Open(ctx context.Context, st Store, now func() time.Time) (*Signer, error) {
	s := newSigner(st, now)
	if err := st.FirstSigningKey(ctx, Key{ID: newKeyID(), Secret: NewKey(), Created: s.now()}); err != nil {
		return nil, fmt.Errorf("auth: first key: %w", err)
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads keys and revocations from the store again: what another
// node sharing the store rotated or revoked (on a bus message, later).
func (s *Signer) Reload(ctx context.Context) error {
	if s.st == nil {
		return nil
	}
	s.rotMu.Lock()
	defer s.rotMu.Unlock()
	now := s.now()
	keys, err := s.st.SigningKeys(ctx, now)
	if err != nil {
		return fmt.Errorf("auth: load keys: %w", err)
	}
	if err := s.install(keys); err != nil {
		return err
	}
	rev, err := s.st.RevokedTokens(ctx, now)
	if err != nil {
		return fmt.Errorf("auth: load revocations: %w", err)
	}
	m := make(map[string]int64, len(rev))
	for id, until := range rev {
		m[id] = until.UnixMilli()
	}
	s.revMu.Lock()
	s.revokedIDs = m
	s.revMu.Unlock()
	return nil
}

// install makes keys the keyring.
func (s *Signer) install(keys []Key) error {
	r := &keyring{byID: make(map[string]*signingKey, len(keys))}
	for _, k := range keys {
		if len(k.Secret) < 32 {
			return fmt.Errorf("auth: key %s has %d bytes, want at least 32", k.ID, len(k.Secret))
		}
		var until int64
		if !k.Retired.IsZero() {
			until = k.AcceptUntil.UnixMilli()
		}
		sk := newSigningKey(k.ID, k.Secret, until)
		r.byID[k.ID] = sk
		if k.Retired.IsZero() {
			if r.current != nil {
				return fmt.Errorf("auth: two current keys (%s, %s)", r.current.id, k.ID)
			}
			r.current = sk
		}
	}
	if r.current == nil {
		return errors.New("auth: no current signing key")
	}
	s.ring.Store(r)
	return nil
}

// newKeyID returns a random key id (8 base64url characters).
func newKeyID() string { return randomID(6) }

// KeyID is the id of the current signing key.
func (s *Signer) KeyID() string { return s.ring.Load().current.id }

// Rotate makes a new key current. Tokens signed with the keys before it
// are accepted for grace more (0: refused at once), then refused. It
// returns the new key's id.
func (s *Signer) Rotate(ctx context.Context, grace time.Duration) (string, error) {
	if grace < 0 {
		return "", errors.New("auth: negative grace period")
	}
	s.rotMu.Lock()
	defer s.rotMu.Unlock()
	now := s.now()
	k := Key{ID: newKeyID(), Secret: NewKey(), Created: now}
	until := now.Add(grace)
	if s.st != nil {
		if err := s.st.RotateSigningKey(ctx, k, until); err != nil {
			return "", fmt.Errorf("auth: rotate: %w", err)
		}
	}
	old := s.ring.Load()
	r := &keyring{byID: make(map[string]*signingKey, len(old.byID)+1)}
	for id, ok := range old.byID {
		if ok.acceptUntil == 0 || ok.acceptUntil > until.UnixMilli() {
			ok = newSigningKey(ok.id, ok.secret, until.UnixMilli())
		}
		r.byID[id] = ok
	}
	r.current = newSigningKey(k.ID, k.Secret, 0)
	r.byID[k.ID] = r.current
	s.ring.Store(r)
	return k.ID, nil
}

// Revoke refuses the token with id from now until until (zero: for
// MaxLifetime, the longest any token lives).
func (s *Signer) Revoke(ctx context.Context, id string, until time.Time) error {
	if id == "" {
		return errors.New("auth: revoke: empty token id")
	}
	if until.IsZero() {
		until = s.now().Add(MaxLifetime)
	}
	if s.st != nil {
		if err := s.st.RevokeToken(ctx, id, until); err != nil {
			return fmt.Errorf("auth: revoke: %w", err)
		}
	}
	s.revokeInMemory(id, until)
	return nil
}

func (s *Signer) revokeInMemory(id string, until time.Time) {
	now := s.now().UnixMilli()
	s.revMu.Lock()
	defer s.revMu.Unlock()
	if u, ok := s.revokedIDs[id]; !ok || u < until.UnixMilli() {
		s.revokedIDs[id] = until.UnixMilli()
	}
	for id, u := range s.revokedIDs { // drop what has expired on its own
		if u <= now {
			delete(s.revokedIDs, id)
		}
	}
}

func (s *Signer) revoked(id string) bool {
	s.revMu.RLock()
	_, ok := s.revokedIDs[id]
	s.revMu.RUnlock()
	return ok
}

// Issue signs c with a fresh token id as the one token of slot (e.g.
// "operator", or HostSlot(space)): the slot's previous token is revoked.
// c.Expires must be set.
func (s *Signer) Issue(ctx context.Context, slot string, c Claims) (string, error) {
	if c.Expires == 0 {
		return "", errors.New("auth: issue: a token of a slot needs an expiry")
	}
	c.ID = NewID()
	tok := s.Sign(c)
	if s.st == nil {
		return tok, nil
	}
	old, oldUntil, err := s.st.ReplaceToken(ctx, slot, c.ID, time.Unix(c.Expires, 0))
	if err != nil {
		return "", fmt.Errorf("auth: issue: %w", err)
	}
	if old != "" {
		s.revokeInMemory(old, oldUntil)
	}
	return tok, nil
}

// HostSlot names the slot of a space's host token.
func HostSlot(spaceID string) string { return "host:" + spaceID }

// OperatorSlot names the slot of the operator token.
const OperatorSlot = "operator"
