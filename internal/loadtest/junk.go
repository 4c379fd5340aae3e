package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// junker sends flood traffic: requests no player makes, from many source
// addresses. Each kind probes one layer of the server's defences.
//
// An attacker's requests must cost the attacker much less than they cost
// the server, or the tool measures itself: the junker writes prebuilt
// HTTP/1.1 requests straight to TCP connections, Pipeline requests per
// write, and reads the answers with a minimal parser (status line,
// Content-Length, Connection: close). A connection moves to a fresh source
// address after a few batches, or when the server closes it.
type junker struct {
	e        *env
	host     string
	playlist string // path of the real playlist
	part     string // path of a real part
	join     string // path of the join route
	pipeline int    // requests per write

	sent, unsent, closed atomic.Int64
	lat                  hist

	mu     sync.Mutex // guards byKind
	byKind map[string]map[string]int
}

var junkKinds = []string{"random_path", "bust_playlist", "bust_part", "bad_ticket", "big_headers", "forged_join"}

func newJunker(ctx context.Context, e *env, pipeline int) *junker {
	j := &junker{e: e, host: e.node.Host, pipeline: min(max(pipeline, 1), 64), byKind: map[string]map[string]int{}}
	j.playlist = e.playlistPath("")
	j.part = j.playlist
	j.join = "/api/spaces/" + e.spaceID + "/join"
	if m, err := e.fetchPlaylist(ctx, http.DefaultClient, ""); err == nil {
		uri := ""
		if len(m.Parts) > 0 {
			uri = m.Parts[len(m.Parts)-1].URI
		} else if n := len(m.Segments); n > 0 {
			uri = m.Segments[n-1].URI
		}
		if uri != "" {
			j.part = j.playlist[:strings.LastIndexByte(j.playlist, '/')+1] + uri
		}
	}
	return j
}

func randHex(r *rand.Rand, n int) string {
	return string(appendHex(nil, r, n))
}

func appendHex(b []byte, r *rand.Rand, n int) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < n; i++ {
		b = append(b, hex[r.IntN(16)])
	}
	return b
}

var (
	bigHeaders = "X-Junk: " + strings.Repeat("a", 64<<10) + "\r\nCookie: " + strings.Repeat("b=c; ", 2000) + "\r\n"
	junkUA     = "User-Agent: podium-loadtest-junk\r\n"
)

// appendRequest appends one junk request of a random kind to b. A kind
// after which the server closes the connection (big headers) is reported
// as last.
func (j *junker) appendRequest(b []byte, r *rand.Rand) (out []byte, kind string, last bool) {
	kind = junkKinds[r.IntN(len(junkKinds))]
	get := func(path ...string) {
		b = append(b, "GET "...)
		for _, p := range path {
			b = append(b, p...)
		}
		b = append(b, " HTTP/1.1\r\nHost: "...)
		b = append(b, j.host...)
		b = append(b, "\r\n"...)
		b = append(b, junkUA...)
	}
	switch kind {
	case "random_path":
		switch r.IntN(5) {
		case 0:
			get("/hls/", j.e.spaceID, "/", randHex(r, 8), ".m4s")
		case 1:
			get("/", randHex(r, 12))
		case 2:
			get("/api/spaces/sp_", randHex(r, 6))
		case 3:
			get("/hls/sp_", randHex(r, 6), "/index.m3u8")
		default:
			get("/hls/", j.e.spaceID, "/", strconv.Itoa(r.IntN(1<<30)), ".", strconv.Itoa(r.IntN(100)), ".m4s")
		}
	case "bust_playlist":
		get(j.playlist, "?cb=", randHex(r, 10))
	case "bust_part":
		get(j.part, "?v=", randHex(r, 10))
	case "bad_ticket":
		get(j.part)
		b = append(b, "X-Podium-Ticket: v1."...)
		b = appendHex(b, r, 40)
		b = append(b, '.')
		b = appendHex(b, r, 43)
		b = append(b, "\r\n"...)
	case "big_headers":
		get(j.playlist)
		b = append(b, bigHeaders...)
		last = true
	case "forged_join":
		body := `{"queue_token":"` + randHex(r, 64) + `"}`
		if r.IntN(2) == 0 {
			body = `{"ticket":"` + randHex(r, 64) + `"}`
		}
		b = append(b, "POST "...)
		b = append(b, j.join...)
		b = append(b, " HTTP/1.1\r\nHost: "...)
		b = append(b, j.host...)
		b = append(b, "\r\nContent-Type: application/json\r\n"...)
		b = append(b, junkUA...)
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n\r\n"...)
		return append(b, body...), kind, false
	}
	return append(b, "\r\n"...), kind, last
}

// appendBatch appends up to n junk requests to b, their kinds to kinds,
// ending early after one the server answers by closing (big headers).
func (j *junker) appendBatch(b []byte, kinds []string, r *rand.Rand, n int) ([]byte, []string) {
	for len(kinds) < n {
		var kind string
		var last bool
		b, kind, last = j.appendRequest(b, r)
		kinds = append(kinds, kind)
		if last {
			break
		}
	}
	return b, kinds
}

// run floods at rate requests/s with workers until ctx ends.
func (j *junker) run(ctx context.Context, rate float64) {
	// Enough connections that a batch waiting for its answers does not
	// hold the rest back: about 20 ms of traffic in flight per worker.
	workers := min(max(int(rate/float64(j.pipeline)/15), 16), 512)
	batches := make(chan struct{}, workers*2)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.worker(ctx, w, workers, batches)
		}()
	}
	tk := time.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	credit := 0.0
	per := float64(j.pipeline)
	last := time.Now()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case now := <-tk.C:
			// Credit by elapsed time: a ticker drops ticks when this
			// goroutine runs late, and the rate must not drop with them.
			credit += rate * now.Sub(last).Seconds()
			last = now
			for ; credit >= per; credit -= per {
				select {
				case batches <- struct{}{}:
				default:
					j.unsent.Add(int64(j.pipeline)) // the tool cannot keep up
				}
			}
		}
	}
	wg.Wait()
}

// junkConn is one worker's connection and its reader.
type junkConn struct {
	c       net.Conn
	br      *bufio.Reader
	batches int
}

// worker sends batches of junk on a connection from one source address,
// moving to a fresh address every 16 batches or when the server closes it.
func (j *junker) worker(ctx context.Context, w, workers int, batches <-chan struct{}) {
	r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	var jc *junkConn
	defer func() {
		if jc != nil {
			jc.c.Close()
		}
	}()
	buf := make([]byte, 0, 4096)
	kinds := make([]string, 0, j.pipeline)
	budget := 0 // requests this worker may send now
	for n := 0; ctx.Err() == nil; {
		if budget <= 0 {
			select {
			case <-ctx.Done():
				return
			case <-batches:
				budget += j.pipeline
			}
		}
		if jc == nil || jc.batches >= 16 {
			if jc != nil {
				jc.c.Close()
			}
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: Source(srcJunk + (w+n*workers)%15000)}, Timeout: 2 * time.Second}
			n++
			c, err := d.DialContext(ctx, "tcp", j.host)
			if err != nil {
				jc = nil
				j.count("dial", "neterr", budget)
				budget = 0
				continue
			}
			jc = &junkConn{c: c, br: bufio.NewReaderSize(c, 16<<10)}
		}
		buf, kinds = j.appendBatch(buf[:0], kinds[:0], r, budget)
		jc.batches++
		budget -= len(kinds)
		t0 := time.Now()
		jc.c.SetDeadline(t0.Add(5 * time.Second))
		_, err := jc.c.Write(buf)
		got := 0
		for err == nil && got < len(kinds) {
			var status int
			var closing bool
			status, closing, err = readResponse(jc.br)
			if err != nil {
				break
			}
			j.lat.Record(time.Since(t0))
			j.count(kinds[got], strconv.Itoa(status), 1)
			got++
			if closing {
				err = io.EOF
			}
		}
		j.sent.Add(int64(len(kinds)))
		if err != nil {
			if got < len(kinds) {
				st := "closed" // the server closed with requests unanswered
				if errors.Is(err, errBadResponse) {
					st = "badresponse"
				} else if isTimeout(err) {
					st = "timeout"
				}
				for _, k := range kinds[got:] {
					j.count(k, st, 1)
				}
			}
			j.closed.Add(1)
			jc.c.Close()
			jc = nil
		}
	}
}

var errBadResponse = errors.New("loadtest: malformed HTTP response")

// respHead is what a response's head says about its status and framing.
type respHead struct {
	status  int
	length  int64 // Content-Length; -1 when absent
	chunked bool
	close   bool // Connection: close
}

// readHead reads a response's status line and headers. keep, if not nil,
// sees every other header (name and value are only valid during the call).
func readHead(br *bufio.Reader, keep func(name, val []byte)) (respHead, error) {
	h := respHead{length: -1}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return h, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return h, errBadResponse
	}
	if h.status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return h, errBadResponse
	}
	for {
		l, err := br.ReadSlice('\n')
		if err != nil {
			return h, err
		}
		l = bytes.TrimRight(l, "\r\n")
		if len(l) == 0 {
			return h, nil
		}
		name, val, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		val = bytes.TrimSpace(val)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if h.length, err = strconv.ParseInt(string(val), 10, 64); err != nil || h.length < 0 || h.length > maxRawBody {
				return h, errBadResponse
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			h.chunked = bytes.EqualFold(val, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			h.close = bytes.EqualFold(val, []byte("close"))
		case keep != nil:
			keep(name, val)
		}
	}
}

// readResponse reads one HTTP/1.1 response and discards its body: the
// status, and whether the server will close the connection after it.
func readResponse(br *bufio.Reader) (status int, closing bool, err error) {
	h, err := readHead(br, nil)
	switch {
	case err != nil:
		return h.status, false, err
	case h.chunked:
		return h.status, true, errBadResponse // podium never chunks these answers
	case h.length >= 0:
		_, err = br.Discard(int(h.length))
		return h.status, h.close, err
	case h.status == http.StatusNoContent || h.status == http.StatusNotModified:
		return h.status, h.close, nil
	case h.close: // the body runs to the end of the connection, which we close
		return h.status, true, nil
	}
	return h.status, true, errBadResponse
}

func (j *junker) count(kind, status string, n int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.byKind[kind] == nil {
		j.byKind[kind] = map[string]int{}
	}
	j.byKind[kind][status] += n
}

// results are the flood's own numbers.
func (j *junker) results() map[string]any {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.lat.snapshot()
	return map[string]any{
		"junk_sent": j.sent.Load(), "junk_unsent_tool_behind": j.unsent.Load(), "junk_pipeline": j.pipeline,
		"junk_conns_closed": j.closed.Load(), "junk_by_kind_status": j.byKind, "junk_latency": c.quantiles(),
	}
}
