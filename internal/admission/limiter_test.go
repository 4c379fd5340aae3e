package admission

import (
	"net/netip"
	"testing"
	"time"
)

func testLimiter(t testing.TB, capacity int) *Limiter {
	t.Helper()
	var cfg LimiterConfig
	cfg.Capacity = capacity
	cfg.Classes[ClassJoin] = ClassLimits{PerIP: Rate{1, 3}, PerNet: Rate{10, 5}}
	cfg.Classes[ClassListener] = ClassLimits{PerIP: Rate{1000, 1000}, PerNet: Rate{1e6, 1e6}}
	l, err := NewLimiter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLimiterPerIPAndPerNet(t *testing.T) {
	l := testLimiter(t, 1<<12)
	now := newClock().Now()
	a := netip.MustParseAddr("192.0.2.1")
	for i := range 3 {
		if ok, _ := l.Allow(a, ClassJoin, "", now); !ok {
			t.Fatalf("request %d within burst refused", i)
		}
	}
	ok, wait := l.Allow(a, ClassJoin, "", now)
	if ok || wait != time.Second {
		t.Fatalf("4th request: ok=%v wait=%v, want refused, 1s", ok, wait)
	}
	// Same /24, other addresses: the network's burst of 5 has 2 left.
	if ok, _ := l.Allow(netip.MustParseAddr("192.0.2.2"), ClassJoin, "", now); !ok {
		t.Fatal("neighbour refused early")
	}
	if ok, _ := l.Allow(netip.MustParseAddr("192.0.2.3"), ClassJoin, "", now); !ok {
		t.Fatal("neighbour refused early")
	}
	if ok, _ := l.Allow(netip.MustParseAddr("192.0.2.4"), ClassJoin, "", now); ok {
		t.Fatal("network over its burst allowed")
	}
	// Another network and another class are unaffected; ingest is unlimited.
	if ok, _ := l.Allow(netip.MustParseAddr("198.51.100.1"), ClassJoin, "", now); !ok {
		t.Error("other network refused")
	}
	if ok, _ := l.Allow(a, ClassListener, "", now); !ok {
		t.Error("other class refused")
	}
	for range 100 {
		if ok, _ := l.Allow(a, ClassIngest, "", now); !ok {
			t.Fatal("ingest limited")
		}
	}
	// Refill.
	if ok, _ := l.Allow(a, ClassJoin, "", now.Add(time.Second)); !ok {
		t.Error("not refilled after 1s")
	}
	// IPv4-mapped IPv6 is the same client; IPv6 /64 is one client.
	if ok, _ := l.Allow(netip.MustParseAddr("::ffff:192.0.2.1"), ClassJoin, "", now.Add(time.Second)); ok {
		t.Error("mapped address has its own bucket")
	}
	v6 := netip.MustParseAddr("2001:db8:1:2::1")
	for range 3 {
		l.Allow(v6, ClassJoin, "", now)
	}
	if ok, _ := l.Allow(netip.MustParseAddr("2001:db8:1:2::ffff"), ClassJoin, "", now); ok {
		t.Error("same /64 has its own bucket")
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	l := testLimiter(t, 1<<12)
	now := newClock().Now()
	for i := range 1_000_000 {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.Allow(ip, ClassJoin, "", now)
		if i%100_000 == 0 && l.Len() > l.Cap() {
			t.Fatalf("after %d addresses: %d buckets, capacity %d", i, l.Len(), l.Cap())
		}
	}
	if l.Len() > l.Cap() || l.Cap() > 1<<12 {
		t.Fatalf("%d buckets, capacity %d, configured %d", l.Len(), l.Cap(), 1<<12)
	}
	if l.Len() < l.Cap()/2 {
		t.Errorf("table only %d/%d full: hashing is poor", l.Len(), l.Cap())
	}
}

func TestLimiterTop(t *testing.T) {
	var cfg LimiterConfig
	cfg.TopK = 64
	cfg.Classes[ClassAnonymous] = ClassLimits{PerIP: Rate{1, 1}}
	l, err := NewLimiter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := newClock().Now()
	// 300 networks send 10 requests each; 203.0.113.0/24 sends 100.
	for n := range 300 {
		for i := range 10 {
			l.Allow(netip.AddrFrom4([4]byte{10, byte(n >> 8), byte(n), byte(i)}), ClassAnonymous, "", now)
		}
	}
	for i := range 100 {
		l.Allow(netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 3)}), ClassAnonymous, "", now)
	}
	top := l.Top(3)
	if len(top) != 3 || top[0].Prefix != "203.0.113.0/24" {
		t.Fatalf("Top(3) = %+v, want 203.0.113.0/24 first", top)
	}
	if top[0].Requests < 100 || top[0].Rejected != 97 {
		t.Errorf("top talker %+v, want >= 100 requests, 97 rejected", top[0])
	}
}

func TestNewLimiterRejectsBadConfig(t *testing.T) {
	if _, err := NewLimiter(LimiterConfig{Capacity: 3}); err == nil {
		t.Error("capacity 3 accepted")
	}
}

func BenchmarkLimiterAllow(b *testing.B) {
	cfg := DefaultLimiterConfig()
	l, _ := NewLimiter(cfg)
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			l.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), ClassListener, "", now)
		}
	})
}

// TestLimiterPerCredential: a stage join is charged to its credential as
// well as to its address, so one invite cannot join over and over from many
// addresses, and one address cannot join over and over with many invites.
func TestLimiterPerCredential(t *testing.T) {
	var cfg LimiterConfig
	cfg.Capacity = 1 << 12
	cfg.Classes[ClassStageJoin] = ClassLimits{PerIP: Rate{1, 4}, PerNet: Rate{100, 100}, PerKey: Rate{0.2, 2}}
	l, err := NewLimiter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := newClock().Now()
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, byte(i), 1}) }
	ok := 0
	for i := range 10 {
		if a, _ := l.Allow(addr(i), ClassStageJoin, "invite:one", now); a {
			ok++
		}
	}
	if ok != 2 {
		t.Errorf("one invite from 10 addresses: %d joins allowed, want its burst of 2", ok)
	}
	ok = 0
	for i := range 10 {
		if a, _ := l.Allow(addr(100), ClassStageJoin, "invite:"+string(rune('a'+i)), now); a {
			ok++
		}
	}
	if ok != 4 {
		t.Errorf("10 invites from one address: %d joins allowed, want the address's burst of 4", ok)
	}
	// A refusal by the address charges nothing to the credential.
	if a, _ := l.Allow(addr(100), ClassStageJoin, "invite:fresh", now); a {
		t.Fatal("address over its burst allowed")
	}
	if a, _ := l.Allow(addr(200), ClassStageJoin, "invite:fresh", now); !a {
		t.Error("credential charged by a join its address refused")
	}
	if a, _ := l.Allow(addr(1), ClassStageJoin, "invite:one", now.Add(5*time.Second)); !a {
		t.Error("credential not refilled after 5 s at 0.2/s")
	}
}
