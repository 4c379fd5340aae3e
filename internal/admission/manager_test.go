package admission

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

type fakeSignals struct{ heap, goroutines, fds atomic.Int64 }

func (f *fakeSignals) HeapBytes() uint64 { return uint64(f.heap.Load()) }
func (f *fakeSignals) Goroutines() int   { return int(f.goroutines.Load()) }
func (f *fakeSignals) OpenFDs() int      { return int(f.fds.Load()) }

func newTestManager(cfg ManagerConfig) (*Manager, *fakeSignals, *clock) {
	sig := &fakeSignals{}
	clk := newClock()
	return NewManager(cfg, sig, clk.Now), sig, clk
}

// step advances the clock by one sample and samples.
func step(m *Manager, clk *clock, n int) {
	for range n {
		clk.Add(250 * time.Millisecond)
		m.sample()
	}
}

func TestShedMask(t *testing.T) {
	want := [MaxLevel + 1][NumClasses]bool{
		{},
		{ClassAnonymous: true},
		{ClassJoin: true, ClassAnonymous: true},
		{ClassChat: true, ClassJoin: true, ClassAnonymous: true},
		{ClassListener: true, ClassChat: true, ClassJoin: true, ClassAnonymous: true},
	}
	for k := range want {
		m := &Manager{}
		m.shed.Store(shedMask(k))
		for c := range Class(NumClasses) {
			if got := m.Shedding(c); got != want[k][c] {
				t.Errorf("level %d: Shedding(%v) = %v, want %v", k, c, got, want[k][c])
			}
		}
	}
}

func TestManagerLevels(t *testing.T) {
	m, sig, clk := newTestManager(ManagerConfig{MaxHeap: 1000, MaxGoroutines: 100, MaxFDs: 100})
	step(m, clk, 1)
	if m.Level() != 0 || !m.Headroom() {
		t.Fatalf("idle: level %d", m.Level())
	}
	sig.goroutines.Store(101)
	step(m, clk, 1)
	if m.Level() != 1 || !m.Shedding(ClassAnonymous) || m.Shedding(ClassJoin) {
		t.Fatalf("just over: level %d after one sample, want 1", m.Level())
	}
	// Still over: another step per StepUpAfter (1 s), up to 4; never ingest.
	step(m, clk, 3)
	if m.Level() != 1 {
		t.Fatalf("level %d before StepUpAfter, want 1", m.Level())
	}
	step(m, clk, 1)
	if m.Level() != 2 {
		t.Fatalf("level %d after StepUpAfter, want 2", m.Level())
	}
	step(m, clk, 40)
	if m.Level() != MaxLevel || m.Shedding(ClassIngest) || !m.Shedding(ClassListener) {
		t.Fatalf("sustained: level %d", m.Level())
	}
	// Between LowWater and 1: held.
	sig.goroutines.Store(90)
	step(m, clk, 40)
	if m.Level() != MaxLevel {
		t.Fatalf("pressure 0.9: level %d, want held at %d", m.Level(), MaxLevel)
	}
	// Below LowWater: one level per HoldDown (5 s).
	sig.goroutines.Store(10)
	step(m, clk, 19)
	if m.Level() != MaxLevel-1 {
		t.Fatalf("4.75 s below: level %d, want %d", m.Level(), MaxLevel-1)
	}
	step(m, clk, 20)
	if m.Level() != MaxLevel-2 {
		t.Fatalf("9.75 s below: level %d, want %d", m.Level(), MaxLevel-2)
	}
	step(m, clk, 40)
	if m.Level() != 0 || !m.Headroom() {
		t.Fatalf("recovered: level %d", m.Level())
	}
	// Far over: straight to the level pressure calls for.
	sig.heap.Store(1600)
	step(m, clk, 1)
	if m.Level() != MaxLevel {
		t.Fatalf("heap 1.6x: level %d, want %d", m.Level(), MaxLevel)
	}
}

func TestManagerLatency(t *testing.T) {
	m, _, clk := newTestManager(ManagerConfig{TargetLatency: 100 * time.Millisecond})
	for range 10 {
		m.Observe(ClassListener, 300*time.Millisecond)
	}
	step(m, clk, 1) // EWMA 150 ms: pressure 1.5
	if m.Level() != MaxLevel {
		t.Fatalf("latency 3x target: level %d", m.Level())
	}
	if got := m.Stats().Classes[ClassListener].Latency; got != 150*time.Millisecond {
		t.Errorf("smoothed latency %v, want 150ms", got)
	}
	step(m, clk, 100)
	if m.Level() != 0 {
		t.Fatalf("no more slow requests: level %d", m.Level())
	}
}

func TestManagerAttackDetection(t *testing.T) {
	m, _, clk := newTestManager(ManagerConfig{AttackJoinRate: 100})
	m.DeclareAttack(true)
	if !m.Attack() {
		t.Fatal("declared attack not on")
	}
	m.DeclareAttack(false)
	joins := func(perSample uint64, samples int) {
		for range samples {
			m.counters[ClassJoin].requests.Add(perSample)
			step(m, clk, 1)
		}
	}
	joins(10, 40) // 40/s: normal
	if m.Attack() {
		t.Fatal("attack at 40 joins/s")
	}
	joins(100, 20) // 400 joins/s for 5 s: not yet
	if m.Attack() {
		t.Fatal("attack detected before AttackAfter")
	}
	joins(100, 40)
	if !m.Attack() || !m.Stats().AttackDetected {
		t.Fatal("400 joins/s for 15 s not detected")
	}
	joins(0, 200) // 50 s quiet
	if !m.Attack() {
		t.Fatal("cleared before AttackClearAfter")
	}
	joins(0, 60)
	if m.Attack() {
		t.Fatal("not cleared after 65 s quiet")
	}

	// Refusal ratio.
	for range 60 {
		m.counters[ClassAnonymous].requests.Add(100)
		m.counters[ClassAnonymous].limited.Add(80)
		step(m, clk, 1)
	}
	if !m.Attack() {
		t.Fatal("80% refused for 15 s not detected")
	}
}

func TestManagerRunStops(t *testing.T) {
	m := NewManager(ManagerConfig{Interval: time.Millisecond}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	time.Sleep(5 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRuntimeSignals(t *testing.T) {
	var s RuntimeSignals
	if s.HeapBytes() == 0 || s.Goroutines() < 1 || s.OpenFDs() == 0 {
		t.Errorf("heap %d goroutines %d fds %d", s.HeapBytes(), s.Goroutines(), s.OpenFDs())
	}
}

type cpuSignals struct {
	fakeSignalsForCPU
	cpu float64
}

type fakeSignalsForCPU struct{}

func (fakeSignalsForCPU) HeapBytes() uint64 { return 0 }
func (fakeSignalsForCPU) Goroutines() int   { return 0 }
func (fakeSignalsForCPU) OpenFDs() int      { return 0 }

func (c *cpuSignals) CPU() float64 { return c.cpu }

func TestManagerShedsOnCPU(t *testing.T) {
	sig := &cpuSignals{cpu: 0.5}
	m := NewManager(ManagerConfig{MaxCPU: 0.8}, sig, time.Now)
	m.sample()
	if m.Shedding(ClassAnonymous) {
		t.Fatal("shedding at 50 % CPU with a limit of 80 %")
	}
	sig.cpu = 0.95
	m.sample()
	if !m.Shedding(ClassAnonymous) || m.Shedding(ClassIngest) {
		t.Fatalf("at 95 %% CPU: level %d; want anonymous shed, ingest never", m.Level())
	}
}

func TestProcessSignalsCPU(t *testing.T) {
	var p ProcessSignals
	p.CPU()
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	if got := p.CPU(); got <= 0 || got > 1.5 {
		t.Fatalf("CPU after spinning = %.2f, want a share in (0, 1.5]", got)
	}
}

func TestCPUAloneNeverShedsListeners(t *testing.T) {
	sig := &cpuSignals{cpu: 1.0}
	clk := time.Unix(1_800_000_000, 0)
	m := NewManager(ManagerConfig{MaxCPU: 0.5}, sig, func() time.Time { return clk })
	for i := 0; i < 40; i++ { // 10 s of saturated CPU, twice the limit
		m.sample()
		clk = clk.Add(250 * time.Millisecond)
	}
	if m.Shedding(ClassListener) || m.Shedding(ClassChat) {
		t.Fatalf("level %d after 10 s of CPU at twice the limit: listeners or chat shed", m.Level())
	}
	if !m.Shedding(ClassJoin) || !m.Shedding(ClassAnonymous) {
		t.Fatalf("level %d: joins and anonymous requests should be shed", m.Level())
	}
}

// TestAttackDeclarationIsDurable: a declaration is saved before it holds,
// a failed save changes nothing, and a new manager starts from the saved one.
func TestAttackDeclarationIsDurable(t *testing.T) {
	saved, fail := false, false
	cfg := ManagerConfig{SaveAttack: func(on bool) error {
		if fail {
			return errors.New("disk full")
		}
		saved = on
		return nil
	}}
	m := NewManager(cfg, &fakeSignals{}, nil)
	if err := m.DeclareAttack(true); err != nil || !saved || !m.Attack() {
		t.Fatalf("declare: err %v, saved %v, attack %v", err, saved, m.Attack())
	}
	fail = true
	if err := m.DeclareAttack(false); err == nil || !m.Attack() {
		t.Errorf("failed save: err %v, attack %v; want an error and attack mode kept", err, m.Attack())
	}
	cfg.AttackDeclared = saved
	if restarted := NewManager(cfg, &fakeSignals{}, nil); !restarted.Attack() || !restarted.Stats().AttackDeclared {
		t.Error("restarted manager forgot the declaration")
	}
}
