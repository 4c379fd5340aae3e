package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, err := NewSigner(NewKey(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner(NewKey(), nil)
	good := s.Sign(Claims{Role: RoleSpeaker, Space: "sp_1", Invite: "inv_1", Name: "Ada", Expires: now.Unix() + 60})
	expired := s.Sign(Claims{Role: RoleSpeaker, Space: "sp_1", Expires: now.Unix() - 1})
	forged := other.Sign(Claims{Role: RoleOperator})
	i := strings.LastIndexByte(good, '.')
	tampered := good[:i-2] + "xx" + good[i:]
	otherKid := "zz" + good[strings.IndexByte(good, '.'):]
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"good", good, nil},
		{"missing", "", ErrMissing},
		{"expired", expired, ErrExpired},
		{"forged", forged, ErrSignature},
		{"tampered", tampered, ErrSignature},
		{"unknown key id", otherKid, ErrSignature},
		{"legacy", legacyToken(t, s.ring.Load().byID[LegacyKeyID].secret, Claims{Role: RoleSpeaker, Space: "sp_1", Name: "Ada", Expires: now.Unix() + 60}), nil},
		{"legacy forged", legacyToken(t, NewKey(), Claims{Role: RoleOperator}), ErrSignature},
		{"short signature", good[:len(good)-2], ErrMalformed},
		{"four parts", "a.b.c.d", ErrMalformed},
		{"no dot", "abc", ErrMalformed},
		{"bad base64", "abc.!!!", ErrMalformed},
		{"too long", strings.Repeat("a", 2000) + ".b", ErrMalformed},
		{"unknown role", s.Sign(Claims{Role: "king"}), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.Verify(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (c.Space != "sp_1" || c.Name != "Ada" || c.Role != RoleSpeaker) {
				t.Fatalf("claims = %+v, want speaker Ada of sp_1", c)
			}
		})
	}
}

// legacyToken makes a token as podium signed them before key ids:
// PAYLOAD.SIG.
func legacyToken(t *testing.T, key []byte, c Claims) string {
	t.Helper()
	body, _ := json.Marshal(c)
	p := b64.EncodeToString(body)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p))
	return p + "." + b64.EncodeToString(m.Sum(nil))
}

func TestTokensHaveKeyAndTokenIDs(t *testing.T) {
	s, _ := NewSigner(NewKey(), nil)
	a, b := s.Sign(Claims{Role: RoleOperator}), s.Sign(Claims{Role: RoleOperator})
	if a == b {
		t.Fatal("two operator tokens signed alike: no token id")
	}
	if !strings.HasPrefix(a, s.KeyID()+".") {
		t.Errorf("token %q does not start with the key id %q", a, s.KeyID())
	}
	ca, _ := s.Verify(a)
	cb, _ := s.Verify(b)
	if len(ca.ID) != 12 || ca.ID == cb.ID {
		t.Errorf("token ids %q, %q: want two distinct 12-character ids", ca.ID, cb.ID)
	}
	sp := s.Sign(Claims{Role: RoleSpeaker, Space: "sp_1", Invite: "inv_abc"})
	if c, err := s.Verify(sp); err != nil || c.ID != "inv_abc" {
		t.Errorf("speaker token id = %q, %v; want its invite id", c.ID, err)
	}
	if strings.Count(string(mustDecode(t, sp)), "inv_abc") != 1 {
		t.Errorf("speaker token carries its invite id twice: %s", mustDecode(t, sp))
	}
}

// TestIDsAreNotFlags: an id is typed as an argument (podium token revoke
// ID); one starting with '-' would be taken for a flag.
func TestIDsAreNotFlags(t *testing.T) {
	for i := 0; i < 5000; i++ {
		if id, kid := NewID(), newKeyID(); id[0] == '-' || kid[0] == '-' || len(id) != 12 || len(kid) != 8 {
			t.Fatalf("NewID %q, newKeyID %q: want 12 and 8 characters, not starting with '-'", id, kid)
		}
	}
}

func mustDecode(t *testing.T, tok string) []byte {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := b64.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRotateGracePeriod(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, _ := NewSigner(NewKey(), func() time.Time { return now })
	ctx := context.Background()
	old := s.Sign(Claims{Role: RoleHost, Space: "sp_1", Expires: now.Unix() + 86400})
	legacy := legacyToken(t, s.ring.Load().byID[LegacyKeyID].secret, Claims{Role: RoleOperator})
	kid, err := s.Rotate(ctx, time.Hour)
	if err != nil || kid == LegacyKeyID || s.KeyID() != kid {
		t.Fatalf("Rotate = %q, %v; current %q", kid, err, s.KeyID())
	}
	fresh := s.Sign(Claims{Role: RoleHost, Space: "sp_1", Expires: now.Unix() + 86400})
	if !strings.HasPrefix(fresh, kid+".") {
		t.Fatalf("token after rotation %q not signed with the new key %q", fresh, kid)
	}
	for name, tok := range map[string]string{"old": old, "legacy": legacy, "fresh": fresh} {
		if _, err := s.Verify(tok); err != nil {
			t.Errorf("%s token within the grace period: %v", name, err)
		}
	}
	now = now.Add(time.Hour)
	for name, tok := range map[string]string{"old": old, "legacy": legacy} {
		if _, err := s.Verify(tok); !errors.Is(err, ErrRetired) {
			t.Errorf("%s token after the grace period: %v, want ErrRetired", name, err)
		}
	}
	if _, err := s.Verify(fresh); err != nil {
		t.Errorf("fresh token after the grace period: %v", err)
	}
	// An emergency rotation (grace 0) refuses the previous key at once.
	if _, err := s.Rotate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(fresh); !errors.Is(err, ErrRetired) {
		t.Errorf("token of the key rotated with grace 0: %v, want ErrRetired", err)
	}
	if _, err := s.Rotate(ctx, -time.Second); err == nil {
		t.Error("negative grace accepted")
	}
}

func TestRevoke(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, _ := NewSigner(NewKey(), func() time.Time { return now })
	ctx := context.Background()
	host := s.Sign(Claims{Role: RoleHost, Space: "sp_1", Expires: now.Unix() + 3600})
	spk := s.Sign(Claims{Role: RoleSpeaker, Space: "sp_1", Invite: "inv_1", Expires: now.Unix() + 3600})
	keep := s.Sign(Claims{Role: RoleHost, Space: "sp_2", Expires: now.Unix() + 3600})
	c, _ := s.Verify(host)
	if err := s.Revoke(ctx, c.ID, time.Unix(c.Expires, 0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, "inv_1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"host": host, "speaker": spk} {
		if _, err := s.Verify(tok); !errors.Is(err, ErrRevoked) {
			t.Errorf("revoked %s token: %v, want ErrRevoked", name, err)
		}
	}
	if _, err := s.Verify(keep); err != nil {
		t.Errorf("other token after a revocation: %v", err)
	}
	if err := s.Revoke(ctx, "", time.Time{}); err == nil {
		t.Error("revoked the empty id")
	}
	// Past the token's own expiry the revocation is dropped (the token is
	// refused as expired anyway).
	now = now.Add(2 * time.Hour)
	s.Revoke(ctx, "other", time.Time{})
	if s.revoked(c.ID) {
		t.Error("revocation kept past the token's expiry")
	}
	if !s.revoked("inv_1") {
		t.Error("revocation without an expiry dropped early")
	}
}

func TestFromHeader(t *testing.T) {
	for in, want := range map[string]string{"Bearer abc": "abc", "bearer  x.y ": "x.y", "Basic abc": "", "": "", "Bearer ": ""} {
		if got := FromHeader(in); got != want {
			t.Errorf("FromHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := NewSigner(NewKey(), nil)
	f.Add(s.Sign(Claims{Role: RoleHost, Space: "sp"}))
	f.Add("a.b")
	f.Add("")
	f.Add("eyJyIjoiaG9zdCJ9.")
	f.Add("0.eyJyIjoiaG9zdCJ9.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	f.Add(s.KeyID() + ".." + strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok)
		if err == nil && c.Role == "" {
			t.Fatalf("accepted token with no role: %q", tok)
		}
	})
}

// BenchmarkVerify checks a host token on a node that has rotated once and
// revoked a thousand tokens: what every authenticated request pays.
func BenchmarkVerify(b *testing.B) {
	s, _ := NewSigner(NewKey(), nil)
	ctx := context.Background()
	s.Rotate(ctx, time.Hour)
	for i := 0; i < 1000; i++ {
		s.Revoke(ctx, NewID(), time.Time{})
	}
	tok := s.Sign(Claims{Role: RoleHost, Space: "sp_0123456789abcdef", Expires: time.Now().Add(time.Hour).Unix()})
	b.ReportAllocs()
	for b.Loop() {
		c, err := s.Verify(tok)
		if err != nil || c.Space != "sp_0123456789abcdef" {
			b.Fatalf("Verify = %+v, %v", c, err)
		}
	}
	b.ReportMetric(float64(len(tok)), "token-bytes")
}
