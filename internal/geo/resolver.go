package geo

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/podium-live/podium/internal/policy"
)

// Config says where a territory may come from.
type Config struct {
	// Header is the country header a trusted proxy or CDN sets (for
	// example CF-IPCountry or X-Country-Code); empty: no header is read.
	Header string
	// Trusted are the networks of the proxies whose Header is believed.
	// From anyone else the header is ignored: a client cannot choose its
	// territory by sending it.
	Trusted []netip.Prefix
	// Database is the path of a MaxMind-format country database (GeoLite2
	// or GeoIP2 Country, or any database with country.iso_code); empty:
	// none. It is opened once by New: a new file takes effect at the next
	// start (it is not reloaded on SIGHUP).
	Database string
	// Peer gives the address the request's connection came from, before
	// any X-Forwarded-For rewriting (httpapi.Peer); nil: r.RemoteAddr.
	Peer func(*http.Request) netip.Addr
}

// Resolver resolves a request's territory: the trusted header, else the
// database for the client's address (r.RemoteAddr, which httpapi.RealIP
// has already set to the client behind a trusted proxy), else
// policy.Unknown. It is safe for concurrent use and immutable once made.
type Resolver struct {
	header  string
	trusted []netip.Prefix
	peer    func(*http.Request) netip.Addr
	db      *maxminddb.Reader
}

// New opens the database, if any.
func New(cfg Config) (*Resolver, error) {
	r := &Resolver{header: http.CanonicalHeaderKey(strings.TrimSpace(cfg.Header)), trusted: cfg.Trusted, peer: cfg.Peer}
	if r.peer == nil {
		r.peer = remoteAddr
	}
	if cfg.Database != "" {
		db, err := maxminddb.Open(cfg.Database)
		if err != nil {
			return nil, fmt.Errorf("geo: country database: %w", err)
		}
		r.db = db
	}
	return r, nil
}

// Close releases the database.
func (g *Resolver) Close() error {
	if g.db == nil {
		return nil
	}
	return g.db.Close()
}

// Territory implements httpapi.Territories. A trusted proxy's header is
// final: a value that is not an assigned ISO 3166-1 code (Cloudflare's XX
// for unknown and T1 for Tor, a region code like EU) is policy.Unknown, not
// a reason to ask the database about the proxy's client.
func (g *Resolver) Territory(r *http.Request) policy.Territory {
	if g.header != "" && g.trustedPeer(r) {
		if v, ok := r.Header[g.header]; ok && len(v) > 0 {
			return parse(strings.TrimSpace(v[0]))
		}
	}
	if g.db == nil {
		return policy.Unknown
	}
	a := remoteAddr(r)
	if !a.IsValid() {
		return policy.Unknown
	}
	return g.lookup(a)
}

// country is the part of a country database record that is read.
type country struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
}

func (g *Resolver) lookup(a netip.Addr) policy.Territory {
	var c country
	res := g.db.Lookup(a.Unmap())
	if !res.Found() {
		return policy.Unknown
	}
	if err := res.Decode(&c); err != nil {
		return policy.Unknown
	}
	return parse(c.Country.ISOCode)
}

func (g *Resolver) trustedPeer(r *http.Request) bool {
	a := g.peer(r)
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range g.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func parse(s string) policy.Territory {
	t, err := policy.ParseTerritory(s)
	if err != nil {
		return policy.Unknown
	}
	return t
}

func remoteAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr()
	}
	a, _ := netip.ParseAddr(r.RemoteAddr)
	return a
}
