package loadtest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ProcSample is one reading of a server process's resources.
type ProcSample struct {
	At      time.Time
	CPU     time.Duration // user + system time consumed so far
	RSS     int64         // resident bytes
	Threads int
	FDs     int
}

// clockTick is USER_HZ on Linux.
const clockTick = 100

// SampleProc reads /proc for pid.
func SampleProc(pid int) (ProcSample, error) {
	s := ProcSample{At: time.Now()}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("loadtest: sample pid %d: %w", pid, err)
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return s, fmt.Errorf("loadtest: /proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 22 {
		return s, fmt.Errorf("loadtest: /proc/%d/stat: too few fields", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	s.CPU = time.Duration(ut+st) * time.Second / clockTick
	s.Threads, _ = strconv.Atoi(f[17])
	rss, _ := strconv.ParseInt(f[21], 10, 64)
	s.RSS = rss * int64(os.Getpagesize())
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.FDs = len(ents)
	}
	return s, nil
}
