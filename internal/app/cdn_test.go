package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/hls/hlsclient"
)

// startNginx runs Debian's nginx with the shipped caching configuration in
// front of origin and returns its base URL and process. It is stopped
// gracefully when the test ends.
func startNginx(t *testing.T, origin string) (string, *helperProc) {
	t.Helper()
	if _, err := exec.LookPath("nginx"); err != nil {
		t.Fatal("nginx is needed (make deps installs it)")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	cache := filepath.Join(dir, "cache")
	os.MkdirAll(cache, 0o777)
	os.Chmod(cache, 0o777)
	tmpl, err := os.ReadFile("../../deploy/nginx/podium-cache.conf")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	site := strings.NewReplacer("__LISTEN__", "127.0.0.1:"+strconv.Itoa(port), "__ORIGIN__", origin, "__CACHE_DIR__", cache).Replace(string(tmpl))
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	// As root, nginx's workers would run as nobody and could not write the
	// test's cache; keep them as the invoking user.
	user := ""
	if os.Geteuid() == 0 {
		user = "user root root;\n"
	}
	main := user + `worker_processes 1;
daemon off;
pid ` + dir + `/nginx.pid;
error_log ` + dir + `/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ` + dir + `/body;
  proxy_temp_path ` + dir + `/proxy;
  include ` + dir + `/site.conf;
}
`
	conf := filepath.Join(dir, "nginx.conf")
	os.WriteFile(conf, []byte(main), 0o644)
	cmd := exec.Command("nginx", "-c", conf, "-p", dir)
	out, _ := os.Create(filepath.Join(dir, "stderr"))
	cmd.Stdout, cmd.Stderr = out, out
	// SIGQUIT is nginx's graceful stop: the master ends its workers and
	// cache manager and waits for them (SIGKILL would orphan them, still
	// holding the port).
	h := startHelper(t, cmd, syscall.SIGQUIT, 10*time.Second)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return base, h
		}
		if i > 100 {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not start: %v\n%s", err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNginxLeavesNothingBehind: when a test that ran nginx ends, no process
// of nginx's (master, worker, cache manager) is left and its port is free.
// (Killing the master alone left the other two running, holding the port.)
func TestNginxLeavesNothingBehind(t *testing.T) {
	var base string
	var pgid int
	t.Run("nginx", func(t *testing.T) {
		var h *helperProc
		base, h = startNginx(t, "127.0.0.1:1")
		pgid = h.cmd.Process.Pid
		deadline := time.Now().Add(5 * time.Second)
		for len(groupMembers(pgid)) < 2 { // the master and its worker at least
			if time.Now().After(deadline) {
				t.Fatalf("nginx's processes: %v, want a master and its workers", groupMembers(pgid))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	if left := groupMembers(pgid); len(left) > 0 {
		t.Fatalf("nginx processes left after the test: %v", left)
	}
	ln, err := net.Listen("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatalf("nginx's port is still held after the test: %v", err)
	}
	ln.Close()
}

// TestCacheCollapsesListeners puts the shipped nginx caching configuration
// in front of podium and shows that ten times more listeners through the
// cache leave origin requests per part flat.
func TestCacheCollapsesListeners(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	// As deployed: the node trusts its proxy, so its rate limits see each
	// listener (named in X-Forwarded-For), not the proxy as one client.
	cfg := testConfig(t)
	cfg.TrustedProxies = []string{"127.0.0.1/32"}
	n := runNode(t, cfg)
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil)
	n.speak(t, id, n.invite(t, id, host, "Cara"), "Cara", 440, 0, nil)
	cdn, _ := startNginx(t, strings.TrimPrefix(n.base, "http://"))
	time.Sleep(2500 * time.Millisecond) // a first segment exists

	if resp, err := http.Get(cdn + "/hls/" + id + "/index.m3u8"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("playlist through the cache: %d", resp.StatusCode)
		}
	}
	// Each listener connects from its own address and, like the web
	// player, joins first and sends its ticket with every media request:
	// the node serves it as an existing listener, a class it never sheds
	// (anonymous players would be shed on a busy test machine).
	keys := &keyRecorder{}
	clientFrom := func(i int) *http.Client {
		ticket := n.ticket(t, id)
		dl := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 5, byte(i/250), byte(1+i%250))}}
		return &http.Client{Transport: keys.wrap(ticketTransport{ticket, &http.Transport{DialContext: dl.DialContext, MaxIdleConnsPerHost: 4}})}
	}
	// phase plays `players` listeners through the cache for d and returns
	// origin requests per part produced, packets each player got, and
	// origin requests beyond one per distinct URL the players asked for
	// (less the plain playlist's refetch once a second, as it expires).
	phase := func(players int, d time.Duration) (parts, playlists float64, minPackets int64, extra int64) {
		ctx, cancel := context.WithCancel(context.Background())
		counts := make([]atomic.Int64, players)
		errs := make([]error, players)
		clients := make([]*http.Client, players)
		for i := range clients {
			clients[i] = clientFrom(i)
		}
		var wg sync.WaitGroup
		for i := 0; i < players; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				errs[i] = hlsclient.Play(ctx, clients[i], cdn+"/hls/"+id+"/index.m3u8", func([]byte, int64) { counts[i].Add(1) })
			}(i)
		}
		time.Sleep(2 * time.Second) // players settle at the live edge
		before := n.hls.Stats()
		for i := range counts {
			counts[i].Store(0)
		}
		keys.start()
		time.Sleep(d)
		after := n.hls.Stats()
		distinct := keys.stop()
		cancel()
		wg.Wait()
		produced := d.Seconds() / 0.2
		minPackets = 1 << 62
		for i := range counts {
			minPackets = min(minPackets, counts[i].Load())
			if errs[i] != nil && !errors.Is(errs[i], context.Canceled) {
				t.Logf("player %d of %d stopped: %v", i, players, errs[i])
			}
		}
		origin := int64(after.Parts + after.BlockingPlaylists + after.Playlists - before.Parts - before.BlockingPlaylists - before.Playlists)
		return float64(after.Parts-before.Parts) / produced,
			float64(after.BlockingPlaylists+after.Playlists-before.BlockingPlaylists-before.Playlists) / produced,
			minPackets, origin - int64(distinct) - int64(d.Seconds()) - 1
	}
	// A loaded machine (the race detector, other packages' tests) makes
	// some players fall behind; their requests for parts and playlists
	// others fetched long before are new cache keys (2.1 playlist requests
	// per part at the origin under stress-ng), and a starved player may
	// miss the window. So what the cache must do is checked per key: the
	// origin sees each distinct URL the players asked for once, and in all
	// a few requests per part at most, not one per listener; the
	// measurement is taken again, up to three times, and every attempt is
	// logged.
	want := int64(6 * 50 * 8 / 10) // packets in 6 s, allowing 20% for edges
	var problems []string
	for attempt := 1; attempt <= 3; attempt++ {
		p1, l1, m1, x1 := phase(10, 6*time.Second)
		p2, l2, m2, x2 := phase(100, 6*time.Second)
		t.Logf("attempt %d: 10 listeners: %.2f part and %.2f playlist requests per part at the origin, %d beyond one per distinct URL, slowest got %d packets; 100 listeners: %.2f and %.2f, %d beyond, slowest %d",
			attempt, p1, l1, x1, m1, p2, l2, x2, m2)
		problems = problems[:0]
		if m1 < want || m2 < want {
			problems = append(problems, fmt.Sprintf("slowest listener got %d (10 listeners) and %d (100 listeners) packets in 6 s, want ≥ %d", m1, m2, want))
		}
		for _, v := range []struct {
			name string
			got  float64
		}{{"parts, 10 listeners", p1}, {"parts, 100 listeners", p2}, {"playlists, 10 listeners", l1}, {"playlists, 100 listeners", l2}} {
			if v.got > 5 {
				problems = append(problems, fmt.Sprintf("%s: %.2f origin requests per part, want a few at most (one per part per cache, and the keys of players who fell behind), not one per listener", v.name, v.got))
			}
		}
		for _, v := range []struct {
			name  string
			extra int64
		}{{"10 listeners", x1}, {"100 listeners", x2}} {
			if v.extra > 2 {
				problems = append(problems, fmt.Sprintf("%s: the origin got %d requests beyond one per distinct URL asked through the cache, want none", v.name, v.extra))
			}
		}
		if len(problems) == 0 {
			return
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// keyRecorder counts the distinct media URLs (parts, segments, playlists
// with their query) players ask for while it is started.
type keyRecorder struct {
	mu   sync.Mutex
	keys map[string]bool // nil while stopped
}

func (k *keyRecorder) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		k.mu.Lock()
		if k.keys != nil {
			k.keys[r.URL.RequestURI()] = true
		}
		k.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

func (k *keyRecorder) start() { k.mu.Lock(); k.keys = map[string]bool{}; k.mu.Unlock() }

// stop returns how many distinct URLs were asked for since start.
func (k *keyRecorder) stop() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := len(k.keys)
	k.keys = nil
	return n
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
