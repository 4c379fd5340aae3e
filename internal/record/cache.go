package record

import "container/list"

// lru is a least-recently-used cache bounded by a total cost (bytes, or
// 1 per entry). It is not safe for concurrent use: Server guards its
// caches with Server.mu.
type lru[K comparable, V any] struct {
	max, used int64
	cost      func(V) int64
	order     *list.List // front = most recent; values are *lruEntry
	items     map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key  K
	val  V
	cost int64
}

func newLRU[K comparable, V any](max int64, cost func(V) int64) *lru[K, V] {
	return &lru[K, V]{max: max, cost: cost, order: list.New(), items: map[K]*list.Element{}}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	e, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry[K, V]).val, true
}

// put stores v under k, evicting the least recently used entries beyond
// the budget. A value costing more than the whole budget is not stored.
func (c *lru[K, V]) put(k K, v V) {
	cost := c.cost(v)
	c.remove(k)
	if cost > c.max {
		return
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, val: v, cost: cost})
	c.used += cost
	for c.used > c.max {
		c.removeElement(c.order.Back())
	}
}

func (c *lru[K, V]) remove(k K) {
	if e, ok := c.items[k]; ok {
		c.removeElement(e)
	}
}

// removeIf drops every entry whose key matches.
func (c *lru[K, V]) removeIf(match func(K) bool) {
	for e := c.order.Front(); e != nil; {
		next := e.Next()
		if match(e.Value.(*lruEntry[K, V]).key) {
			c.removeElement(e)
		}
		e = next
	}
}

func (c *lru[K, V]) removeElement(e *list.Element) {
	ent := e.Value.(*lruEntry[K, V])
	c.order.Remove(e)
	delete(c.items, ent.key)
	c.used -= ent.cost
}
