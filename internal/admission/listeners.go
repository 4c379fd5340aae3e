package admission

import (
	"crypto/rand"
	"encoding/binary"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// ListenerWindow is how long a ticket id counts after its last verified
// media request: at least one window and at most two. A classic HLS player
// fetches a segment every target duration (2 s), hls.js a part every 200 ms.
const ListenerWindow = 5 * time.Second

// hllBits is the precision of each sketch: 2^hllBits registers.
const (
	hllBits = 12
	hllRegs = 1 << hllBits
)

// Listeners counts a node's listeners as the distinct ticket ids seen in
// verified media requests (Seen) over the last one to two ListenerWindows,
// per space and for the node, in bounded memory: per space, two rotating
// HyperLogLog sketches of 4,096 registers (32 KiB), whose union is
// estimated. Up to about 10,000 listeners the linear-counting estimate is
// used: its standard error is about one listener at 100, 1.2 % at 1,000
// and 1.8 % at 10,000; beyond, HyperLogLog's 1.6 % (1.04/√4096). Only tickets count: anonymous requests
// cannot move the figure, however many they are, and a player that fetches
// one segment every few seconds counts like one that polls ten times a second.
//
// An admitted join's ticket id is entered at once (Admitted), so that a
// listener let in counts before their first media request (a join storm
// cannot overshoot max_listeners while players start) and, being the same
// id, counts once when they play. An estimate is recomputed only when a
// register changed or a window turned, so it is never stale.
//
// Spaces are added on their first verified request and dropped once they
// have been silent for two windows; a space enters only with a ticket the
// node signed, so the map holds at most the spaces that had listeners in the
// last ten seconds. mu guards spaces; each sketch guards its own rotation
// (sketch.mu) and its registers are atomics.
type Listeners struct {
	now  func() time.Time
	seed uint64

	mu     sync.RWMutex
	spaces map[string]*sketch
	swept  int64 // window number of the last sweep

}

// NewListeners returns an empty counter reading clock now (nil: time.Now).
func NewListeners(now func() time.Time) *Listeners {
	if now == nil {
		now = time.Now
	}
	return &Listeners{now: now, seed: randU64(), spaces: map[string]*sketch{}}
}

func randU64() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return binary.LittleEndian.Uint64(b[:])
}

func windowOf(t time.Time) int64 { return t.UnixNano() / int64(ListenerWindow) }

// Seen records a verified media request of space carrying the ticket id.
// Repeats of an id cost a hash and an atomic load.
func (l *Listeners) Seen(space string, id uint64) {
	w := windowOf(l.now())
	l.mu.RLock()
	sk := l.spaces[space]
	l.mu.RUnlock()
	if sk == nil {
		l.mu.Lock()
		if sk = l.spaces[space]; sk == nil {
			sk = newSketch(w)
			l.spaces[space] = sk
		}
		l.mu.Unlock()
	}
	sk.add(mix64(id^l.seed), w)
}

// Count returns the estimated listeners of space.
func (l *Listeners) Count(space string) int {
	w := windowOf(l.now())
	l.mu.RLock()
	sk := l.spaces[space]
	l.mu.RUnlock()
	if sk == nil {
		return 0
	}
	return sk.count(w)
}

// Total returns the estimated listeners of the node: the sum over spaces
// (a ticket is for one space). Spaces silent for two windows are dropped.
func (l *Listeners) Total() int {
	w := windowOf(l.now())
	l.mu.RLock()
	n, stale := 0, false
	for _, sk := range l.spaces {
		c := sk.count(w)
		n += c
		stale = stale || c == 0
	}
	sweep := stale && l.swept != w
	l.mu.RUnlock()
	if sweep {
		l.mu.Lock()
		l.swept = w
		for id, sk := range l.spaces {
			if sk.silent(w) {
				delete(l.spaces, id)
			}
		}
		l.mu.Unlock()
	}
	return n
}

// Spaces returns how many spaces the counter holds a sketch for.
func (l *Listeners) Spaces() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.spaces)
}

// Admitted records the ticket id of a join admitted to space: it counts
// like a listener seen now.
func (l *Listeners) Admitted(space string, id uint64) { l.Seen(space, id) }

// sketch is one space's two rotating HyperLogLog sketches: gen[cur&1]
// collects the current window, the other holds the previous one. The
// registers are written with atomic max by any goroutine; each change
// bumps ver. mu serialises rotation and counting and guards cached and
// cachedVer.
type sketch struct {
	mu     sync.Mutex
	window atomic.Int64 // window number gen[window&1] collects
	last   atomic.Int64 // window number of the last add
	ver    atomic.Uint64
	gen    [2][hllRegs]atomic.Uint32

	cached    int    // guarded by mu: the estimate at cachedVer
	cachedVer uint64 // guarded by mu; 0: none
}

func newSketch(w int64) *sketch {
	sk := &sketch{}
	sk.ver.Store(1) // cachedVer 0 means none
	sk.window.Store(w)
	sk.last.Store(w)
	return sk
}

// rotate brings the sketch to window w: one window on, the older
// generation is cleared and becomes the current one; two or more on, both
// are cleared.
func (sk *sketch) rotate(w int64) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	cur := sk.window.Load()
	if w <= cur {
		return
	}
	clear := func(g int64) {
		for i := range sk.gen[g&1] {
			sk.gen[g&1][i].Store(0)
		}
	}
	clear(w)
	if w > cur+1 {
		clear(w + 1)
	}
	sk.window.Store(w)
	sk.ver.Add(1)
}

func (sk *sketch) add(h uint64, w int64) {
	if sk.window.Load() < w {
		sk.rotate(w)
	}
	if sk.last.Load() != w {
		sk.last.Store(w)
	}
	reg := &sk.gen[sk.window.Load()&1][h>>(64-hllBits)]
	rho := uint32(bits.LeadingZeros64(h<<hllBits|1<<(hllBits-1)) + 1)
	for {
		old := reg.Load()
		if old >= rho {
			return
		}
		if reg.CompareAndSwap(old, rho) {
			sk.ver.Add(1)
			return
		}
	}
}

// silent reports whether nothing was seen in the current or previous window.
func (sk *sketch) silent(w int64) bool {
	return sk.last.Load() < w-1
}

func (sk *sketch) count(w int64) int {
	if sk.window.Load() < w {
		sk.rotate(w)
	}
	sk.mu.Lock()
	defer sk.mu.Unlock()
	// A change after v was read bumps ver past it, so the next count
	// rescans; a change before is seen by this scan.
	v := sk.ver.Load()
	if v == sk.cachedVer {
		return sk.cached
	}
	var sum float64
	zeros := 0
	for i := range hllRegs {
		r := max(sk.gen[0][i].Load(), sk.gen[1][i].Load())
		if r == 0 {
			zeros++
		}
		sum += pow2neg[r]
	}
	const m = float64(hllRegs)
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros)) // linear counting
	}
	sk.cached, sk.cachedVer = int(math.Round(est)), v
	return sk.cached
}

// pow2neg[r] is 2^-r for every register value.
var pow2neg = func() (t [66]float64) {
	for r := range t {
		t[r] = math.Ldexp(1, -r)
	}
	return t
}()
