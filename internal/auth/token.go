// Package auth issues and checks podium's bearer tokens: compact,
// HMAC-signed claims that any node holding the keys can verify without a
// database read.
//
// A token is KID.PAYLOAD.SIG: KID names the signing key, PAYLOAD is the
// base64url JSON of Claims, SIG the base64url HMAC-SHA256 of "KID.PAYLOAD".
// Every token carries a token id (jti, Claims.ID), so one token can be
// revoked; keys are rotated with a grace period (keyring.go). Revocations
// and keys are kept in memory, so Verify reads no database.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"
)

// Role is what a token lets its holder do.
type Role string

// The roles podium knows.
const (
	RoleOperator Role = "operator"
	RoleHost     Role = "host"
	RoleSpeaker  Role = "speaker"
	// RolePreview only reads one space's replay (short-lived, for URLs).
	RolePreview Role = "preview"
	// RoleModerator decides moderation cases; its token id is the
	// moderator's id (revoking the moderator revokes it).
	RoleModerator Role = "moderator"
	// RoleFlagger is a trusted flagger's (Art. 22): it only sends notices,
	// which go to the trusted lane. Its token id is the flagger's id.
	RoleFlagger Role = "flagger"
)

// Errors returned by Verify. All of them mean "not authenticated".
var (
	ErrMissing   = errors.New("auth: token missing")
	ErrMalformed = errors.New("auth: token malformed")
	ErrSignature = errors.New("auth: token signature invalid")
	ErrExpired   = errors.New("auth: token expired")
	// ErrRetired: signed with a key whose grace period after a rotation
	// has ended.
	ErrRetired = errors.New("auth: token signed with a retired key")
	// ErrRevoked: the token's id was revoked.
	ErrRevoked = errors.New("auth: token revoked")
)

// Claims are what a token says about its holder.
type Claims struct {
	Role    Role   `json:"r"`
	Space   string `json:"s,omitempty"` // space the token is for; empty for operator
	Invite  string `json:"i,omitempty"` // invite id, for speaker tokens (revocable)
	Name    string `json:"n,omitempty"` // display name suggested by the inviter
	Expires int64  `json:"e,omitempty"` // unix seconds; 0 = never
	// ID is the token id (jti), what Revoke names. Sign makes a random one
	// when empty; a speaker token's id is its invite id (sent once).
	ID string `json:"j,omitempty"`
}

// maxTokenLen bounds the work Verify does on hostile input.
const maxTokenLen = 1024

// macLen is the length of a signature, in bytes and in base64url.
const (
	macLen    = sha256.Size
	macB64Len = (macLen*8 + 5) / 6
)

var b64 = base64.RawURLEncoding

// signingKey is one key of the keyring. Immutable but for its pool.
type signingKey struct {
	id string
	// acceptUntil: unix milliseconds after which tokens signed with this
	// key are refused; 0 = no limit (the current key).
	acceptUntil int64
	secret      []byte
	macs        sync.Pool // of hash.Hash keyed with secret: hmac.New allocates
}

func newSigningKey(id string, secret []byte, acceptUntil int64) *signingKey {
	k := &signingKey{id: id, secret: secret, acceptUntil: acceptUntil}
	k.macs.New = func() any { return hmac.New(sha256.New, k.secret) }
	return k
}

// sum appends the HMAC of msg to dst.
func (k *signingKey) sum(dst []byte, msg string) []byte {
	m := k.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(msg))
	dst = m.Sum(dst)
	k.macs.Put(m)
	return dst
}

// NewSigner returns a Signer for one key (at least 32 bytes), kept in
// memory only: Rotate and Revoke work but are not persisted. Open gives
// one backed by a Store. now may be nil.
func NewSigner(key []byte, now func() time.Time) (*Signer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("auth: key has %d bytes, want at least 32", len(key))
	}
	s := newSigner(nil, now)
	s.install([]Key{{ID: LegacyKeyID, Secret: key}})
	return s, nil
}

// NewKey returns a fresh random signing key.
func NewKey() []byte {
	k := make([]byte, 32)
	rand.Read(k) // never fails (crypto/rand panics itself if it cannot read)
	return k
}

// NewID returns a fresh random token id: 12 base64url characters (72
// bits), never starting with '-' (it is typed as a command argument).
func NewID() string { return randomID(9) }

func randomID(n int) string {
	b := make([]byte, n)
	for {
		rand.Read(b)
		if id := b64.EncodeToString(b); id[0] != '-' {
			return id
		}
	}
}

// Sign returns the token for c, signed with the current key. It gives c a
// random token id unless c has one (or is a speaker token, whose id is its
// invite's).
func (s *Signer) Sign(c Claims) string {
	if c.ID == "" && c.Invite == "" {
		c.ID = NewID()
	}
	if c.ID == c.Invite {
		c.ID = "" // the invite id is the token id: send it once
	}
	body, err := json.Marshal(c)
	if err != nil {
		panic(err) // Claims always marshals
	}
	k := s.ring.Load().current
	n := len(k.id) + 1 + b64.EncodedLen(len(body))
	buf := make([]byte, 0, n+1+macB64Len)
	buf = append(buf, k.id...)
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, body)
	var mac [macLen]byte
	sig := k.sum(mac[:0], string(buf))
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	return string(buf)
}

// Verify checks the token's key, signature, expiry and revocation and
// returns its claims. It reads no database: keys and revocations are in
// memory.
func (s *Signer) Verify(token string) (Claims, error) {
	var c Claims
	if token == "" {
		return c, ErrMissing
	}
	if len(token) > maxTokenLen {
		return c, ErrMalformed
	}
	kid, rest, ok := strings.Cut(token, ".")
	if !ok {
		return c, ErrMalformed
	}
	p, sig, ok := strings.Cut(rest, ".")
	signed := token[:len(token)-len(sig)-1]
	if !ok {
		// A token from before key ids: PAYLOAD.SIG, by the first key.
		kid, p, sig, signed = LegacyKeyID, kid, rest, kid
	}
	if p == "" || len(sig) != macB64Len {
		return c, ErrMalformed
	}
	var got [macLen + 2]byte
	if n, err := b64.Decode(got[:], []byte(sig)); err != nil || n != macLen {
		return c, ErrMalformed
	}
	k := s.ring.Load().byID[kid]
	if k == nil {
		return c, ErrSignature // unknown key: forged, or retired long ago
	}
	var want [macLen]byte
	if !hmac.Equal(got[:macLen], k.sum(want[:0], signed)) {
		return c, ErrSignature
	}
	now := s.now()
	if k.acceptUntil != 0 && now.UnixMilli() >= k.acceptUntil {
		return c, ErrRetired
	}
	body, err := b64.DecodeString(p)
	if err != nil {
		return c, ErrMalformed
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return Claims{}, ErrMalformed
	}
	switch c.Role {
	case RoleOperator, RoleHost, RoleSpeaker, RolePreview, RoleModerator, RoleFlagger:
	default:
		return Claims{}, ErrMalformed
	}
	if c.Expires != 0 && now.Unix() >= c.Expires {
		return Claims{}, ErrExpired
	}
	if c.ID == "" {
		c.ID = c.Invite
	}
	if c.ID != "" && s.revoked(c.ID) {
		return Claims{}, ErrRevoked
	}
	return c, nil
}

// FromHeader extracts the bearer token from an Authorization header value.
func FromHeader(h string) string {
	const prefix = "Bearer "
	if len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
		return strings.TrimSpace(h[len(prefix):])
	}
	return ""
}

// ReadClaims decodes a token's claims without checking anything, for
// tools that name a token by its id (podium token revoke TOKEN). Never
// trust what it returns.
func ReadClaims(token string) (Claims, error) {
	var c Claims
	parts := strings.Split(token, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return c, ErrMalformed
	}
	body, err := b64.DecodeString(parts[len(parts)-2])
	if err != nil {
		return c, ErrMalformed
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return Claims{}, ErrMalformed
	}
	if c.ID == "" {
		c.ID = c.Invite
	}
	return c, nil
}
