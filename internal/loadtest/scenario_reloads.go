package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// reloadRound is one round of identical blocking reloads.
type reloadRound struct {
	MSN       int            `json:"msn"`
	Part      int            `json:"part"`
	Answers   int            `json:"answers_200"`
	Statuses  map[string]int `json:"statuses"`
	Latency   Quantiles      `json:"latency"`
	SpreadMs  float64        `json:"spread_ms"` // first to last 200 answer
	FarFuture map[string]int `json:"far_future_statuses"`
}

// runReloads sends cfg.Conns identical blocking playlist requests for the
// next part at once, cfg.Parts times, each round followed by as many
// far-future requests, which must be refused (400) at once.
func runReloads(ctx context.Context, e *env) (map[string]any, error) {
	e.setPhase("reloads")
	n := min(e.cfg.Conns, MaxConns)
	clients := make([]*http.Client, n)
	for i := range clients {
		tr := newTransport(Source(srcReload + i))
		defer tr.CloseIdleConnections()
		clients[i] = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	var tk string
	if !e.noAdmission.Load() {
		l := newListener(e, srcReload+n, "reloads")
		jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if res, err := l.join(jctx); err == nil && res.ticket != nil {
			tk = res.ticket.token
		}
		cancel()
	}
	m, err := e.fetchPlaylist(ctx, clients[0], "")
	if err != nil {
		return nil, err
	}
	msn, part := nextPart(m)
	var rounds []reloadRound
	var far hist
	farStatus := map[string]int{}
	for r := 0; r < e.cfg.Parts && time.Since(e.start) < e.cfg.Duration && ctx.Err() == nil; r++ {
		rd := reloadRound{MSN: msn, Part: part, Statuses: map[string]int{}, FarFuture: map[string]int{}}
		q := "_HLS_msn=" + strconv.Itoa(msn) + "&_HLS_part=" + strconv.Itoa(part)
		var h hist
		var first, last time.Time
		var body []byte
		var mu sync.Mutex
		burst(ctx, e, clients, q, tk, func(status int, d time.Duration, at time.Time, b []byte) {
			h.Record(d)
			mu.Lock()
			defer mu.Unlock()
			rd.Statuses[statusName(status)]++
			if status == http.StatusOK {
				rd.Answers++
				if first.IsZero() || at.Before(first) {
					first = at
				}
				if at.After(last) {
					last = at
				}
				if body == nil {
					body = b
				}
			}
		})
		c := h.snapshot()
		rd.Latency = c.quantiles()
		if !first.IsZero() {
			rd.SpreadMs = ms(last.Sub(first))
		}
		// Far future: far beyond anything produced soon.
		fq := "_HLS_msn=" + strconv.Itoa(msn+1000) + "&_HLS_part=0"
		burst(ctx, e, clients, fq, tk, func(status int, d time.Duration, _ time.Time, _ []byte) {
			far.Record(d)
			mu.Lock()
			defer mu.Unlock()
			rd.FarFuture[statusName(status)]++
			farStatus[statusName(status)]++
		})
		rounds = append(rounds, rd)
		if body == nil {
			return nil, fmt.Errorf("loadtest: no answer for part %d.%d: %v", msn, part, rd.Statuses)
		}
		pl, err := playlist.Unmarshal(body)
		if m, ok := pl.(*playlist.Media); err == nil && ok {
			msn, part = nextPart(m)
		}
	}
	// The same far-future request one at a time on one warm connection:
	// what refusing it costs the server, without the burst's queueing.
	var serial hist
	for i := 0; i < 200 && ctx.Err() == nil; i++ {
		burst(ctx, e, clients[:1], "_HLS_msn="+strconv.Itoa(msn+1000)+"&_HLS_part=0", tk, func(status int, d time.Duration, _ time.Time, _ []byte) {
			serial.Record(d)
			farStatus[statusName(status)]++
		})
	}
	sc := serial.snapshot()
	fc := far.snapshot()
	under := 0.0
	if n := fc.n(); n > 0 {
		var below int64
		for i, v := range fc.B {
			if histUpper(i) <= time.Millisecond {
				below += v
			}
		}
		under = float64(below) / float64(n)
	}
	return map[string]any{
		"conns": n, "rounds": rounds,
		"far_future_statuses": farStatus, "far_future_latency": fc.quantiles(),
		"far_future_share_under_1ms": under,
		"far_future_serial_latency":  sc.quantiles(),
	}, nil
}

// burst sends one GET of the playlist with query q on every client at
// once and reports each answer.
func burst(ctx context.Context, e *env, clients []*http.Client, q, ticket string, got func(status int, d time.Duration, at time.Time, body []byte)) {
	u := e.node.String() + e.playlistPath("") + "?" + q
	var wg sync.WaitGroup
	startGate := make(chan struct{})
	for _, hc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if ticket != "" {
				req.Header.Set("X-Podium-Ticket", ticket)
			}
			<-startGate
			t0 := time.Now()
			resp, err := hc.Do(req)
			e.st.requests.Add(1)
			if err != nil {
				e.st.netErrors.Add(1)
				got(0, time.Since(t0), time.Now(), nil)
				return
			}
			d := time.Since(t0)
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			got(resp.StatusCode, d, time.Now(), b)
		}()
	}
	close(startGate)
	wg.Wait()
}

// nextPart is the first part m does not list yet: what a blocking reload
// asks for.
func nextPart(m *playlist.Media) (msn, part int) {
	msn = m.MediaSequence + len(m.Segments)
	if m.PreloadHint != nil {
		var a, b int
		if _, err := fmt.Sscanf(m.PreloadHint.URI, "%d.%d.m4s", &a, &b); err == nil {
			return a, b
		}
	}
	return msn, len(m.Parts)
}

func statusName(s int) string {
	if s == 0 {
		return "neterr"
	}
	return strconv.Itoa(s)
}
