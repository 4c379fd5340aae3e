package loadtest

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// junker sends flood traffic: requests no player makes, from many source
// addresses. Each kind probes one layer of the server's defences.
type junker struct {
	e        *env
	playlist string // the real playlist URL
	part     string // a real part URL
	join     string // the join URL

	sent, unsent atomic.Int64
	lat          hist

	mu     sync.Mutex // guards byKind
	byKind map[string]map[string]int
}

var junkKinds = []string{"random_path", "bust_playlist", "bust_part", "bad_ticket", "big_headers", "forged_join"}

func newJunker(ctx context.Context, e *env) *junker {
	j := &junker{e: e, byKind: map[string]map[string]int{}}
	j.playlist = e.node.String() + e.playlistPath("")
	j.part = j.playlist
	j.join = e.node.JoinPath("api", "spaces", e.spaceID, "join").String()
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
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hex[r.IntN(16)]
	}
	return string(b)
}

// request builds one junk request of a random kind.
func (j *junker) request(ctx context.Context, r *rand.Rand) (string, *http.Request) {
	kind := junkKinds[r.IntN(len(junkKinds))]
	var req *http.Request
	switch kind {
	case "random_path":
		paths := []string{
			"/hls/" + j.e.spaceID + "/" + randHex(r, 8) + ".m4s",
			"/" + randHex(r, 12),
			"/api/spaces/sp_" + randHex(r, 6),
			"/hls/sp_" + randHex(r, 6) + "/index.m3u8",
			"/hls/" + j.e.spaceID + "/" + strconv.Itoa(r.IntN(1<<30)) + "." + strconv.Itoa(r.IntN(100)) + ".m4s",
		}
		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, j.e.node.String()+paths[r.IntN(len(paths))], nil)
	case "bust_playlist":
		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, j.playlist+"?cb="+randHex(r, 10), nil)
	case "bust_part":
		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, j.part+"?v="+randHex(r, 10), nil)
	case "bad_ticket":
		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, j.part, nil)
		req.Header.Set("X-Podium-Ticket", "v1."+randHex(r, 40)+"."+randHex(r, 43))
	case "big_headers":
		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, j.playlist, nil)
		req.Header.Set("X-Junk", strings.Repeat("a", 64<<10))
		req.Header.Set("Cookie", strings.Repeat("b=c; ", 2000))
	case "forged_join":
		body := `{"queue_token":"` + randHex(r, 64) + `"}`
		if r.IntN(2) == 0 {
			body = `{"ticket":"` + randHex(r, 64) + `"}`
		}
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, j.join, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "podium-loadtest-junk")
	return kind, req
}

// run floods at rate requests/s with workers until ctx ends.
func (j *junker) run(ctx context.Context, rate float64) {
	workers := min(max(int(rate/5), 32), 1024) // slow kinds (431s) must not starve the rest
	tokens := make(chan struct{}, workers*2)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.worker(ctx, w, workers, tokens)
		}()
	}
	tk := time.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	credit := 0.0
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tk.C:
			credit += rate / 100
			for ; credit >= 1; credit-- {
				select {
				case tokens <- struct{}{}:
				default:
					j.unsent.Add(1) // the tool cannot keep up
				}
			}
		}
	}
	wg.Wait()
}

// worker sends junk on a keep-alive connection from one source address,
// moving to a fresh address every 20 requests.
func (j *junker) worker(ctx context.Context, w, workers int, tokens <-chan struct{}) {
	r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	var tr *http.Transport
	var hc *http.Client
	for n := 0; ; n++ {
		if n%20 == 0 {
			if tr != nil {
				tr.CloseIdleConnections()
			}
			tr = newTransport(Source(srcJunk + (w+n/20*workers)%15000))
			hc = &http.Client{Transport: tr, Timeout: 5 * time.Second}
		}
		select {
		case <-ctx.Done():
			tr.CloseIdleConnections()
			return
		case <-tokens:
		}
		kind, req := j.request(ctx, r)
		t0 := time.Now()
		resp, err := hc.Do(req)
		j.sent.Add(1)
		st := "neterr"
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			st = strconv.Itoa(resp.StatusCode)
			j.lat.Record(time.Since(t0))
		}
		j.mu.Lock()
		if j.byKind[kind] == nil {
			j.byKind[kind] = map[string]int{}
		}
		j.byKind[kind][st]++
		j.mu.Unlock()
	}
}

// results are the flood's own numbers.
func (j *junker) results() map[string]any {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.lat.snapshot()
	return map[string]any{"junk_sent": j.sent.Load(), "junk_unsent_tool_behind": j.unsent.Load(), "junk_by_kind_status": j.byKind, "junk_latency": c.quantiles()}
}
