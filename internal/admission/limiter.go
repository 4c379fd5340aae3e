package admission

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"sync"
	"time"
)

// Rate is a token bucket's refill rate and size. PerSecond <= 0 means no
// limit.
type Rate struct {
	PerSecond float64
	Burst     float64 // at least 1
}

// ClassLimits are the buckets one class of request is charged to: one per
// client address, one per client network and, for requests that carry a
// verified credential, one per credential (its key, see Allow). A request
// passes only if all of them have a token.
type ClassLimits struct {
	PerIP  Rate // per IPv4 address, per IPv6 /64 (one host usually holds a whole /64)
	PerNet Rate // per IPv4 /24, per IPv6 /48
	PerKey Rate // per credential, e.g. per speaker invite
}

// LimiterConfig configures a Limiter.
type LimiterConfig struct {
	// Capacity is the most buckets kept at once, all classes together
	// (about 32 bytes each). Default 1<<16.
	Capacity int
	// TopK is how many networks the heavy-hitter view tracks. Default 1024.
	TopK int
	// Classes holds the limits of each class, indexed by Class.
	Classes [NumClasses]ClassLimits
}

// DefaultLimiterConfig returns limits sized for podium's traffic: a listener
// makes about 10 media requests a second (LL-HLS parts and blocking playlist
// reloads), and many listeners may share an address behind a NAT.
func DefaultLimiterConfig() LimiterConfig {
	var c LimiterConfig
	c.Capacity = 1 << 16
	c.TopK = 1024
	// Ingest is never limited per address; the one ingest request that
	// carries a key is a speaker's on their own session (mute toggles, ICE
	// restarts, leaving): a studio makes a few a minute, so a burst of 30
	// and two a second bound a flood without touching a real speaker.
	c.Classes[ClassIngest] = ClassLimits{PerKey: Rate{2, 30}}
	// A speaker joins the stage once and rejoins after a dropped connection:
	// a burst of five, then one join per five seconds per invite.
	c.Classes[ClassStageJoin] = ClassLimits{PerIP: Rate{1, 10}, PerNet: Rate{5, 20}, PerKey: Rate{0.2, 5}}
	c.Classes[ClassListener] = ClassLimits{PerIP: Rate{100, 200}, PerNet: Rate{2000, 4000}}
	c.Classes[ClassChat] = ClassLimits{PerIP: Rate{2, 10}, PerNet: Rate{50, 100}}
	c.Classes[ClassJoin] = ClassLimits{PerIP: Rate{1, 5}, PerNet: Rate{20, 50}}
	c.Classes[ClassAnonymous] = ClassLimits{PerIP: Rate{20, 40}, PerNet: Rate{200, 400}}
	return c
}

const (
	limWays   = 8  // slots per set; the least recently used one is evicted
	limShards = 64 // power of two
)

// Limiter holds token buckets keyed by client address and by client network,
// per class, in a fixed-size set-associative table: a flood from millions of
// addresses evicts the least recently seen buckets of a set instead of
// growing memory. An evicted address comes back with a full bucket, so under
// such churn the per-network buckets and the overload manager are what hold;
// a busy address or network stays in the table because it is seen often.
//
// The table and the heavy-hitter counters are split into shards chosen by the
// client's network, each guarded by its own mutex; Allow takes one shard's
// lock once. Config is immutable after NewLimiter.
type Limiter struct {
	cfg    LimiterConfig
	seed   [3]uint64
	sets   uint64 // sets per shard
	shards []limShard
}

type limShard struct {
	mu    sync.Mutex
	slots []slot      // guarded by mu
	used  int         // guarded by mu: non-empty slots
	top   spaceSaving // guarded by mu
	_     [64]byte    // keep shards' locks on separate cache lines
}

// slot is one token bucket.
type slot struct {
	key    [16]byte // masked address or network
	tag    uint8    // 0: empty; else 1 + 2*class + isNet, or keyTag + class
	tokens float32
	last   int64 // unix nanoseconds of the last refill
}

// NewLimiter returns a Limiter for cfg; zero Capacity and TopK take their
// defaults.
func NewLimiter(cfg LimiterConfig) (*Limiter, error) {
	if cfg.Capacity == 0 {
		cfg.Capacity = 1 << 16
	}
	if cfg.TopK == 0 {
		cfg.TopK = 1024
	}
	if cfg.Capacity < limWays || cfg.TopK < 1 {
		return nil, fmt.Errorf("admission: limiter capacity %d (want >= %d) or top-k %d (want >= 1) too small", cfg.Capacity, limWays, cfg.TopK)
	}
	for c := range cfg.Classes {
		for _, r := range []*Rate{&cfg.Classes[c].PerIP, &cfg.Classes[c].PerNet, &cfg.Classes[c].PerKey} {
			if math.IsNaN(r.PerSecond) || math.IsInf(r.PerSecond, 0) {
				return nil, fmt.Errorf("admission: class %v: rate %v", Class(c), r.PerSecond)
			}
			r.Burst = max(r.Burst, 1)
		}
	}
	nShards := limShards
	if cfg.Capacity < limShards*limWays {
		nShards = 1
	}
	sets := max(cfg.Capacity/(nShards*limWays), 1)
	l := &Limiter{cfg: cfg, sets: uint64(sets), shards: make([]limShard, nShards)}
	var rnd [24]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		panic(err)
	}
	for i := range l.seed {
		l.seed[i] = binary.LittleEndian.Uint64(rnd[8*i:])
	}
	perShardTop := max((cfg.TopK+nShards-1)/nShards, 4)
	for i := range l.shards {
		l.shards[i].slots = make([]slot, sets*limWays)
		l.shards[i].top.c = make([]ssCounter, 0, perShardTop)
	}
	return l, nil
}

// Allow charges one request of class from ip at now to ip's and ip's
// network's buckets and, if key is not empty, to the bucket of key (a
// verified credential's identity: callers must never pass anything a client
// can choose freely). If any is empty nothing is charged and it returns
// false and how long until all would have a token.
func (l *Limiter) Allow(ip netip.Addr, class Class, key string, now time.Time) (ok bool, retryAfter time.Duration) {
	class = class.valid()
	lim := &l.cfg.Classes[class]
	if lim.PerKey.PerSecond <= 0 {
		key = ""
	}
	if key == "" && lim.PerIP.PerSecond <= 0 && lim.PerNet.PerSecond <= 0 {
		return true, 0
	}
	netKey, ipKey, v4 := keys(ip)
	hNet := l.hash(netKey, 0)
	hIP := l.hash(ipKey, 1)
	t := now.UnixNano()
	tag := 1 + 2*uint8(class)
	shi := l.shard(hNet)
	sh := &l.shards[shi]

	// A credential's bucket lives in the shard of its own hash; with two
	// shards involved both are locked, lower address first.
	var kk [16]byte
	var hKey uint64
	var ksh *limShard
	kshi := -1
	if key != "" {
		kk = credentialKey(key)
		hKey = l.hash(kk, 2)
		kshi = l.shard(hKey)
		ksh = &l.shards[kshi]
	}
	unlock := l.lockShards(shi, kshi)
	var wait float64
	var ipSlot, netSlot, keySlot *slot
	if lim.PerIP.PerSecond > 0 {
		ipSlot = l.bucketLocked(sh, ipKey, tag, hIP, t, &lim.PerIP)
		if ipSlot.tokens < 1 {
			wait = float64(1-ipSlot.tokens) / lim.PerIP.PerSecond
		}
	}
	if lim.PerNet.PerSecond > 0 {
		netSlot = l.bucketLocked(sh, netKey, tag+1, hNet, t, &lim.PerNet)
		if netSlot.tokens < 1 {
			wait = max(wait, float64(1-netSlot.tokens)/lim.PerNet.PerSecond)
		}
	}
	if ksh != nil {
		keySlot = l.bucketLocked(ksh, kk, keyTag+uint8(class), hKey, t, &lim.PerKey)
		if keySlot.tokens < 1 {
			wait = max(wait, float64(1-keySlot.tokens)/lim.PerKey.PerSecond)
		}
	}
	ok = wait == 0
	if ok {
		for _, s := range [...]*slot{ipSlot, netSlot, keySlot} {
			if s != nil {
				s.tokens--
			}
		}
	}
	sh.top.add(netKey, v4, !ok)
	unlock()
	if ok {
		return true, 0
	}
	return false, time.Duration(math.Ceil(wait * float64(time.Second)))
}

// keyTag is the first slot tag of credential buckets (one per class), above
// every address and network tag.
const keyTag = 1 + 2*NumClasses

func (l *Limiter) shard(h uint64) int { return int(h >> 58 & uint64(len(l.shards)-1)) }

// lockShards locks shards a and b (b may be -1 or a) in index order and
// returns the function that unlocks them.
func (l *Limiter) lockShards(a, b int) func() {
	if b < 0 || b == a {
		l.shards[a].mu.Lock()
		return l.shards[a].mu.Unlock
	}
	lo, hi := &l.shards[min(a, b)], &l.shards[max(a, b)]
	lo.mu.Lock()
	hi.mu.Lock()
	return func() { hi.mu.Unlock(); lo.mu.Unlock() }
}

// credentialKey maps a credential's identity to a bucket key.
func credentialKey(key string) [16]byte {
	h := sha256.Sum256([]byte(key))
	var k [16]byte
	copy(k[:], h[:])
	return k
}

// bucketLocked finds or makes the bucket (key, tag) and refills it to t.
func (l *Limiter) bucketLocked(sh *limShard, key [16]byte, tag uint8, h uint64, t int64, r *Rate) *slot {
	set := sh.slots[(mix64(h^uint64(tag))%l.sets)*limWays:][:limWays]
	victim := -1
	for i := range set {
		s := &set[i]
		if s.tag == tag && s.key == key {
			if dt := t - s.last; dt > 0 {
				s.tokens = float32(math.Min(r.Burst, float64(s.tokens)+float64(dt)*1e-9*r.PerSecond))
				s.last = t
			}
			return s
		}
		if victim < 0 || (set[victim].tag != 0 && (s.tag == 0 || s.last < set[victim].last)) {
			victim = i
		}
	}
	s := &set[victim]
	if s.tag == 0 {
		sh.used++
	}
	*s = slot{key: key, tag: tag, tokens: float32(r.Burst), last: t}
	return s
}

// keys returns ip's network key (/24 or /48), its address key (the address,
// or its /64 for IPv6) and whether it is IPv4. The zero Addr maps to zeros.
func keys(ip netip.Addr) (netKey, ipKey [16]byte, v4 bool) {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return
	}
	a := ip.As16()
	if ip.Is4() {
		ipKey, netKey = a, a
		netKey[15] = 0
		return netKey, ipKey, true
	}
	copy(ipKey[:8], a[:8])
	copy(netKey[:6], a[:6])
	return netKey, ipKey, false
}

func (l *Limiter) hash(k [16]byte, domain uint64) uint64 {
	lo := binary.LittleEndian.Uint64(k[:8])
	hi := binary.LittleEndian.Uint64(k[8:])
	return mix64(mix64(lo^l.seed[0])+hi^l.seed[1]) ^ mix64(domain+l.seed[2])
}

// Len returns how many buckets are in use; never more than Cap.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += sh.used
		sh.mu.Unlock()
	}
	return n
}

// Cap returns how many buckets the table holds.
func (l *Limiter) Cap() int { return len(l.shards) * len(l.shards[0].slots) }
