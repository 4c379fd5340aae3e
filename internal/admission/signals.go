package admission

import (
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"syscall"
	"time"
)

// RuntimeSignals reads this process's signals: live heap and goroutines from
// runtime/metrics, open file descriptors by counting /proc/self/fd (-1 where
// there is no /proc). Each call allocates a little; it is meant for the
// Manager's sampling goroutine, four times a second.
type RuntimeSignals struct{}

var _ Signals = RuntimeSignals{}

// HeapBytes returns the bytes in live and not-yet-swept heap objects.
func (RuntimeSignals) HeapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// Goroutines returns the number of live goroutines.
func (RuntimeSignals) Goroutines() int {
	s := []metrics.Sample{{Name: "/sched/goroutines:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int(s[0].Value.Uint64())
}

// OpenFDs returns the number of open file descriptors, or -1.
func (RuntimeSignals) OpenFDs() int {
	f, err := os.Open("/proc/self/fd")
	if err != nil {
		return -1
	}
	defer f.Close()
	n := 0
	for {
		names, err := f.Readdirnames(1024)
		n += len(names)
		if err == io.EOF {
			return n - 1 // not counting f itself
		}
		if err != nil {
			return -1
		}
	}
}

// CPUSignals is an optional part of Signals: the share of the CPU the
// process may use (GOMAXPROCS cores) that it used since the last call,
// 0..1. The Manager calls it from its sampling goroutine only.
type CPUSignals interface {
	CPU() float64
}

// ProcessSignals is RuntimeSignals plus CPU use, read with getrusage. Use
// one value per Manager (it remembers the previous reading).
type ProcessSignals struct {
	RuntimeSignals
	prevCPU  time.Duration
	prevWall time.Time
}

var _ CPUSignals = (*ProcessSignals)(nil)

// CPU returns the share of GOMAXPROCS cores used since the previous call.
func (p *ProcessSignals) CPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	now := time.Now()
	defer func() { p.prevCPU, p.prevWall = cpu, now }()
	if p.prevWall.IsZero() {
		return 0
	}
	wall := now.Sub(p.prevWall)
	if wall <= 0 {
		return 0
	}
	return float64(cpu-p.prevCPU) / float64(wall) / float64(runtime.GOMAXPROCS(0))
}
