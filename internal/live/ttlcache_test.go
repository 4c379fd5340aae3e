package live

import (
	"strconv"
	"testing"
	"time"
)

func TestTTLCache(t *testing.T) {
	var c ttlCache[int]
	t0 := time.Unix(1000, 0)
	if _, ok := c.get("a", t0); ok {
		t.Fatal("hit in an empty cache")
	}
	c.put("a", 7, t0, time.Second)
	if v, ok := c.get("a", t0.Add(999*time.Millisecond)); !ok || v != 7 {
		t.Fatalf("within the ttl: %d %t", v, ok)
	}
	if _, ok := c.get("a", t0.Add(time.Second)); ok {
		t.Fatal("hit at the end of the ttl")
	}
	c.put("a", 8, t0, time.Second)
	c.forget("a")
	if _, ok := c.get("a", t0); ok {
		t.Fatal("hit after forget")
	}
	for i := range ttlCacheLimit + 5 { // a flood of made-up ids
		c.put(strconv.Itoa(i), i, t0, time.Minute)
	}
	if n := len(c.m); n > ttlCacheLimit {
		t.Fatalf("%d entries, want at most %d", n, ttlCacheLimit)
	}
}
