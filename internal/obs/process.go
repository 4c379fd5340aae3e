package obs

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Process is one reading of this process's resources.
type Process struct {
	At         time.Time
	CPU        time.Duration // user + system time so far
	RSS        int64
	Goroutines int
	OpenFiles  int
}

// ReadProcess reads this process's resources from /proc (Linux); fields it
// cannot read stay zero.
func ReadProcess() Process {
	p := Process{At: time.Now(), Goroutines: runtime.NumGoroutine()}
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 21 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				p.CPU = time.Duration(ut+st) * time.Second / 100
				rss, _ := strconv.ParseInt(f[21], 10, 64)
				p.RSS = rss * int64(os.Getpagesize())
			}
		}
	}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		p.OpenFiles = len(ents)
	}
	return p
}

// CPUPercent is the share of one core used between two readings.
func CPUPercent(prev, cur Process) float64 {
	dt := cur.At.Sub(prev.At)
	if dt <= 0 {
		return 0
	}
	return 100 * float64(cur.CPU-prev.CPU) / float64(dt)
}
