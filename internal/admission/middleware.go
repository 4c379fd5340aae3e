package admission

import (
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// Middleware returns next wrapped in admission control, cheapest rejection
// first:
//
//  1. classify the request (classify must be cheap: the path, and whether
//     a ticket or a bearer credential is valid for the space in the path;
//     a credential that does not verify is anonymous). classify also names
//     the verified credential of requests limited per credential (stage
//     joins), "" for the rest;
//  2. if limiter (may be nil) refuses the client: 429 with Retry-After,
//     and the connection is closed after it (nothing the client pipelined
//     behind it is parsed);
//  3. if its class is being shed: 503, Retry-After 1-5 s (jittered so shed
//     clients do not come back together), a short JSON body; except joins
//     under ManagerConfig.JoinsWait, which go on to the waiting line;
//  4. otherwise serve it and, unless ManagerConfig.LatencyExempt says not to,
//     observe how long it took.
//
// The client is r.RemoteAddr. Behind a trusted reverse proxy the HTTP
// layer rewrites it to the client the proxy names (httpapi.RealIP, for the
// configured trusted_proxies only) before this middleware runs.
// A RemoteAddr that does not parse (a unix socket) shares one bucket.
//
// Rejections write preallocated headers and body; they do not allocate
// beyond what net/http's header map needs.
func (m *Manager) Middleware(classify func(*http.Request) (Class, string), limiter *Limiter, next http.Handler) http.Handler {
	return &guard{m: m, classify: classify, limiter: limiter, next: next}
}

type guard struct {
	m        *Manager
	classify func(*http.Request) (Class, string)
	limiter  *Limiter
	next     http.Handler
}

// Preallocated rejection headers and bodies. net/http does not modify header
// value slices, so sharing them is safe.
var (
	overloadedBody  = []byte(`{"error":"overloaded, retry later","code":"overloaded"}` + "\n")
	rateLimitedBody = []byte(`{"error":"too many requests, retry later","code":"rate_limited"}` + "\n")
	jsonType        = []string{"application/json"}
	noStore         = []string{"no-store"}
	connClose       = []string{"close"}
	retryValues     = func() (v [61][]string) { // index: seconds
		for i := range v {
			v[i] = []string{strconv.Itoa(i)}
		}
		return v
	}()
)

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, key := g.classify(r)
	c = c.valid()
	cc := &g.m.counters[c]
	cc.requests.Add(1)
	// The limiter comes before shedding although it costs more (a table
	// lookup against an atomic load): a client over its limit loses its
	// connection, so whatever it pipelined behind this request is never
	// parsed, where a shed answer would keep the connection and go on to
	// the next of its requests.
	if g.limiter != nil {
		ap, _ := netip.ParseAddrPort(r.RemoteAddr)
		if ok, wait := g.limiter.Allow(ap.Addr(), c, key, g.m.now()); !ok {
			cc.limited.Add(1)
			secs := int((wait + time.Second - 1) / time.Second)
			w.Header()["Connection"] = connClose
			reject(w, http.StatusTooManyRequests, min(max(secs, 1), len(retryValues)-1), rateLimitedBody)
			return
		}
	}
	if g.m.Shedding(c) {
		if c != ClassJoin || !g.m.cfg.JoinsWait || g.m.Level() >= MaxLevel {
			cc.shed.Add(1)
			reject(w, http.StatusServiceUnavailable, 1+rand.IntN(5), overloadedBody)
			return
		}
		cc.waited.Add(1)
	}
	if ex := g.m.cfg.LatencyExempt; ex != nil && ex(r) {
		g.next.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	g.next.ServeHTTP(w, r)
	g.m.Observe(c, time.Since(start))
}

func reject(w http.ResponseWriter, status, retrySecs int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Cache-Control"] = noStore
	h["Retry-After"] = retryValues[retrySecs]
	w.WriteHeader(status)
	w.Write(body)
}
