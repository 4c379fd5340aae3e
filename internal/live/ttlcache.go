package live

import (
	"sync"
	"time"
)

// ttlCache remembers values by space id for a short while, so that a path
// every listener hits (joining, fetching a replay segment) costs no
// database read per request. It holds at most ttlCacheLimit entries and
// starts afresh past that, so ids made up by a flood cannot grow it.
type ttlCache[V any] struct {
	mu sync.Mutex // guards m
	m  map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v     V
	until time.Time
}

const ttlCacheLimit = 10000

// get returns the value for id if it was put less than its ttl before now.
func (c *ttlCache[V]) get(id string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || !now.Before(e.until) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put remembers v for id until now+ttl.
func (c *ttlCache[V]) put(id string, v V, now time.Time, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= ttlCacheLimit {
		c.m = map[string]ttlEntry[V]{}
	}
	c.m[id] = ttlEntry[V]{v: v, until: now.Add(ttl)}
}

// forget drops id, after a change this node made.
func (c *ttlCache[V]) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}
