package loadtest

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/podium-live/podium/internal/hls/hlsclient"
)

// A listener is one simulated member of the audience: one goroutine and
// one keep-alive connection from its own source address. It joins through
// admission (waiting room, challenges), then plays like hls.js: blocking
// playlist reloads and part fetches with its ticket, and it measures its
// own experience with a Playout model.
type listener struct {
	e     *env
	id    int
	group string
	tr    *rawTransport
	raw   *http.Client // joins and renewals
	hc    *http.Client // media, with the ticket

	ticket atomic.Pointer[ticket] // nil: none (or the node has no admission)
	lost   atomic.Bool            // the node refused the ticket: join again
	state  atomic.Int32

	mu     sync.Mutex // guards play and stopAt
	play   Playout
	stopAt time.Time // when the listener stopped; nothing is accounted after
	stalls int       // stalls reported so far
	wantAt time.Time // when it wanted to start listening (set before run)
	first  time.Time // when its first part arrived

	cancel   context.CancelFunc
	stopping bool // guarded by pool.mu
	done     chan struct{}
}

type ticket struct {
	token           string
	issued, expires time.Time
}

// Listener states, for the gauges.
const (
	stateJoining = iota
	stateQueued
	statePlaying
	stateDone
)

func (l *listener) setState(s int32) {
	old := l.state.Swap(s)
	if old == s {
		return
	}
	g := &l.e.st
	for _, d := range []struct {
		s   int32
		add int64
	}{{old, -1}, {s, 1}} {
		switch d.s {
		case stateQueued:
			g.queuedNow.Add(d.add)
		case statePlaying:
			g.playingNow.Add(d.add)
		}
	}
}

// newTransport is a client transport whose connections come from src.
func newTransport(src net.IP) *http.Transport {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

func newListener(e *env, id int, group string) *listener {
	l := &listener{e: e, id: id, group: group, tr: newRawTransport(ListenerSource(id)), done: make(chan struct{})}
	l.raw = &http.Client{Transport: l.tr, Timeout: 15 * time.Second}
	// No client Timeout: it costs a timer and a goroutine per request; the
	// raw transport bounds every request itself (rawTimeout).
	l.hc = &http.Client{Transport: mediaTransport{l}}
	return l
}

// run is the listener's life: join, play, and on failure back off and
// come back, until ctx ends.
func (l *listener) run(ctx context.Context) {
	e := l.e
	defer close(l.done)
	defer l.tr.CloseIdleConnections()
	defer l.setState(stateDone)
	defer func() {
		l.mu.Lock()
		l.stopAt = time.Now()
		l.mu.Unlock()
	}()
	e.st.activeNow.Add(1)
	defer e.st.activeNow.Add(-1)
	want := l.wantAt
	var playlist string
	attempt := 0
	for ctx.Err() == nil {
		if playlist == "" || l.lost.Load() {
			l.lost.Store(false)
			l.setState(stateJoining)
			e.st.joins.Add(1)
			res, err := l.join(ctx)
			if err != nil && !errors.Is(err, errNoAdmission) {
				return
			}
			e.recordAdmission(l.group, time.Since(want))
			l.ticket.Store(res.ticket)
			playlist = e.base.String() + res.playlist
		}
		l.setState(statePlaying)
		p := &hlsclient.Player{HTTP: l.hc, OnMedia: l.media, StartBehind: 3, SkipParse: true}
		t0 := time.Now()
		err := p.Play(ctx, playlist)
		if ctx.Err() != nil || err == nil {
			return // done, or the space ended
		}
		e.st.playErrors.Add(1)
		e.noteError(err)
		if time.Since(t0) > 30*time.Second {
			attempt = 0
		}
		l.setState(stateJoining)
		if !sleepCtx(ctx, defaultBackoff.Delay(attempt, 0)) {
			return
		}
		attempt++
	}
}

// media is the player's OnMedia: a part of duration d arrived now.
func (l *listener) media(d time.Duration) {
	now := time.Now()
	l.mu.Lock()
	if l.first.IsZero() {
		l.first = now
	}
	l.play.Part(now, d)
	l.mu.Unlock()
}

// offered is how long the listener wanted to listen up to now: from
// wanting to start (join and queue included) to now or its stop.
func (l *listener) offered(now time.Time) (offered, listened, stalled time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	end := now
	if !l.stopAt.IsZero() && end.After(l.stopAt) {
		end = l.stopAt
	}
	return end.Sub(l.wantAt), l.play.Listened, l.play.Stalled
}

// account advances the listener's playout to now.
func (l *listener) account(now time.Time) (listened, stalled time.Duration, stalls int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopAt.IsZero() && now.After(l.stopAt) {
		now = l.stopAt
	}
	li, st := l.play.Advance(now)
	n := l.play.Stalls - l.stalls
	l.stalls = l.play.Stalls
	return li, st, n
}

// mediaTransport adds the ticket to every media request, renews it in
// time, and measures part latency (time to the response headers).
type mediaTransport struct{ l *listener }

func (m mediaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	l := m.l
	st := &l.e.st
	isPart := strings.HasSuffix(req.URL.Path, ".m4s")
	if isPart {
		// A player's small, irregular think time between playlist and part.
		if !sleepCtx(req.Context(), time.Duration(rand.Int64N(int64(3*time.Millisecond)))) {
			return nil, req.Context().Err()
		}
	}
	if t := l.ticket.Load(); t != nil {
		if !t.expires.IsZero() && time.Now().After(t.issued.Add(t.expires.Sub(t.issued)*7/10)) {
			l.renew(req.Context(), t)
			t = l.ticket.Load()
		}
		req = req.Clone(req.Context())
		req.Header.Set("X-Podium-Ticket", t.token)
	}
	t0 := time.Now()
	resp, err := l.tr.RoundTrip(req)
	st.requests.Add(1)
	if err != nil {
		if req.Context().Err() == nil {
			st.netErrors.Add(1)
		}
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		l.lost.Store(true)
		st.status4xx.Add(1)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		st.shed.Add(1)
	case resp.StatusCode >= 500:
		st.status5xx.Add(1)
	case resp.StatusCode >= 400:
		st.status4xx.Add(1)
	}
	if isPart && resp.StatusCode == http.StatusOK {
		st.partLat.Record(time.Since(t0))
	}
	return resp, nil
}

// pool holds the running listeners.
type pool struct {
	e    *env
	mu   sync.Mutex // guards all
	all  []*listener
	wg   sync.WaitGroup
	next atomic.Int64 // listener ids, which pick source addresses
}

// start launches a listener of group under ctx.
func (p *pool) start(ctx context.Context, group string) *listener {
	l := newListener(p.e, int(p.next.Add(1)-1)+p.e.srcOffset, group)
	l.wantAt = time.Now()
	lctx, cancel := context.WithCancel(ctx)
	l.cancel = cancel
	p.mu.Lock()
	p.all = append(p.all, l)
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		l.run(lctx)
	}()
	return l
}

// stopNewest stops the most recently started listener still running.
func (p *pool) stopNewest() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.all) - 1; i >= 0; i-- {
		l := p.all[i]
		if l.stopping {
			continue
		}
		l.stopping = true
		l.cancel()
		return
	}
}

// snapshot lists every listener started.
func (p *pool) snapshot() []*listener {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*listener(nil), p.all...)
}

// stopAll stops every listener and waits for them.
func (p *pool) stopAll() {
	for _, l := range p.snapshot() {
		l.cancel()
	}
	p.wg.Wait()
}
