package record

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// countingStorage counts the audio objects opened (each open of a
// session's .ogg by Load is a scan of its pages).
type countingStorage struct {
	Storage
	mu    sync.Mutex
	opens map[string]int
}

func (c *countingStorage) Open(name string) (Object, error) {
	c.mu.Lock()
	if c.opens == nil {
		c.opens = map[string]int{}
	}
	c.opens[name]++
	c.mu.Unlock()
	return c.Storage.Open(name)
}

func (c *countingStorage) oggOpens() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for name, k := range c.opens {
		if strings.HasSuffix(name, ".ogg") {
			n += k
		}
	}
	return n
}

// TestServerLoadCached: Server.Load scans a recording once and answers
// again from its cache while the files are unchanged; a new session is
// scanned alone and shows in the answer; Forget drops the cache.
func TestServerLoadCached(t *testing.T) {
	pkts := schedule(t)
	cs := &countingStorage{Storage: newDir(t)}
	record(t, cs, "sp_c", t0, pkts[:100], func(i int) []Speaker {
		if i >= 20 && i < 80 {
			return []Speaker{{"a", "Ada"}}
		}
		return nil
	})
	srv := NewServer(cs, testPolicy, Views{}, nil, nil)
	first, err := srv.Load("sp_c")
	if err != nil {
		t.Fatal(err)
	}
	scans := cs.oggOpens()
	if scans != 1 || first.Duration() != 2*time.Second || len(first.Turns()) != 1 {
		t.Fatalf("first load: %d scans, %v, %d turns; want 1 scan, 2s, 1 turn", scans, first.Duration(), len(first.Turns()))
	}
	for range 5 {
		again, err := srv.Load("sp_c")
		if err != nil || again != first {
			t.Fatalf("unchanged load: %p %v, want the cached %p", again, err, first)
		}
	}
	if n := cs.oggOpens(); n != scans {
		t.Fatalf("unchanged loads scanned %d more times, want 0", n-scans)
	}
	record(t, cs, "sp_c", t0.Add(time.Minute), pkts[:50], nil)
	grown, err := srv.Load("sp_c")
	if err != nil {
		t.Fatal(err)
	}
	if grown.Duration() != 3*time.Second || grown.Size() <= first.Size() || cs.oggOpens() != scans+1 {
		t.Fatalf("after a new session: %v, %d bytes (was %d), %d scans; want 3s, more bytes, only the new session scanned",
			grown.Duration(), grown.Size(), first.Size(), cs.oggOpens()-scans)
	}
	srv.Forget("sp_c")
	if _, err := srv.Load("sp_c"); err != nil || cs.oggOpens() != scans+3 {
		t.Fatalf("after Forget: %v, %d scans; want both sessions scanned again", err, cs.oggOpens()-scans-1)
	}
}
