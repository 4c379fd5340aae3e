package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/podium-live/podium/internal/geo"
	"github.com/podium-live/podium/internal/policy"
)

// The country header is believed from the trusted proxy even after RealIP
// rewrote RemoteAddr to the client behind it (Peer keeps the proxy), and
// from nobody else, whatever X-Forwarded-For they send.
func TestCountryHeaderOnlyFromTrustedProxy(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	g, err := geo.New(geo.Config{Header: "X-Country-Code", Trusted: trusted, Peer: Peer})
	if err != nil {
		t.Fatal(err)
	}
	var got policy.Territory
	h := RealIP(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = g.Territory(r) }))
	for _, tc := range []struct {
		name, remote, xff string
		want              policy.Territory
	}{
		{"through the proxy", "127.0.0.1:40000", "203.0.113.1", "DE"},
		{"through the proxy, no forwarded-for", "127.0.0.1:40000", "", "DE"},
		{"direct client", "198.51.100.7:5555", "", policy.Unknown},
		{"direct client naming the proxy", "198.51.100.7:5555", "127.0.0.1", policy.Unknown},
	} {
		r := httptest.NewRequest(http.MethodPost, "/api/spaces/x/join", nil)
		r.RemoteAddr = tc.remote
		r.Header.Set("X-Country-Code", "DE")
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		got = "?"
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
