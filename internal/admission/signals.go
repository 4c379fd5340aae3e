package admission

import (
	"io"
	"os"
	"runtime/metrics"
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
