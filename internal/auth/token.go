// Package auth issues and checks podium's bearer tokens: compact, HMAC-signed
// claims that any node holding the key can verify without a database read.
// Revocation (of speaker invites) is checked by the caller against the store.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role is what a token lets its holder do.
type Role string

// The roles podium knows.
const (
	RoleOperator Role = "operator"
	RoleHost     Role = "host"
	RoleSpeaker  Role = "speaker"
)

// Errors returned by Verify. All of them mean "not authenticated".
var (
	ErrMissing   = errors.New("auth: token missing")
	ErrMalformed = errors.New("auth: token malformed")
	ErrSignature = errors.New("auth: token signature invalid")
	ErrExpired   = errors.New("auth: token expired")
)

// Claims are what a token says about its holder.
type Claims struct {
	Role    Role   `json:"r"`
	Space   string `json:"s,omitempty"` // space the token is for; empty for operator
	Invite  string `json:"i,omitempty"` // invite id, for speaker tokens (revocable)
	Name    string `json:"n,omitempty"` // display name suggested by the inviter
	Expires int64  `json:"e,omitempty"` // unix seconds; 0 = never
}

// maxTokenLen bounds the work Verify does on hostile input.
const maxTokenLen = 1024

// Signer signs and verifies tokens with one secret key.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a Signer for key (at least 32 bytes). now may be nil.
func NewSigner(key []byte, now func() time.Time) (*Signer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("auth: key has %d bytes, want at least 32", len(key))
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, now: now}, nil
}

// NewKey returns a fresh random signing key.
func NewKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return k
}

var b64 = base64.RawURLEncoding

// Sign returns the token for c.
func (s *Signer) Sign(c Claims) string {
	body, err := json.Marshal(c)
	if err != nil {
		panic(err) // Claims always marshals
	}
	p := b64.EncodeToString(body)
	return p + "." + b64.EncodeToString(s.mac(p))
}

func (s *Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Verify checks the token's signature and expiry and returns its claims.
func (s *Signer) Verify(token string) (Claims, error) {
	var c Claims
	if token == "" {
		return c, ErrMissing
	}
	if len(token) > maxTokenLen {
		return c, ErrMalformed
	}
	p, sig, ok := strings.Cut(token, ".")
	if !ok || p == "" || sig == "" {
		return c, ErrMalformed
	}
	got, err := b64.DecodeString(sig)
	if err != nil {
		return c, ErrMalformed
	}
	if !hmac.Equal(got, s.mac(p)) {
		return c, ErrSignature
	}
	body, err := b64.DecodeString(p)
	if err != nil {
		return c, ErrMalformed
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return Claims{}, ErrMalformed
	}
	switch c.Role {
	case RoleOperator, RoleHost, RoleSpeaker:
	default:
		return Claims{}, ErrMalformed
	}
	if c.Expires != 0 && s.now().Unix() >= c.Expires {
		return Claims{}, ErrExpired
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
