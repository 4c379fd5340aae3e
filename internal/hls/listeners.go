package hls

import (
	"sync/atomic"
	"time"
)

// rateCounter counts playlist requests in one-second buckets of media time
// (measured in published parts, so counting needs no clock read). A ring of
// atomics, no per-listener state; concurrent increments that race with a
// bucket reset may lose a few counts, which an estimate tolerates.
type rateCounter struct {
	partsPerBucket uint64 // parts published per bucket (about one second)
	perPlayer      uint64 // playlist requests one LL-HLS player makes per bucket
	firstKey       uint64 // key of the bucket the stream started in
	buckets        [rateBuckets]rateBucket
}

const (
	rateBuckets = 8
	rateWindow  = 5 // buckets summed by the estimate
)

type rateBucket struct {
	key atomic.Uint64 // bucket number + 1; 0 = never used
	n   atomic.Int64
	_   [48]byte // keep buckets on separate cache lines
}

func (c *rateCounter) init(partDur time.Duration, startAbs uint64) {
	c.partsPerBucket = max(1, uint64(time.Second/partDur))
	c.firstKey = startAbs/c.partsPerBucket + 1
	// A player in low-latency mode makes one blocking reload per part.
	c.perPlayer = c.partsPerBucket
}

// add counts one playlist request at media position nextAbs.
func (c *rateCounter) add(nextAbs uint64) {
	key := nextAbs/c.partsPerBucket + 1
	b := &c.buckets[key%rateBuckets]
	if old := b.key.Load(); old != key {
		if old < key && b.key.CompareAndSwap(old, key) {
			b.n.Store(0)
		} else if old > key {
			return // a stale position; ignore
		}
	}
	b.n.Add(1)
}

// estimate returns the approximate number of players behind the requests
// of the last rateWindow complete buckets at media position nextAbs.
func (c *rateCounter) estimate(nextAbs uint64) int {
	key := nextAbs/c.partsPerBucket + 1
	var sum int64
	var used uint64
	for k := key - 1; k >= c.firstKey && key-k <= rateWindow; k-- {
		used++
		b := &c.buckets[k%rateBuckets]
		if b.key.Load() == k {
			sum += b.n.Load()
		}
	}
	if used == 0 {
		// Less than a bucket of history: use the one in progress.
		b := &c.buckets[key%rateBuckets]
		if b.key.Load() != key {
			return 0
		}
		return int(b.n.Load())
	}
	den := int64(used * c.perPlayer)
	return int((sum + den/2) / den)
}

// ListenerEstimate returns the approximate number of concurrent players,
// from the rate of playlist requests over the last ~5 s of media divided by
// the rate one low-latency player produces (one blocking reload per part).
// Behind a CDN it counts what reaches this origin, not the audience. A
// closed stream reports 0.
func (s *Stream) ListenerEstimate() int {
	sn := s.current()
	if sn.closed {
		return 0
	}
	return s.rate.estimate(sn.nextAbs)
}
