package admission

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPoW(t *testing.T) {
	clk := newClock()
	c, err := NewChallenger(testKey(5), 12, 2*time.Minute, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewChallenger(testKey(6), 12, 2*time.Minute, clk.Now)
	const sp = "sp_abcdefghjkmn"

	ch := c.Challenge(sp)
	if ch.Difficulty != 12 {
		t.Fatalf("difficulty %d", ch.Difficulty)
	}
	nonce := solve(t, ch)
	if !solves(ch.Challenge, nonce, 12) {
		t.Fatal("Solve returned a non-solution")
	}
	wrong := "0"
	for solves(ch.Challenge, wrong, 12) {
		wrong += "1"
	}
	forged := other.Challenge(sp)
	cases := []struct {
		name, space, ch, nonce string
		want                   error
	}{
		{"wrong nonce", sp, ch.Challenge, wrong, ErrChallengeUnsolved},
		{"non-decimal nonce", sp, ch.Challenge, "12a", ErrChallengeMalformed},
		{"long nonce", sp, ch.Challenge, "123456789012345678901", ErrChallengeMalformed},
		{"other space", "sp_zzzzzzzzzzzz", ch.Challenge, nonce, ErrChallengeOtherSpace},
		{"forged", sp, forged.Challenge, solve(t, forged), ErrChallengeForged},
		{"malformed", sp, "junk!", nonce, ErrChallengeMalformed},
		{"valid", sp, ch.Challenge, nonce, nil},
		{"replayed", sp, ch.Challenge, nonce, ErrChallengeReplayed},
	}
	for _, tc := range cases {
		if got := c.Verify(tc.space, tc.ch, tc.nonce); !errors.Is(got, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, got, tc.want)
		}
	}

	late := c.Challenge(sp)
	n := solve(t, late)
	clk.Add(2 * time.Minute)
	if got := c.Verify(sp, late.Challenge, n); !errors.Is(got, ErrChallengeExpired) {
		t.Errorf("expired: Verify = %v, want %v", got, ErrChallengeExpired)
	}

	c.SetDifficulty(0)
	easy := c.Challenge(sp)
	if easy.Difficulty != 0 || c.Verify(sp, easy.Challenge, "7") != nil {
		t.Errorf("difficulty 0: %+v not solved by any nonce", easy)
	}
}

func FuzzVerifyChallenge(f *testing.F) {
	clk := newClock()
	c, _ := NewChallenger(testKey(5), 4, time.Minute, clk.Now)
	ch := c.Challenge("sp_abcdefghjkmn")
	f.Add(ch.Challenge, solve(f, ch))
	f.Add("", "")
	f.Add(ch.Challenge[:30], "99999999999999999999")
	f.Fuzz(func(t *testing.T, challenge, nonce string) {
		err := c.Verify("sp_abcdefghjkmn", challenge, nonce)
		for _, known := range []error{nil, ErrChallengeMalformed, ErrChallengeForged, ErrChallengeExpired,
			ErrChallengeOtherSpace, ErrChallengeUnsolved, ErrChallengeReplayed} {
			if errors.Is(err, known) {
				return
			}
		}
		t.Fatalf("Verify(%q, %q) = unexpected %v", challenge, nonce, err)
	})
}

func solve(t testing.TB, c Challenge) string {
	t.Helper()
	n, err := Solve(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSolveStopsAndRefuses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Solve(ctx, Challenge{Challenge: "abc", Difficulty: 32}); err == nil {
		t.Error("cancelled solve returned a nonce")
	}
	if _, err := Solve(context.Background(), Challenge{Challenge: "abc", Difficulty: 33}); err == nil {
		t.Error("difficulty 33 accepted")
	}
	if _, err := Solve(context.Background(), Challenge{Challenge: strings.Repeat("a", 1000), Difficulty: 1}); err == nil {
		t.Error("oversize challenge accepted")
	}
}
