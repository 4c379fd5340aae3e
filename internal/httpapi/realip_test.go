package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestRealIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	var got string
	h := RealIP(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }))
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct client, header ignored", "198.51.100.7:5555", []string{"203.0.113.1"}, "198.51.100.7:5555"},
		{"through the proxy", "127.0.0.1:40000", []string{"203.0.113.1"}, "203.0.113.1:0"},
		{"client spoofs a left entry", "127.0.0.1:40000", []string{"1.2.3.4, 203.0.113.1"}, "203.0.113.1:0"},
		{"two trusted hops", "10.1.1.1:80", []string{"203.0.113.9, 10.2.2.2"}, "203.0.113.9:0"},
		{"several headers", "10.1.1.1:80", []string{"1.1.1.1", "203.0.113.5, 10.3.3.3"}, "203.0.113.5:0"},
		{"ipv6 client", "127.0.0.1:1", []string{"2001:db8::5"}, "[2001:db8::5]:0"},
		{"address with port", "127.0.0.1:1", []string{"203.0.113.8:4711"}, "203.0.113.8:0"},
		{"garbage from the right stops the walk", "127.0.0.1:1", []string{"203.0.113.1, junk"}, "127.0.0.1:1"},
		{"only trusted entries", "127.0.0.1:1", []string{"10.9.9.9, 10.8.8.8"}, "10.9.9.9:0"},
		{"no header", "127.0.0.1:1", nil, "127.0.0.1:1"},
		{"empty header", "127.0.0.1:1", []string{" , "}, "127.0.0.1:1"},
		// A proxy chain is read 16 entries deep at most: the client is
		// then the deepest trusted entry read.
		{"endless trusted chain", "127.0.0.1:1", []string{strings.Repeat("10.0.0.99, ", 20) + "10.0.0.16, 10.0.0.15, 10.0.0.14, 10.0.0.13, 10.0.0.12, 10.0.0.11, 10.0.0.10, 10.0.0.9, 10.0.0.8, 10.0.0.7, 10.0.0.6, 10.0.0.5, 10.0.0.4, 10.0.0.3, 10.0.0.2, 10.0.0.1"}, "10.0.0.16:0"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tt.want {
			t.Errorf("%s: client %s, want %s", tt.name, got, tt.want)
		}
	}
	// No trusted networks: the handler is next itself.
	next := http.NotFoundHandler()
	if h := RealIP(nil, next); h == nil {
		t.Error("nil handler")
	}
}

// FuzzForwardedClient: any X-Forwarded-For headers give either no client
// or a valid, unmapped address written in them among the last
// maxForwardHops entries; RealIP then leaves a RemoteAddr that parses.
func FuzzForwardedClient(f *testing.F) {
	for _, s := range [][2]string{{"203.0.113.1", ""}, {"1.2.3.4, 10.0.0.1", "10.2.2.2"}, {"junk, 10.0.0.1", ""},
		{"[2001:db8::1]:80", "::ffff:10.0.0.1"}, {"fe80::1%eth0", ""}, {strings.Repeat("10.0.0.9,", 40), ","}} {
		f.Add(s[0], s[1])
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		return trusted[0].Contains(a) || trusted[1].Contains(a)
	}
	var got string
	h := RealIP(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }))
	f.Fuzz(func(t *testing.T, a, b string) {
		c, ok := forwardedClient([]string{a, b}, isTrusted)
		if ok {
			if !c.IsValid() || c.Is4In6() {
				t.Fatalf("client %v from %q %q", c, a, b)
			}
			// The client is one of the entries read.
			var entries []string
			for _, hdr := range []string{a, b} {
				for _, e := range strings.Split(hdr, ",") {
					if e = strings.TrimSpace(e); e != "" {
						entries = append(entries, e)
					}
				}
			}
			if len(entries) > maxForwardHops {
				entries = entries[len(entries)-maxForwardHops:]
			}
			found := false
			for _, e := range entries {
				x, err := netip.ParseAddr(e)
				if err != nil {
					ap, err2 := netip.ParseAddrPort(e)
					if err2 != nil {
						continue
					}
					x = ap.Addr()
				}
				if x.Unmap() == c {
					found = true
				}
			}
			if !found {
				t.Fatalf("client %v is not among the last %d entries of %q %q", c, maxForwardHops, a, b)
			}
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "127.0.0.1:9"
		r.Header.Add("X-Forwarded-For", a)
		r.Header.Add("X-Forwarded-For", b)
		h.ServeHTTP(httptest.NewRecorder(), r)
		if _, err := netip.ParseAddrPort(got); err != nil {
			t.Fatalf("RemoteAddr %q after %q %q does not parse: %v", got, a, b, err)
		}
	})
}
