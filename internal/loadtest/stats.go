package loadtest

import (
	"math"
	"sync/atomic"
	"time"
)

// hist is a lock-free latency histogram with log-spaced buckets (eight per
// doubling, about 9% wide) from 10 µs to beyond a minute.
type hist struct {
	b   [histBuckets]atomic.Int64
	max atomic.Int64
}

const (
	histBuckets = 200
	histMin     = 10 * time.Microsecond
)

func histIndex(d time.Duration) int {
	if d <= histMin {
		return 0
	}
	i := int(8 * math.Log2(float64(d)/float64(histMin)))
	return min(max(i, 0), histBuckets-1)
}

// histUpper is the upper bound of bucket i.
func histUpper(i int) time.Duration {
	return time.Duration(float64(histMin) * math.Exp2(float64(i+1)/8))
}

// Record adds one observation.
func (h *hist) Record(d time.Duration) {
	h.b[histIndex(d)].Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// counts is a histogram's state, for merging and quantiles.
type counts struct {
	B   [histBuckets]int64
	Max time.Duration
}

// take returns the counts and resets the histogram.
func (h *hist) take() counts {
	var c counts
	for i := range h.b {
		c.B[i] = h.b[i].Swap(0)
	}
	c.Max = time.Duration(h.max.Swap(0))
	return c
}

// snapshot returns the counts without resetting.
func (h *hist) snapshot() counts {
	var c counts
	for i := range h.b {
		c.B[i] = h.b[i].Load()
	}
	c.Max = time.Duration(h.max.Load())
	return c
}

func (c *counts) add(o counts) {
	for i := range c.B {
		c.B[i] += o.B[i]
	}
	c.Max = max(c.Max, o.Max)
}

func (c *counts) n() int64 {
	var n int64
	for _, v := range c.B {
		n += v
	}
	return n
}

// quantile returns the q-quantile (0..1), an upper bound within a bucket,
// never above the largest observation; 0 when empty.
func (c *counts) quantile(q float64) time.Duration {
	n := c.n()
	if n == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i, v := range c.B {
		seen += v
		if seen >= max(want, 1) {
			return min(histUpper(i), c.Max)
		}
	}
	return c.Max
}

// Quantiles is a latency distribution in milliseconds.
type Quantiles struct {
	N   int64   `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func (c *counts) quantiles() Quantiles {
	return Quantiles{N: c.n(), P50: ms(c.quantile(0.5)), P90: ms(c.quantile(0.9)), P99: ms(c.quantile(0.99)), Max: ms(c.Max)}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// stats are a run's live counters, shared by every goroutine.
type stats struct {
	activeNow, queuedNow, playingNow atomic.Int64 // gauges

	joins, joinPosts, joinQueued, joinChallenges, joinErrors atomic.Int64
	renewals, renewErrors                                    atomic.Int64
	requests, netErrors, status4xx, status5xx, shed          atomic.Int64
	playErrors                                               atomic.Int64

	partLat hist
}

// errs is every counted error.
func (s *stats) errs() int64 {
	return s.joinErrors.Load() + s.renewErrors.Load() + s.netErrors.Load() + s.status4xx.Load() + s.status5xx.Load() + s.shed.Load() + s.playErrors.Load()
}
