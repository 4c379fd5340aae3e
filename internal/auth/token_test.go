package auth

import (
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
	p, sig, _ := strings.Cut(good, ".")
	tampered := p[:len(p)-2] + "xx." + sig
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
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok)
		if err == nil && c.Role == "" {
			t.Fatalf("accepted token with no role: %q", tok)
		}
	})
}
