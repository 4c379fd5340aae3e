package admission

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Signals are the resource readings the Manager samples. Implementations
// are called from the Manager's Run goroutine only. A negative or zero
// reading is treated as unknown.
type Signals interface {
	HeapBytes() uint64 // live heap
	Goroutines() int
	OpenFDs() int
}

// MaxLevel is the highest shed level: everything but ingest and stage joins
// is shed.
const MaxLevel = 4

// ManagerConfig configures a Manager. A zero limit disables that signal.
type ManagerConfig struct {
	MaxHeap       uint64        // bytes of live heap
	MaxGoroutines int           //
	MaxFDs        int           // open file descriptors
	TargetLatency time.Duration // smoothed mean handler time of observed requests
	// MaxCPU is the share of the process's cores (0..1) above which it is
	// under pressure; used when Signals also implements CPUSignals.
	MaxCPU float64

	Interval time.Duration // sampling period; default 250 ms
	// StepUpAfter is how long a level is held before pressure still at or
	// over 1 raises it another step; the first step is immediate, and
	// pressure far over 1 jumps straight to its level (see levelFor).
	// Default 1 s.
	StepUpAfter time.Duration
	// HoldDown is how long a level is held before it may step down; it
	// steps down one level at a time while pressure < LowWater. Defaults
	// 5 s and 0.8.
	HoldDown time.Duration
	LowWater float64

	// Attack detection. An attack is detected when, for AttackAfter
	// (default 10 s) without a break, either the smoothed join rate exceeds
	// AttackJoinRate (joins/s; 0 disables; set it to several times the
	// lines' admit rates), or at least AttackMinRate requests/s (default
	// 50) reach the limiter and more than AttackRejectRatio (default 0.5)
	// of them are refused. It clears after AttackClearAfter (default 60 s)
	// without either.
	AttackJoinRate    float64
	AttackMinRate     float64
	AttackRejectRatio float64
	AttackAfter       time.Duration
	AttackClearAfter  time.Duration

	// AttackDeclared is the operator's attack declaration at start, as
	// last saved by SaveAttack: attack mode survives a restart.
	AttackDeclared bool
	// SaveAttack, if set, makes a declaration durable; DeclareAttack
	// changes nothing when it fails.
	SaveAttack func(on bool) error

	// LatencyExempt, if set, names requests whose duration says nothing
	// about load and must not be observed: LL-HLS blocking playlist
	// reloads, long polls, downloads.
	LatencyExempt func(*http.Request) bool

	// JoinsWait: while joins are shed below MaxLevel, the middleware
	// passes them on instead of answering 503, so that the join handler's
	// waiting line (whose Headroom is false while anything is shed) queues
	// them with a position: a newcomer is told where they stand, at about
	// the cost of a 503. At MaxLevel joins are shed like everything else.
	JoinsWait bool
}

func (c *ManagerConfig) defaults() {
	setDur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	setDur(&c.Interval, 250*time.Millisecond)
	setDur(&c.StepUpAfter, time.Second)
	setDur(&c.HoldDown, 5*time.Second)
	setDur(&c.AttackAfter, 10*time.Second)
	setDur(&c.AttackClearAfter, 60*time.Second)
	if c.LowWater <= 0 || c.LowWater >= 1 {
		c.LowWater = 0.8
	}
	if c.AttackMinRate <= 0 {
		c.AttackMinRate = 50
	}
	if c.AttackRejectRatio <= 0 || c.AttackRejectRatio >= 1 {
		c.AttackRejectRatio = 0.5
	}
}

// Manager watches the node's resources and request latency and decides which
// priority classes to shed, lowest first: at level k every class c with
// c >= NumClasses-k is shed (1: anonymous; 2: also joins; 3: also chat;
// 4: also listeners). Ingest and stage joins are never shed. It also holds attack mode,
// declared by the operator or detected, in which joins must carry a proof
// of work.
//
// The hot path (Shedding, Attack, Observe and the middleware's counters) is
// atomics only. The fields under "owned by Run" are touched only by the
// goroutine running Run (or, in tests, the caller of sample).
type Manager struct {
	cfg ManagerConfig
	sig Signals
	now func() time.Time

	// declareMu orders declarations so that the saved one and the one in
	// force are the same.
	declareMu sync.Mutex

	shed     atomic.Uint32 // bit c set: class c is shed
	level    atomic.Int32
	pressure atomic.Uint64 // float64 bits
	declared atomic.Bool
	detected atomic.Bool
	counters [NumClasses]classCounters

	// owned by Run:
	started    bool
	lastSample time.Time
	lastChange time.Time
	latEWMA    [NumClasses]float64 // ns
	prev       Stats
	joinRate   float64
	checkRate  float64
	limitRate  float64
	condSince  time.Time
	clearSince time.Time
}

type classCounters struct {
	requests atomic.Uint64
	shed     atomic.Uint64
	waited   atomic.Uint64 // shed class passed on to wait (JoinsWait)
	limited  atomic.Uint64
	latSum   atomic.Int64 // ns observed since the last sample
	latN     atomic.Int64
	latency  atomic.Int64 // smoothed mean, ns, published by sample
	_        [24]byte     // one class per cache line
}

// NewManager returns a Manager reading signals (nil: RuntimeSignals) with
// clock now (nil: time.Now). Call Run to start sampling.
func NewManager(cfg ManagerConfig, signals Signals, now func() time.Time) *Manager {
	cfg.defaults()
	if signals == nil {
		signals = RuntimeSignals{}
	}
	if now == nil {
		now = time.Now
	}
	m := &Manager{cfg: cfg, sig: signals, now: now}
	m.declared.Store(cfg.AttackDeclared)
	return m
}

// Run samples every Interval until ctx is done, then returns nil.
func (m *Manager) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			m.sample()
		}
	}
}

// Shedding reports whether requests of class c are being shed: one atomic
// load.
func (m *Manager) Shedding(c Class) bool {
	return m.shed.Load()>>c.valid()&1 != 0
}

// Level returns the current shed level, 0..MaxLevel.
func (m *Manager) Level() int { return int(m.level.Load()) }

// Headroom reports whether nothing is being shed; a waiting room's
// RoomConfig.Headroom may use it.
func (m *Manager) Headroom() bool { return m.shed.Load() == 0 }

// DeclareAttack turns the operator's attack declaration on or off, saving
// it first (ManagerConfig.SaveAttack) so that it holds across restarts.
// Detection is independent: Attack is true while either holds.
func (m *Manager) DeclareAttack(on bool) error {
	m.declareMu.Lock()
	defer m.declareMu.Unlock()
	if m.cfg.SaveAttack != nil {
		if err := m.cfg.SaveAttack(on); err != nil {
			return fmt.Errorf("admission: save attack declaration: %w", err)
		}
	}
	m.declared.Store(on)
	return nil
}

// Attack reports whether attack mode is on (declared or detected).
func (m *Manager) Attack() bool { return m.declared.Load() || m.detected.Load() }

// Observe records that a request of class c took d. The middleware calls it.
func (m *Manager) Observe(c Class, d time.Duration) {
	cc := &m.counters[c.valid()]
	cc.latSum.Add(int64(d))
	cc.latN.Add(1)
}

// shedMask returns the classes shed at level k.
func shedMask(k int) uint32 {
	var mask uint32
	for c := NumClasses - k; c < NumClasses; c++ {
		if Class(c).shed() {
			mask |= 1 << c
		}
	}
	return mask
}

// levelFor returns the level pressure p calls for on its own.
// cpuMaxLevel is the highest level CPU pressure alone reaches: joins and
// anonymous requests are shed, chat and listeners are not.
const cpuMaxLevel = 2

func levelFor(p float64) int {
	switch {
	case p >= 1.5:
		return 4
	case p >= 1.25:
		return 3
	case p >= 1.1:
		return 2
	case p >= 1:
		return 1
	}
	return 0
}

// sample reads the signals once and updates level and attack detection.
func (m *Manager) sample() {
	now := m.now()
	if !m.started {
		m.started, m.lastSample, m.lastChange = true, now, now
	}
	dt := now.Sub(m.lastSample).Seconds()
	m.lastSample = now

	// Latency: per class, the window's mean smoothed across windows; the
	// slowest class counts.
	for c := range m.counters {
		cc := &m.counters[c]
		s, k := cc.latSum.Swap(0), cc.latN.Swap(0)
		if k > 0 {
			m.latEWMA[c] = 0.5*m.latEWMA[c] + 0.5*float64(s)/float64(k)
		} else {
			m.latEWMA[c] *= 0.5
		}
		cc.latency.Store(int64(m.latEWMA[c]))
	}

	p := 0.0
	ratio := func(v, limit float64) {
		if limit > 0 && v > 0 {
			p = math.Max(p, v/limit)
		}
	}
	ratio(float64(m.sig.HeapBytes()), float64(m.cfg.MaxHeap))
	ratio(float64(m.sig.Goroutines()), float64(m.cfg.MaxGoroutines))
	ratio(float64(m.sig.OpenFDs()), float64(m.cfg.MaxFDs))
	// CPU alone may shed joins and anonymous requests, never listeners:
	// a saturated CPU is as often caused by what is being shed (a flood,
	// a connection storm) as by the audience, and the waiting line already
	// stops the audience from growing.
	pOther := p
	cpuCap := MaxLevel
	if cs, ok := m.sig.(CPUSignals); ok {
		ratio(cs.CPU(), m.cfg.MaxCPU)
		if p > pOther {
			cpuCap = cpuMaxLevel
		}
	}
	var lat float64
	for c := range m.latEWMA {
		lat = math.Max(lat, m.latEWMA[c])
	}
	ratio(lat, float64(m.cfg.TargetLatency))
	m.pressure.Store(math.Float64bits(p))

	cur := int(m.level.Load())
	next := cur
	held := now.Sub(m.lastChange)
	switch {
	case p >= 1:
		next = max(next, levelFor(p))
		if cur == 0 || held >= m.cfg.StepUpAfter {
			next = max(next, cur+1)
		}
		next = min(next, MaxLevel)
		if pOther < 1 && (m.cfg.TargetLatency <= 0 || lat < float64(m.cfg.TargetLatency)) {
			next = min(next, max(cur, cpuCap))
		}
	case p < m.cfg.LowWater && cur > 0 && held >= m.cfg.HoldDown:
		next = cur - 1
	}
	if next != cur {
		m.level.Store(int32(next))
		m.shed.Store(shedMask(next))
		m.lastChange = now
	}

	m.detectAttack(now, dt)
}

// detectAttack smooths the request, refusal and join rates over about two
// seconds and turns detection on or off (see ManagerConfig).
func (m *Manager) detectAttack(now time.Time, dt float64) {
	st := m.counts()
	var req, shed, lim uint64
	for c := range st.Classes {
		req += st.Classes[c].Requests - m.prev.Classes[c].Requests
		shed += st.Classes[c].Shed - m.prev.Classes[c].Shed
		lim += st.Classes[c].Limited - m.prev.Classes[c].Limited
	}
	joins := st.Classes[ClassJoin].Requests - m.prev.Classes[ClassJoin].Requests
	m.prev = st
	if dt <= 0 {
		return
	}
	a := 1 - math.Exp(-dt/2)
	m.joinRate += a * (float64(joins)/dt - m.joinRate)
	m.checkRate += a * (float64(req-shed)/dt - m.checkRate)
	m.limitRate += a * (float64(lim)/dt - m.limitRate)

	cond := (m.cfg.AttackJoinRate > 0 && m.joinRate > m.cfg.AttackJoinRate) ||
		(m.checkRate >= m.cfg.AttackMinRate && m.limitRate > m.cfg.AttackRejectRatio*m.checkRate)
	if cond {
		m.clearSince = time.Time{}
		if m.condSince.IsZero() {
			m.condSince = now
		}
		if now.Sub(m.condSince) >= m.cfg.AttackAfter {
			m.detected.Store(true)
		}
		return
	}
	m.condSince = time.Time{}
	if !m.detected.Load() {
		return
	}
	if m.clearSince.IsZero() {
		m.clearSince = now
	}
	if now.Sub(m.clearSince) >= m.cfg.AttackClearAfter {
		m.detected.Store(false)
		m.clearSince = time.Time{}
	}
}

// Stats is a snapshot of the Manager's state and counters, for metrics.
type Stats struct {
	Level          int
	Pressure       float64 // max over signals of reading/limit
	AttackDeclared bool
	AttackDetected bool
	Classes        [NumClasses]ClassStats
}

// ClassStats are one class's counters (monotonic) and smoothed latency.
type ClassStats struct {
	Requests uint64        // seen by the middleware
	Shed     uint64        // answered 503 by the overload manager
	Waited   uint64        // would have been shed, passed on to the waiting line (ManagerConfig.JoinsWait)
	Limited  uint64        // answered 429 by the limiter
	Latency  time.Duration // smoothed mean handler time
}

// Stats returns a snapshot. Counters are read one by one, not atomically
// together.
func (m *Manager) Stats() Stats {
	s := m.counts()
	s.Level = m.Level()
	s.Pressure = math.Float64frombits(m.pressure.Load())
	s.AttackDeclared = m.declared.Load()
	s.AttackDetected = m.detected.Load()
	return s
}

func (m *Manager) counts() Stats {
	var s Stats
	for c := range m.counters {
		cc := &m.counters[c]
		s.Classes[c] = ClassStats{
			Requests: cc.requests.Load(),
			Shed:     cc.shed.Load(),
			Waited:   cc.waited.Load(),
			Limited:  cc.limited.Load(),
			Latency:  time.Duration(cc.latency.Load()),
		}
	}
	return s
}

// String is for logs: "level=2 pressure=1.07 attack=false".
func (s Stats) String() string {
	return fmt.Sprintf("level=%d pressure=%.2f attack=%t", s.Level, s.Pressure, s.AttackDeclared || s.AttackDetected)
}
