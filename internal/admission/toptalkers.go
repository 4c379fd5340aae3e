package admission

import (
	"net/netip"
	"sort"
)

// Talker is one network in the heavy-hitter view.
type Talker struct {
	Prefix   string // e.g. "203.0.113.0/24" or "2001:db8:1::/48"
	Requests uint64 // requests counted (an overestimate by at most Error)
	Rejected uint64 // of which the limiter refused (counted since it entered the view)
	Error    uint64 // Space-Saving's overestimate bound for Requests
}

// spaceSaving is the Space-Saving heavy-hitter summary (Metwally, Agrawal,
// El Abbadi 2005) over networks: at most cap(c) counters; an unseen network
// takes over the smallest counter and inherits its count as its error bound.
// Any network with more than total/cap(c) requests is guaranteed to be in it.
// Not safe for concurrent use: the Limiter keeps one per shard under the
// shard's lock. A network always falls in the same shard, so the shards'
// summaries are disjoint and merge by concatenation.
type spaceSaving struct {
	c []ssCounter
}

type ssCounter struct {
	key      [16]byte
	v4       bool
	requests uint64
	rejected uint64
	err      uint64
}

// add counts one request from the network key.
func (s *spaceSaving) add(key [16]byte, v4, rejected bool) {
	minI := -1
	for i := range s.c {
		c := &s.c[i]
		if c.key == key && c.v4 == v4 {
			c.requests++
			if rejected {
				c.rejected++
			}
			return
		}
		if minI < 0 || c.requests < s.c[minI].requests {
			minI = i
		}
	}
	n := ssCounter{key: key, v4: v4, requests: 1}
	if rejected {
		n.rejected = 1
	}
	if len(s.c) < cap(s.c) {
		s.c = append(s.c, n)
		return
	}
	m := &s.c[minI]
	n.err = m.requests
	n.requests += m.requests
	*m = n
}

// Top returns up to n networks with the most requests, most first.
func (l *Limiter) Top(n int) []Talker {
	var all []ssCounter
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		all = append(all, sh.top.c...)
		sh.mu.Unlock()
	}
	sort.Slice(all, func(i, j int) bool { return all[i].requests > all[j].requests })
	if n > len(all) {
		n = len(all)
	}
	out := make([]Talker, 0, max(n, 0))
	for _, c := range all[:max(n, 0)] {
		out = append(out, Talker{Prefix: prefixString(c.key, c.v4), Requests: c.requests, Rejected: c.rejected, Error: c.err})
	}
	return out
}

func prefixString(key [16]byte, v4 bool) string {
	if v4 {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte(key[12:])), 24).String()
	}
	return netip.PrefixFrom(netip.AddrFrom16(key), 48).String()
}
