package loadtest

import (
	"bufio"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReadRawResponse reads the answer shapes a node (or a proxy) sends.
func TestReadRawResponse(t *testing.T) {
	get := httptest.NewRequest("GET", "/x", nil)
	tests := []struct {
		name, raw string
		status    int
		body      string
		close     bool
		err       error
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nRetry-After: 3\r\n\r\nhello", 200, "hello", false, nil},
		{"chunked", "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nTrailer: t\r\n\r\n", 202, "abcde", false, nil},
		{"to the close", "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\ntoo big", 431, "too big", true, nil},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", 204, "", false, nil},
		{"connection close", "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", 429, "{}", true, nil},
		{"not http", "SSH-2.0-OpenSSH\r\n", 0, "", false, errBadResponse},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", 0, "", false, errBadResponse},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, "", false, errBadResponse},
		{"cut short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, "", false, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := readRawResponse(bufio.NewReader(strings.NewReader(tt.raw)), get)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || string(b) != tt.body || resp.Close != tt.close {
				t.Errorf("got %d %q close %t, want %d %q close %t", resp.StatusCode, b, resp.Close, tt.status, tt.body, tt.close)
			}
		})
	}
	// The junk flood's reader agrees on the statuses and framing.
	br := bufio.NewReader(strings.NewReader(tests[0].raw + tests[4].raw))
	if st, closing, err := readResponse(br); st != 200 || closing || err != nil {
		t.Errorf("first: %d %t %v", st, closing, err)
	}
	if st, closing, err := readResponse(br); st != 429 || !closing || err != nil {
		t.Errorf("second: %d %t %v", st, closing, err)
	}
}

// TestJunkRequestsAreHTTP checks that every kind of junk is a well-formed
// request a server parses (junk must reach the server's defences, not
// break at the parser), pipelined back to back.
func TestJunkRequestsAreHTTP(t *testing.T) {
	e := &env{spaceID: "sp_abcdefghijkl"}
	e.node, _ = url.Parse("http://127.0.0.1:9")
	j := &junker{e: e, host: "127.0.0.1:9", playlist: "/hls/sp_abcdefghijkl/index.m3u8", part: "/hls/sp_abcdefghijkl/5.1.m4s", join: "/api/spaces/sp_abcdefghijkl/join"}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for range 50 {
		b, kinds := j.appendBatch(nil, nil, r, 8)
		br := bufio.NewReader(strings.NewReader(string(b)))
		for i, kind := range kinds {
			seen[kind] = true
			req, err := http.ReadRequest(br)
			if kind == "big_headers" {
				if i != len(kinds)-1 {
					t.Fatalf("big_headers not last in its batch")
				}
				continue // far over any header limit: the server refuses it whole
			}
			if err != nil {
				t.Fatalf("%s: %v\n%s", kind, err, b)
			}
			if req.Host != "127.0.0.1:9" {
				t.Errorf("%s: host %q", kind, req.Host)
			}
			if kind == "forged_join" {
				body, _ := io.ReadAll(req.Body)
				if req.Method != "POST" || !strings.HasPrefix(string(body), `{"`) {
					t.Errorf("forged_join: %s %q", req.Method, body)
				}
			}
			req.Body.Close()
		}
	}
	if len(seen) != len(junkKinds) {
		t.Errorf("kinds seen %v, want all of %v", seen, junkKinds)
	}
}

// TestEar counts lost packets and audible pauses from sequence numbers and
// arrival times, across the 16-bit wrap.
func TestEar(t *testing.T) {
	var e ear
	t0 := time.Unix(100, 0)
	seq := uint16(65530)
	at := t0
	for i := 0; i < 20; i++ {
		switch i {
		case 5:
			seq += 2 // two lost
		case 10:
			at = at.Add(300 * time.Millisecond) // a pause
		}
		e.packet(seq, at)
		e.packet(seq, at) // a duplicate changes nothing
		seq++
		at = at.Add(20 * time.Millisecond)
	}
	h := e.take(at.Add(-20 * time.Millisecond))
	if h.packets != 20 || h.lost != 2 || h.gaps != 1 || h.maxGap != 320*time.Millisecond {
		t.Errorf("packets %d lost %d pauses %d longest %v; want 20, 2, 1, 320ms", h.packets, h.lost, h.gaps, h.maxGap)
	}
	// Silence until now counts as the longest pause of the next second,
	// which heard nothing else.
	if h := e.take(at.Add(time.Second)); h.maxGap != time.Second+20*time.Millisecond || h.packets != 0 {
		t.Errorf("silence %v with %d packets, want 1.02s and none", h.maxGap, h.packets)
	}
}

// TestRawTransport plays requests through a real server that closes idle
// connections: the transport comes from its own source address, reuses
// its connection, and sends again on a fresh one when the server closed it.
func TestRawTransport(t *testing.T) {
	var mu sync.Mutex // guards remotes
	var remotes []string
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remotes = append(remotes, r.RemoteAddr)
		mu.Unlock()
		if r.Method == "POST" {
			b, _ := io.ReadAll(r.Body)
			w.Write(b)
			return
		}
		w.Header().Set("Retry-After", "2")
		io.WriteString(w, strings.Repeat("p", 3000))
	}))
	ts.Config.IdleTimeout = 100 * time.Millisecond
	ts.Start()
	defer ts.Close()
	src := net.IPv4(127, 4, 9, 9)
	tr := newRawTransport(src)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	for i, pause := range []time.Duration{0, 0, 300 * time.Millisecond} {
		time.Sleep(pause)
		resp, err := hc.Get(ts.URL + "/a")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || len(b) != 3000 || resp.Header.Get("Retry-After") != "2" {
			t.Fatalf("request %d: %d, %d bytes, Retry-After %q", i, resp.StatusCode, len(b), resp.Header.Get("Retry-After"))
		}
	}
	resp, err := hc.Post(ts.URL+"/join", "application/json", strings.NewReader(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != `{"x":1}` {
		t.Errorf("POST echoed %q", b)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(remotes) != 4 {
		t.Fatalf("%d requests reached the server", len(remotes))
	}
	for _, r := range remotes {
		if host, _, _ := net.SplitHostPort(r); host != src.String() {
			t.Errorf("request from %s, want %s", r, src)
		}
	}
	if remotes[0] != remotes[1] {
		t.Errorf("second request on a new connection (%s, %s): want keep-alive", remotes[0], remotes[1])
	}
	if remotes[1] == remotes[2] {
		t.Errorf("request after the server closed the idle connection reused %s", remotes[2])
	}
}

// TestRunSpeakersRefuses: the speakers' process only goes to a WHIP URL on
// this machine, and says so.
func TestRunSpeakersRefuses(t *testing.T) {
	for url, want := range map[string]string{
		"":                                   "want the space's WHIP URL",
		"::nonsense":                         "want the space's WHIP URL",
		"http://192.0.2.1/api/spaces/x/whip": "not a loopback address",
	} {
		err := RunSpeakers(t.Context(), url, "tok", strings.NewReader(""), io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", url, err, want)
		}
	}
}
