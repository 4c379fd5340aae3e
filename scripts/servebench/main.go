// Command servebench measures how many GET requests per second a server
// answers the way listeners ask: keep-alive HTTP/1.1 connections, each
// coming from its own loopback address (127.x.y.z) and sending that
// address's listener ticket (X-Podium-Ticket), so that a node with
// admission on checks the ticket, classifies the request and runs its rate
// limits on every request, as it does for real listeners. Every answer is
// checked: a status other than 200, or a body of another length than the
// first answer's, makes it exit 1 with a message.
//
// Rate limits are per address (a listener makes about 10 requests a
// second), so a connection makes -per-conn requests and then reconnects
// from the next address of its share of the -addrs pool: each address asks
// at the total rate divided by the pool, far under a listener's limit.
//
//	servebench -url URL [-join JOINURL] [-conns 64] [-secs 8] [-addrs 4096] [-per-conn 100]
//
// With -join, the tool first joins once from every address (POST JOINURL
// with an empty body, answering a waiting room's queue token until a
// ticket comes) and sends those tickets; without it, no ticket is sent.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	target := flag.String("url", "", "URL to GET")
	joinURL := flag.String("join", "", "join URL: get a listener ticket for every address first")
	conns := flag.Int("conns", 64, "concurrent connections")
	secs := flag.Float64("secs", 8, "seconds to measure")
	addrs := flag.Int("addrs", 4096, "source addresses (127.10.0.1 on), each with its own ticket")
	perConn := flag.Int("per-conn", 100, "requests per connection before it reconnects from its next address")
	partOf := flag.String("part-of", "", "a live playlist: after joining, GET its third newest part instead of -url (a part leaves the playlist, and is no longer served, about 12 s after it was made)")
	pids := flag.String("pids", "", "comma-separated server process ids: report the CPU they used while measured, and requests per core-second")
	sameLen := flag.Bool("same-length", true, "every body must be as long as the first (false for a live playlist, which grows: then any non-empty body)")
	flag.Parse()
	if err := run(*target, *partOf, *joinURL, *conns, *addrs, *perConn, *sameLen, *pids, time.Duration(*secs*float64(time.Second))); err != nil {
		fmt.Fprintln(os.Stderr, "servebench:", err)
		os.Exit(1)
	}
}

// addr is the i-th source address: 40 per /24 (so that 4096 addresses
// spread over 103 networks, each asking far under a network's limits), from
// 127.10.0.0/16 on.
func addr(i int) net.IP { return net.IPv4(127, byte(10+i/(40*256)), byte(i/40%256), byte(1+i%40)) }

func run(target, partOf, joinURL string, conns, addrs, perConn int, sameLen bool, pids string, d time.Duration) error {
	if partOf != "" {
		target = partOf
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" {
		return fmt.Errorf("-url %q: want an http:// URL", target)
	}
	if conns < 1 || addrs < conns {
		return fmt.Errorf("-addrs (%d) must be at least -conns (%d)", addrs, conns)
	}
	tickets := make([]string, addrs)
	if joinURL != "" {
		t0 := time.Now()
		if err := joinAll(joinURL, tickets); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "servebench: %d tickets in %.1fs\n", addrs, time.Since(t0).Seconds())
	}
	if partOf != "" {
		p, err := livePart(partOf)
		if err != nil {
			return err
		}
		u = u.JoinPath("..", p)
	}
	path := u.RequestURI()
	var want int64 // body length every answer must have; -1: any but 0
	var (
		mu      sync.Mutex
		lat     []time.Duration // sampled latencies
		total   atomic.Int64
		bad     atomic.Int64
		badOnce sync.Once
		badMsg  string
	)
	fail := func(msg string) {
		bad.Add(1)
		badOnce.Do(func() { badMsg = msg })
	}
	first, err := probe(u.Host, path, tickets[0])
	if err != nil {
		return fmt.Errorf("first request: %w", err)
	}
	want = first
	if !sameLen {
		want = -1
	}
	cpu0 := cpuTicks(pids)
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			// Connection c uses addresses c, c+conns, c+2*conns, ...
			for k := 0; time.Now().Before(stop); k++ {
				i := (c + k*conns) % addrs
				n, err := session(u.Host, path, tickets[i], addr(i), perConn, want, stop, &mine)
				total.Add(int64(n))
				if err != nil {
					fail(fmt.Sprintf("from %v: %v", addr(i), err))
					return
				}
			}
		}()
	}
	wg.Wait()
	cpu := float64(cpuTicks(pids)-cpu0) / 100 / d.Seconds() // USER_HZ is 100 on Linux
	n := total.Load()
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[int(p*float64(len(lat)-1))]
	}
	fmt.Printf("%.0f req/s  p50 %v  p99 %v  (%d answers of %d bytes in %v, %d connections, %d addresses)\n",
		float64(n)/d.Seconds(), q(0.5).Round(time.Microsecond), q(0.99).Round(time.Microsecond), n, first, d, conns, addrs)
	if pids != "" {
		fmt.Printf("server cpu %.0f%%: %.0f requests per core-second\n", 100*cpu, float64(n)/d.Seconds()/max(cpu, 0.01))
	}
	if bad.Load() > 0 {
		return fmt.Errorf("%d connections ended on a wrong answer; the first: %s", bad.Load(), badMsg)
	}
	return nil
}

// probe does one request from the first address and returns the body length.
func probe(host, path, ticket string) (int64, error) {
	c, err := dialFrom(host, addr(0))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.Write(request(host, path, ticket))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %d %s, want 200", path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return int64(len(b)), nil
}

func request(host, path, ticket string) []byte {
	r := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
	if ticket != "" {
		r += "X-Podium-Ticket: " + ticket + "\r\n"
	}
	return []byte(r + "\r\n")
}

func dialFrom(host string, from net.IP) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from}, Timeout: 5 * time.Second}
	return d.Dial("tcp", host)
}

// session makes up to n requests on one connection from one address, one
// at a time, checking each answer, and returns how many were answered.
func session(host, path, ticket string, from net.IP, n int, want int64, stop time.Time, lat *[]time.Duration) (int, error) {
	c, err := dialFrom(host, from)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	req := request(host, path, ticket)
	br := bufio.NewReaderSize(c, 64<<10)
	for i := range n {
		if time.Now().After(stop) {
			return i, nil
		}
		t0 := time.Now()
		if _, err := c.Write(req); err != nil {
			return i, err
		}
		st, body, err := readResponse(br)
		if err != nil {
			return i, err
		}
		if st != 200 {
			return i, fmt.Errorf("answer %d: status %d, want 200", i, st)
		}
		if body != want && (want >= 0 || body == 0) {
			return i, fmt.Errorf("answer %d: %d bytes, want %d", i, body, want)
		}
		if i%16 == 0 {
			*lat = append(*lat, time.Since(t0))
		}
	}
	return n, nil
}

// readResponse reads one HTTP/1.1 response with a Content-Length body,
// discarding the body, and returns its status and length.
func readResponse(br *bufio.Reader) (int, int64, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, 0, fmt.Errorf("bad status line %q", line)
	}
	st, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, fmt.Errorf("bad status line %q", line)
	}
	length := int64(-1)
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, 0, err
		}
		if len(h) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(h, []byte(":")); ok && strings.EqualFold(string(k), "content-length") {
			length, err = strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("bad content-length %q", h)
			}
		}
	}
	if length < 0 {
		return 0, 0, errors.New("answer without Content-Length")
	}
	if _, err := br.Discard(int(length)); err != nil {
		return 0, 0, err
	}
	return st, length, nil
}

// joinAll gets a ticket for every address, 32 joins at a time.
func joinAll(joinURL string, tickets []string) error {
	var wg sync.WaitGroup
	errs := make([]error, len(tickets))
	sem := make(chan struct{}, 32)
	for i := range tickets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			tickets[i], errs[i] = join(joinURL, addr(i))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func join(joinURL string, from net.IP) (string, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from}, Timeout: 5 * time.Second}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}, Timeout: 10 * time.Second}
	body := "{}"
	for try := 0; try < 100; try++ {
		resp, err := hc.Post(joinURL, "application/json", strings.NewReader(body))
		if err != nil {
			return "", fmt.Errorf("join from %v: %w", from, err)
		}
		var doc struct {
			Ticket     string `json:"ticket"`
			QueueToken string `json:"queue_token"`
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		json.Unmarshal(b, &doc)
		switch {
		case doc.Ticket != "":
			return doc.Ticket, nil
		case doc.QueueToken != "":
			qb, _ := json.Marshal(map[string]string{"queue_token": doc.QueueToken})
			body = string(qb)
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		default:
			return "", fmt.Errorf("join from %v: %d %s", from, resp.StatusCode, bytes.TrimSpace(b))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return "", fmt.Errorf("join from %v: no ticket after 100 tries", from)
}

// livePart returns the third newest part named in a live playlist.
func livePart(playlist string) (string, error) {
	resp, err := http.Get(playlist)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %d, want 200", playlist, resp.StatusCode)
	}
	var parts []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "#EXT-X-PART:") {
			continue
		}
		if _, rest, ok := strings.Cut(line, `URI="`); ok {
			if uri, _, ok := strings.Cut(rest, `"`); ok {
				parts = append(parts, uri)
			}
		}
	}
	if len(parts) < 3 {
		return "", fmt.Errorf("%s names %d parts, want 3 or more", playlist, len(parts))
	}
	return parts[len(parts)-3], nil
}

// cpuTicks sums user and system time (clock ticks) of the processes.
func cpuTicks(pids string) int64 {
	var t int64
	for _, p := range strings.Split(pids, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		b, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			k, _ := strconv.ParseInt(f[12], 10, 64)
			t += u + k
		}
	}
	return t
}
