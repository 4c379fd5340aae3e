package admission

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by Challenger.Verify. The HTTP layer answers all of them
// with a fresh challenge.
var (
	ErrChallengeMalformed  = errors.New("admission: challenge or nonce malformed")
	ErrChallengeForged     = errors.New("admission: challenge signature invalid")
	ErrChallengeExpired    = errors.New("admission: challenge expired, solve a new one")
	ErrChallengeOtherSpace = errors.New("admission: challenge is for another space")
	ErrChallengeUnsolved   = errors.New("admission: nonce does not solve the challenge")
	ErrChallengeReplayed   = errors.New("admission: challenge already used")
)

// MaxDifficulty bounds the difficulty a Challenger asks for (leading zero
// bits; each one doubles the client's expected work).
const MaxDifficulty = 32

// maxNonceLen is the longest accepted nonce: a decimal uint64.
const maxNonceLen = 20

// challenge payload: kind(1) | issued unix ms(8) | difficulty(1) | salt(8) | space.
const challengeHead = 1 + 8 + 1 + 8

// Challenge is what a client must solve: find a decimal nonce such that
// SHA-256(Challenge + ":" + nonce) has Difficulty leading zero bits.
type Challenge struct {
	Challenge  string `json:"challenge"`
	Difficulty int    `json:"difficulty"`
}

// Challenger issues and verifies stateless proof-of-work challenges, asked
// of joins (and chat) only in attack mode. A challenge is a signed token
// carrying its space, issue time, difficulty and a random salt; the salt
// makes each challenge single-use, remembered in a small fixed-size set
// until the challenge expires.
//
// The key, ttl and clock are immutable; difficulty is atomic; the replay
// set has its own lock.
type Challenger struct {
	s          signer
	ttl        time.Duration
	now        func() time.Time
	difficulty atomic.Int32
	seen       replaySet
}

// NewChallenger returns a Challenger signing with key (at least 32 bytes,
// its own), asking for difficulty leading zero bits, with challenges valid
// for ttl. now may be nil (time.Now).
func NewChallenger(key []byte, difficulty int, ttl time.Duration, now func() time.Time) (*Challenger, error) {
	if len(key) < minKeyLen {
		return nil, fmt.Errorf("admission: challenge key has %d bytes, want at least %d", len(key), minKeyLen)
	}
	if difficulty < 0 || difficulty > MaxDifficulty {
		return nil, fmt.Errorf("admission: difficulty %d outside [0, %d]", difficulty, MaxDifficulty)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("admission: challenge ttl %v must be positive", ttl)
	}
	if now == nil {
		now = time.Now
	}
	c := &Challenger{s: newSigner(key), ttl: ttl, now: now}
	c.difficulty.Store(int32(difficulty))
	return c, nil
}

// SetDifficulty changes the difficulty of challenges issued from now on
// (clamped to [0, MaxDifficulty]); issued ones keep theirs.
func (c *Challenger) SetDifficulty(d int) {
	c.difficulty.Store(int32(min(max(d, 0), MaxDifficulty)))
}

// Challenge returns a fresh challenge for space (at most MaxSpaceLen bytes;
// longer panics).
func (c *Challenger) Challenge(space string) Challenge {
	checkSpace(space)
	d := c.difficulty.Load()
	var b [maxPayload]byte
	p := append(b[:0], kindChallenge)
	p = putU64(p, uint64(c.now().UnixMilli()))
	p = append(p, byte(d))
	var salt [8]byte
	if _, err := rand.Read(salt[:]); err != nil {
		panic(err)
	}
	p = append(p, salt[:]...)
	p = append(p, space...)
	return Challenge{Challenge: c.s.seal(p), Difficulty: int(d)}
}

// Verify checks that nonce solves challenge, that the challenge was issued
// by c for space and has not expired, and that it was not used before.
func (c *Challenger) Verify(space, challenge, nonce string) error {
	var buf [maxRaw]byte
	p, e := c.s.open(challenge, &buf)
	switch e {
	case tokMalformed:
		return ErrChallengeMalformed
	case tokForged:
		return ErrChallengeForged
	}
	if len(p) < challengeHead || p[0] != kindChallenge {
		return ErrChallengeMalformed
	}
	if !spaceMatches(p[challengeHead:], space) {
		return ErrChallengeOtherSpace
	}
	issued := int64(getU64(p[1:]))
	exp := issued + c.ttl.Milliseconds()
	now := c.now().UnixMilli()
	if now >= exp {
		return ErrChallengeExpired
	}
	if len(nonce) == 0 || len(nonce) > maxNonceLen {
		return ErrChallengeMalformed
	}
	for i := 0; i < len(nonce); i++ {
		if nonce[i] < '0' || nonce[i] > '9' {
			return ErrChallengeMalformed
		}
	}
	if !solves(challenge, nonce, int(p[9])) {
		return ErrChallengeUnsolved
	}
	if !c.seen.add(getU64(p[10:]), exp, now) {
		return ErrChallengeReplayed
	}
	return nil
}

// solves reports whether SHA-256(challenge ":" nonce) has difficulty leading
// zero bits. challenge is at most maxTokLen, nonce at most maxNonceLen.
func solves(challenge, nonce string, difficulty int) bool {
	var in [maxTokLen + 1 + maxNonceLen]byte
	n := copy(in[:], challenge)
	in[n] = ':'
	n++
	n += copy(in[n:], nonce)
	return leadingZeroBits(sha256.Sum256(in[:n])) >= difficulty
}

func leadingZeroBits(h [sha256.Size]byte) int {
	n := 0
	for _, b := range h {
		if b != 0 {
			return n + bits.LeadingZeros8(b)
		}
		n += 8
	}
	return n
}

// Solve finds a nonce for c by brute force, checking ctx now and then: the
// one solver of podium's challenges, for the load tool and tests (browsers
// run their own, web/src). Expected work is 2^Difficulty hashes.
func Solve(ctx context.Context, c Challenge) (string, error) {
	if c.Difficulty < 0 || c.Difficulty > MaxDifficulty {
		return "", fmt.Errorf("admission: challenge difficulty %d outside [0, %d]", c.Difficulty, MaxDifficulty)
	}
	if len(c.Challenge) == 0 || len(c.Challenge) > maxTokLen {
		return "", ErrChallengeMalformed
	}
	var num [maxNonceLen]byte
	for i := uint64(0); ; i++ {
		if i&0xffff == 0 && ctx.Err() != nil {
			return "", ctx.Err()
		}
		nonce := strconv.AppendUint(num[:0], i, 10)
		if solves(c.Challenge, string(nonce), c.Difficulty) {
			return string(nonce), nil
		}
	}
}

// replaySet remembers the salts of used challenges until they expire, in a
// fixed-size 4-way set-associative table. When a set is full of live entries
// the one expiring first is dropped, so more than replaySlots valid solutions
// within one ttl could let the oldest be replayed once; each one still cost
// its solver the full work. mu guards slots.
type replaySet struct {
	mu    sync.Mutex
	slots [replaySlots]struct{ salt, exp uint64 }
}

const (
	replaySlots = 1 << 14
	replayWays  = 4
)

// add records salt until exp (unix ms) and reports whether it was new.
func (r *replaySet) add(salt uint64, exp, now int64) bool {
	set := r.slots[(mix64(salt)%(replaySlots/replayWays))*replayWays:][:replayWays]
	r.mu.Lock()
	defer r.mu.Unlock()
	victim := 0
	for i := range set {
		if set[i].salt == salt && int64(set[i].exp) > now {
			return false
		}
		if set[i].exp < set[victim].exp {
			victim = i
		}
	}
	set[victim].salt, set[victim].exp = salt, uint64(exp)
	return true
}
