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

// Errors returned by Room.Wait for queue tokens that cannot be honoured.
var (
	ErrQueueMalformed  = errors.New("admission: queue token malformed")
	ErrQueueForged     = errors.New("admission: queue token signature invalid")
	ErrQueueExpired    = errors.New("admission: queue token expired, join again")
	ErrQueueOtherSpace = errors.New("admission: queue token is for another space")
)

// queue token payload: kind(1) | epoch(8) | seq(8) | issued unix ms(8) | space.
const queueHead = 1 + 8 + 8 + 8

// DefaultQueueTokenTTL is how long a waiter may go without polling before
// their place is lost.
const DefaultQueueTokenTTL = 30 * time.Minute

// rateTau is the time constant of the measured admit rate.
const rateTau = 10 * time.Second

// RoomConfig configures a waiting room.
type RoomConfig struct {
	// AdmitRate is how many joins per second are admitted while the node has
	// headroom; while it is full, none are (they wait, in order). Required, > 0.
	AdmitRate float64
	// Headroom reports whether the node can take listeners freely right
	// now; while it does, the line moves at AdmitRate (they come
	// back spread over their Retry-After). nil means never: the room admits
	// at AdmitRate only. Called without the room's lock held.
	Headroom func() bool
	// TokenTTL is how long a queue token is honoured after it was issued;
	// every Wait returns a fresh one, so this is the longest a waiter may go
	// without polling. Default DefaultQueueTokenTTL.
	TokenTTL time.Duration
	// LotteryAt, if set, turns the room into a lottery for a scheduled start:
	// everyone who arrives before LotteryAt is queued with no position, and
	// at LotteryAt the order of that cohort is drawn at random (a keyed
	// permutation of arrival numbers, so still no state per waiter). Arrivals
	// after the draw queue behind the cohort, first come first served. Zero
	// means first come, first served from the start.
	LotteryAt time.Time
}

// Decision is a room's answer to a join or a poll.
type Decision struct {
	Admit      bool          // admitted: issue a ticket
	Position   int           // places ahead (0 = next); -1 before a lottery draw
	Estimate   time.Duration // honest estimate of the wait, from the measured admit rate
	RetryAfter time.Duration // when to poll again, whole seconds in [1 s, 10 s]
	QueueToken string        // present the token to Wait
}

// Room is one space's waiting room: fair first-come-first-served (or a
// lottery, see RoomConfig.LotteryAt) with O(1) memory. It counts arrivals and
// moves an admission frontier forward at AdmitRate per second (only while
// the node has headroom); a waiter's signed queue token carries their arrival
// number, and they are admitted once the frontier has passed it. Waiters who
// give up simply use their slot without anyone noticing; Headroom makes up
// for that by admitting everyone while the node has room.
//
// The frontier may run up to one second's worth of AdmitRate ahead of
// arrivals, so a lone newcomer to a full node is not made to wait a whole
// slot. Queue tokens carry the room's random epoch: a token from another
// node or an earlier process is treated as a new arrival.
//
// mu guards the fields below it; the rest is immutable after NewRoom.
type Room struct {
	space   string
	s       signer
	cfg     RoomConfig
	epoch   uint64
	permKey [4]uint64 // lottery permutation key

	mu       sync.Mutex
	arrived  uint64    // arrival numbers handed out
	frontier float64   // arrival numbers below this are admitted
	last     time.Time // when the frontier was last advanced
	rate     float64   // measured admit rate while there was a backlog, per second
	drawn    bool      // lottery: the draw happened
	cohort   uint64    // lottery: arrivals before the draw
}

// NewRoom returns the waiting room of space, signing queue tokens with key
// (at least 32 bytes, its own).
func NewRoom(space string, key []byte, cfg RoomConfig) (*Room, error) {
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
	r := &Room{space: space, s: newSigner(key), cfg: cfg, epoch: binary.LittleEndian.Uint64(rnd[:]), rate: cfg.AdmitRate}
	for i := range r.permKey {
		r.permKey[i] = binary.LittleEndian.Uint64(rnd[8+8*i:])
	}
	return r, nil
}

// Space returns the id of the room's space.
func (r *Room) Space() string { return r.space }

// Join decides for a newcomer: admitted at once if the frontier allows it
// (always, while the node has headroom), otherwise queued with a token.
func (r *Room) Join(now time.Time) Decision {
	head := r.headroom()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advanceLocked(now, head)
	if r.lotteryPendingLocked() {
		seq := r.arrived
		r.arrived++
		return r.queuedLocked(seq, now, head)
	}
	if float64(r.arrived) < r.frontier {
		// Nobody waiting and a slot free (the frontier has credit): admitted
		// without a token; the slot is used up.
		r.arrived++
		return Decision{Admit: true}
	}
	seq := r.arrived
	r.arrived++
	return r.queuedLocked(seq, now, head)
}

// Wait decides for a waiter presenting token: admitted once the frontier has
// passed their place, otherwise their position, an estimate and a fresh token.
func (r *Room) Wait(token string, now time.Time) (Decision, error) {
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
		return r.Join(now), nil
	}
	seq := getU64(p[9:])
	head := r.headroom()
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq >= r.arrived {
		// Signed by this room but never handed out: impossible unless the
		// key is shared with another room of the same epoch.
		return Decision{}, ErrQueueForged
	}
	r.advanceLocked(now, head)
	if r.lotteryPendingLocked() {
		return r.queuedLocked(seq, now, head), nil
	}
	if float64(r.placeLocked(seq)) < r.frontier && head {
		return Decision{Admit: true}, nil
	}
	// Not their turn yet; or their turn came while the node had room and
	// it is full now, and then they wait at the front of the line: a full
	// node lets nobody in, however early they queued.
	return r.queuedLocked(seq, now, head), nil
}

// Waiting returns how many arrivals the frontier has not yet passed (some of
// whom may have given up).
func (r *Room) Waiting() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w := float64(r.arrived) - r.frontier; w > 0 {
		return int(math.Ceil(w))
	}
	return 0
}

func (r *Room) headroom() bool {
	return r.cfg.Headroom != nil && r.cfg.Headroom()
}

// advanceLocked moves the frontier to now and updates the measured rate.
func (r *Room) advanceLocked(now time.Time, headroom bool) {
	if r.last.IsZero() {
		r.last = now
		if headroom {
			r.frontier = r.cfg.AdmitRate // a fresh room starts with a second of credit
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

func (r *Room) lotteryPendingLocked() bool {
	return !r.cfg.LotteryAt.IsZero() && !r.drawn
}

// placeLocked maps an arrival number to a place in line: the identity, except
// for a lottery cohort, whose places are a keyed permutation of arrivals.
func (r *Room) placeLocked(seq uint64) uint64 {
	if r.drawn && seq < r.cohort {
		return permute(seq, r.cohort, &r.permKey)
	}
	return seq
}

// queuedLocked is the answer for a waiter with arrival number seq; head
// is whether the node has room now.
func (r *Room) queuedLocked(seq uint64, now time.Time, head bool) Decision {
	d := Decision{QueueToken: r.tokenLocked(seq, now)}
	if r.lotteryPendingLocked() {
		d.Position = -1
		d.Estimate = r.cfg.LotteryAt.Sub(now)
		d.RetryAfter = clampRetry(d.Estimate)
		return d
	}
	place := r.placeLocked(seq)
	d.Position = max(int(int64(place)-int64(r.frontier)), 0)
	rate := math.Max(r.rate, r.cfg.AdmitRate)
	if !head {
		// The line is not moving now: the honest estimate is what the
		// last ten seconds admitted, not what the room could admit, and
		// the waiters far back are told to poll less often.
		rate = math.Max(r.rate, r.cfg.AdmitRate/100)
	}
	// Time until the frontier passes place.
	d.Estimate = time.Duration(max(float64(place)+1-r.frontier, 1) / rate * float64(time.Second))
	d.RetryAfter = clampRetry(d.Estimate / 4)
	return d
}

// clampRetry rounds d up to whole seconds within [1 s, 10 s].
func clampRetry(d time.Duration) time.Duration {
	s := (d + time.Second - 1) / time.Second
	return min(max(s, 1), 10) * time.Second
}

func (r *Room) tokenLocked(seq uint64, now time.Time) string {
	var b [maxPayload]byte
	p := append(b[:0], kindQueue)
	p = putU64(p, r.epoch)
	p = putU64(p, seq)
	p = putU64(p, uint64(now.UnixMilli()))
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

// Rooms holds one Room per space, created on first use with a shared key and
// configuration. Callers must only ask for spaces that exist (Get creates),
// and Remove a space's room when the space ends. mu guards m.
type Rooms struct {
	key []byte
	cfg RoomConfig

	mu sync.Mutex
	m  map[string]*Room
}

// NewRooms returns an empty set of rooms; key and cfg are as for NewRoom.
func NewRooms(key []byte, cfg RoomConfig) (*Rooms, error) {
	if _, err := NewRoom("", key, cfg); err != nil {
		return nil, err
	}
	return &Rooms{key: key, cfg: cfg, m: make(map[string]*Room)}, nil
}

// Get returns the room of space, creating it if needed.
func (rs *Rooms) Get(space string) (*Room, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r := rs.m[space]; r != nil {
		return r, nil
	}
	r, err := NewRoom(space, rs.key, rs.cfg)
	if err != nil {
		return nil, err
	}
	rs.m[space] = r
	return r, nil
}

// Remove forgets the room of space; its queue tokens stop working.
func (rs *Rooms) Remove(space string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	delete(rs.m, space)
}
