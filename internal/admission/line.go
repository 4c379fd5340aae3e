package admission

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// Errors returned by Line.Join and Line.Wait.
var (
	// ErrProofNeeded: attack mode is on and neither the request nor the
	// queue token carries a solved proof of work. The HTTP layer answers it
	// with a challenge; nothing was changed.
	ErrProofNeeded     = errors.New("admission: attack mode: solve the challenge to join")
	ErrQueueMalformed  = errors.New("admission: queue token malformed")
	ErrQueueForged     = errors.New("admission: queue token signature invalid")
	ErrQueueExpired    = errors.New("admission: queue token expired, join again")
	ErrQueueOtherSpace = errors.New("admission: queue token is for another space")
)

// queue token payload: kind(1) | epoch(8) | seq(8) | issued unix ms(8) |
// flags(1) | space.
const queueHead = 1 + 8 + 8 + 8 + 1

// flagProved in a queue token: its holder solved a proof of work when
// joining or while waiting.
const flagProved byte = 1

// DefaultQueueTokenTTL is how long a waiter may go without polling before
// their place is lost.
const DefaultQueueTokenTTL = 30 * time.Minute

// rateTau is the time constant of the measured admit rate.
const rateTau = 10 * time.Second

// LineConfig configures a waiting line.
type LineConfig struct {
	// AdmitRate is how many joins per second are admitted while the node has
	// headroom; while it is full, none are (they wait, in order). Required, > 0.
	AdmitRate float64
	// Headroom reports whether the node can take listeners freely right
	// now; while it does, the line moves at AdmitRate (they come
	// back spread over their Retry-After). nil means never: the line admits
	// at AdmitRate only. Called without the line's lock held.
	Headroom func() bool
	// ProofNeeded reports whether joins must carry a proof of work now
	// (attack mode, Manager.Attack). A queue token remembers whether its
	// holder solved one, so a token issued before attack mode was declared,
	// or by another process, does not skip the challenge. nil means never.
	ProofNeeded func() bool
	// TokenTTL is how long a queue token is honoured after it was issued;
	// every Wait returns a fresh one, so this is the longest a waiter may go
	// without polling. Default DefaultQueueTokenTTL.
	TokenTTL time.Duration
	// LotteryAt, if set, turns the line into a lottery for a scheduled start:
	// everyone who arrives before LotteryAt is queued with no position, and
	// at LotteryAt the order of that cohort is drawn at random (a keyed
	// permutation of arrival numbers, so still no state per waiter). Arrivals
	// after the draw queue behind the cohort, first come first served. Zero
	// means first come, first served from the start.
	LotteryAt time.Time
}

// Decision is a line's answer to a join or a poll.
type Decision struct {
	Admit    bool // admitted: issue a ticket
	Position int  // place in line, 1 = next; -1 before a lottery draw
	// Moving reports whether the line is moving now (the node has room,
	// or it let someone in within the last few seconds); Estimate is
	// meaningful only then. A full node whose line stands still gives no
	// estimate: nobody knows when a listener will leave.
	Moving     bool
	Estimate   time.Duration // honest estimate of the wait, from the measured admit rate
	RetryAfter time.Duration // when to poll again, whole seconds in [1 s, 10 s]
	QueueToken string        // present the token to Wait
}

// Line is one space's waiting line: fair first-come-first-served (or a
// lottery, see LineConfig.LotteryAt) with O(1) memory. It counts arrivals and
// moves an admission frontier forward at AdmitRate per second (only while
// the node has headroom); a waiter's signed queue token carries their arrival
// number, and they are admitted once the frontier has passed it. Waiters who
// give up simply use their slot without anyone noticing; Headroom makes up
// for that by admitting everyone while the node has room.
//
// The frontier may run up to one second's worth of AdmitRate ahead of
// arrivals, so a lone newcomer to a full node is not made to wait a whole
// slot. Queue tokens carry the line's random epoch: a token from another
// node or an earlier process is treated as a new arrival (which, in attack
// mode, must bring its own proof of work).
//
// mu guards the fields below it; the rest is immutable after NewLine.
type Line struct {
	space   string
	s       signer
	cfg     LineConfig
	epoch   uint64
	permKey [4]uint64 // lottery permutation key

	mu       sync.Mutex
	arrived  uint64    // arrival numbers handed out
	frontier float64   // arrival numbers below this are admitted
	last     time.Time // when the frontier was last advanced
	rate     float64   // measured admit rate while there was a backlog, per second
	drawn    bool      // lottery: the draw happened
	cohort   uint64    // lottery: arrivals before the draw
	used     time.Time // last Join or Wait, for Lines' idle sweep
}

// NewLine returns the waiting line of space, signing queue tokens with key
// (at least 32 bytes, its own).
func NewLine(space string, key []byte, cfg LineConfig) (*Line, error) {
	if len(key) < minKeyLen {
		return nil, fmt.Errorf("admission: queue key has %d bytes, want at least %d", len(key), minKeyLen)
	}
	if len(space) > MaxSpaceLen {
		return nil, fmt.Errorf("admission: space id of %d bytes, at most %d allowed", len(space), MaxSpaceLen)
	}
	if !(cfg.AdmitRate > 0) || math.IsInf(cfg.AdmitRate, 0) {
		return nil, fmt.Errorf("admission: admit rate %v must be positive", cfg.AdmitRate)
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultQueueTokenTTL
	}
	var rnd [8 * 5]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	r := &Line{space: space, s: newSigner(key), cfg: cfg, epoch: binary.LittleEndian.Uint64(rnd[:])}
	for i := range r.permKey {
		r.permKey[i] = binary.LittleEndian.Uint64(rnd[8+8*i:])
	}
	return r, nil
}

// Space returns the id of the line's space.
func (r *Line) Space() string { return r.space }

// Join decides for a newcomer, who solved a proof of work if proved:
// admitted at once if the frontier allows it (always, while the node has
// headroom), otherwise queued with a token; ErrProofNeeded in attack mode
// without a proof.
func (r *Line) Join(proved bool, now time.Time) (Decision, error) {
	if !proved && r.proofNeeded() {
		return Decision{}, ErrProofNeeded
	}
	head := r.headroom()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.used = now
	r.advanceLocked(now, head)
	if r.lotteryPendingLocked() {
		seq := r.arrived
		r.arrived++
		return r.queuedLocked(seq, proved, now, head), nil
	}
	if float64(r.arrived) < r.frontier {
		// Nobody waiting and a slot free (the frontier has credit): admitted
		// without a token; the slot is used up.
		r.arrived++
		return Decision{Admit: true}, nil
	}
	seq := r.arrived
	r.arrived++
	return r.queuedLocked(seq, proved, now, head), nil
}

// Wait decides for a waiter presenting token (and a proof of work just
// solved, if proved): admitted once the frontier has passed their place,
// otherwise their position, an estimate and a fresh token. In attack mode a
// token whose holder never solved a proof of work gets ErrProofNeeded, and
// so does a token of another epoch (it is a new arrival) without a proof.
func (r *Line) Wait(token string, proved bool, now time.Time) (Decision, error) {
	var buf [maxRaw]byte
	p, e := r.s.open(token, &buf)
	switch e {
	case tokMalformed:
		return Decision{}, ErrQueueMalformed
	case tokForged:
		return Decision{}, ErrQueueForged
	}
	if len(p) < queueHead || p[0] != kindQueue {
		return Decision{}, ErrQueueMalformed
	}
	if !spaceMatches(p[queueHead:], r.space) {
		return Decision{}, ErrQueueOtherSpace
	}
	issued := time.UnixMilli(int64(getU64(p[17:])))
	if now.Sub(issued) > r.cfg.TokenTTL {
		return Decision{}, ErrQueueExpired
	}
	if getU64(p[1:]) != r.epoch {
		return r.Join(proved, now)
	}
	proved = proved || p[25]&flagProved != 0
	if !proved && r.proofNeeded() {
		return Decision{}, ErrProofNeeded
	}
	seq := getU64(p[9:])
	head := r.headroom()
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq >= r.arrived {
		// Signed by this line but never handed out: impossible unless the
		// key is shared with another line of the same epoch.
		return Decision{}, ErrQueueForged
	}
	r.used = now
	r.advanceLocked(now, head)
	if r.lotteryPendingLocked() {
		return r.queuedLocked(seq, proved, now, head), nil
	}
	if float64(r.placeLocked(seq)) < r.frontier && head {
		return Decision{Admit: true}, nil
	}
	// Not their turn yet; or their turn came while the node had room and
	// it is full now, and then they wait at the front of the line: a full
	// node lets nobody in, however early they queued.
	return r.queuedLocked(seq, proved, now, head), nil
}

// Waiting returns how many arrivals the frontier has not yet passed (some of
// whom may have given up).
func (r *Line) Waiting() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w := float64(r.arrived) - r.frontier; w > 0 {
		return int(math.Ceil(w))
	}
	return 0
}

func (r *Line) headroom() bool {
	return r.cfg.Headroom != nil && r.cfg.Headroom()
}

func (r *Line) proofNeeded() bool {
	return r.cfg.ProofNeeded != nil && r.cfg.ProofNeeded()
}

// advanceLocked moves the frontier to now and updates the measured rate.
func (r *Line) advanceLocked(now time.Time, headroom bool) {
	if r.last.IsZero() {
		r.last = now
		if headroom {
			r.frontier = r.cfg.AdmitRate // a fresh line starts with a second of credit
		}
	}
	if !r.cfg.LotteryAt.IsZero() && !r.drawn {
		if now.Before(r.cfg.LotteryAt) {
			r.last = now
			return
		}
		r.drawn, r.cohort = true, r.arrived
		r.last = r.cfg.LotteryAt // the frontier starts moving at the draw
	}
	dt := now.Sub(r.last).Seconds()
	if dt < 0 {
		dt = 0 // clocks from several callers: never move backwards
	} else {
		r.last = now
	}
	arrived := float64(r.arrived)
	backlog := arrived - r.frontier
	// While the node has headroom the frontier moves at AdmitRate (a storm
	// is let in at a controlled pace, never all at once); while it is full
	// it stands still, and unused credit is withdrawn so newcomers queue.
	next := r.frontier
	if headroom {
		next += r.cfg.AdmitRate * dt
		if ceiling := arrived + r.cfg.AdmitRate; next > ceiling {
			next = ceiling // at most one second of credit
		}
	} else if next > arrived {
		next = arrived
	}
	if backlog > 0 {
		d := math.Min(next-r.frontier, backlog)
		if dt > 0 {
			decay := math.Exp(-dt / rateTau.Seconds())
			r.rate = r.rate*decay + d/dt*(1-decay)
		} else {
			r.rate += d / rateTau.Seconds()
		}
	}
	r.frontier = next
}

func (r *Line) lotteryPendingLocked() bool {
	return !r.cfg.LotteryAt.IsZero() && !r.drawn
}

// placeLocked maps an arrival number to a place in line: the identity, except
// for a lottery cohort, whose places are a keyed permutation of arrivals.
func (r *Line) placeLocked(seq uint64) uint64 {
	if r.drawn && seq < r.cohort {
		return permute(seq, r.cohort, &r.permKey)
	}
	return seq
}

// minMovingRate is the measured admit rate (per second, smoothed over
// rateTau) below which a full node's line counts as standing still.
const minMovingRate = 0.05

// queuedLocked is the answer for a waiter with arrival number seq, who
// solved a proof of work if proved; head is whether the node has room now.
func (r *Line) queuedLocked(seq uint64, proved bool, now time.Time, head bool) Decision {
	d := Decision{QueueToken: r.tokenLocked(seq, proved, now)}
	if r.lotteryPendingLocked() {
		d.Position = -1
		d.Moving = true // the draw is at a known time
		d.Estimate = r.cfg.LotteryAt.Sub(now)
		d.RetryAfter = clampRetry(d.Estimate)
		return d
	}
	place := r.placeLocked(seq)
	// Position: the arrivals not yet let in up to and including this one
	// (those the frontier has not passed), 1 = next. ahead is how far the
	// frontier must still move for this one to pass.
	d.Position = int(max(int64(place)-int64(math.Ceil(r.frontier)), 0)) + 1
	ahead := max(float64(place)+1-r.frontier, 1)
	rate := math.Max(r.rate, r.cfg.AdmitRate)
	if !head {
		// The node is full: the line moves only as fast as the last ten
		// seconds admitted, if at all. Standing still, it gives no
		// estimate, and the waiters far back poll less often.
		rate = r.rate
		if rate < minMovingRate {
			d.RetryAfter = clampRetry(time.Duration(ahead / (r.cfg.AdmitRate / 100) / 4 * float64(time.Second)))
			return d
		}
	}
	d.Moving = true
	// Time until the frontier passes place.
	d.Estimate = time.Duration(ahead / rate * float64(time.Second))
	d.RetryAfter = clampRetry(d.Estimate / 4)
	return d
}

// clampRetry rounds d up to whole seconds within [1 s, 10 s].
func clampRetry(d time.Duration) time.Duration {
	s := (d + time.Second - 1) / time.Second
	return min(max(s, 1), 10) * time.Second
}

func (r *Line) tokenLocked(seq uint64, proved bool, now time.Time) string {
	var b [maxPayload]byte
	p := append(b[:0], kindQueue)
	p = putU64(p, r.epoch)
	p = putU64(p, seq)
	p = putU64(p, uint64(now.UnixMilli()))
	var flags byte
	if proved {
		flags |= flagProved
	}
	p = append(p, flags)
	p = append(p, r.space...)
	return r.s.seal(p)
}

// permute is a keyed permutation of [0, n): a four-round Feistel network on
// the smallest even number of bits covering n, with cycle walking.
func permute(x, n uint64, key *[4]uint64) uint64 {
	bits := 2
	for uint64(1)<<bits < n {
		bits += 2
	}
	half := bits / 2
	mask := uint64(1)<<half - 1
	for {
		l, r := x>>half, x&mask
		for i := range key {
			l, r = r, l^(mix64(r^key[i])&mask)
		}
		x = l<<half | r
		if x < n {
			return x
		}
	}
}

// mix64 is the splitmix64 finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Lines holds one Line per space, created on first use with a shared key
// and configuration. A line is dropped by Remove (when its space ends) or
// by itself once it has been idle for the queue token TTL, by when every
// token it issued has expired: nothing of it is lost, and nothing leaks
// whether or not Remove is called. mu guards m and swept.
type Lines struct {
	key []byte
	cfg LineConfig
	now func() time.Time

	mu    sync.Mutex
	m     map[string]*Line
	swept time.Time
}

// NewLines returns an empty set of lines; key and cfg are as for NewLine.
// now may be nil (time.Now); it times the idle sweep.
func NewLines(key []byte, cfg LineConfig, now func() time.Time) (*Lines, error) {
	if _, err := NewLine("", key, cfg); err != nil {
		return nil, err
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultQueueTokenTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Lines{key: key, cfg: cfg, now: now, m: make(map[string]*Line)}, nil
}

// Get returns the line of space, creating it if needed. Callers must only
// ask for spaces that exist and are not ended.
func (ls *Lines) Get(space string) (*Line, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.sweepLocked()
	if r := ls.m[space]; r != nil {
		return r, nil
	}
	r, err := NewLine(space, ls.key, ls.cfg)
	if err != nil {
		return nil, err
	}
	r.used = ls.now()
	ls.m[space] = r
	return r, nil
}

// Waiting returns how many wait in the line of space (0 if it has none),
// without creating one.
func (ls *Lines) Waiting(space string) int {
	ls.mu.Lock()
	r := ls.m[space]
	ls.mu.Unlock()
	if r == nil {
		return 0
	}
	return r.Waiting()
}

// Len returns how many lines are held.
func (ls *Lines) Len() int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.sweepLocked()
	return len(ls.m)
}

// Remove forgets the line of space (its space ended); its queue tokens
// stop working (they would be taken as new arrivals, and joins of an ended
// space are refused before the line is asked). Removing a space that has no
// line does nothing.
func (ls *Lines) Remove(space string) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	delete(ls.m, space)
}

// sweepLocked drops lines idle for longer than the token TTL, at most once
// a minute.
func (ls *Lines) sweepLocked() {
	now := ls.now()
	if now.Sub(ls.swept) < time.Minute {
		return
	}
	ls.swept = now
	for id, r := range ls.m {
		r.mu.Lock()
		idle := now.Sub(r.used) > ls.cfg.TokenTTL
		r.mu.Unlock()
		if idle {
			delete(ls.m, id)
		}
	}
}
