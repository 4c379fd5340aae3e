package geo

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/podium-live/podium/internal/policy"
)

// testDB writes a country database mapping 127.0.9.0/24 to DE and
// 127.0.10.0/24 to FR, and 127.0.11.0/24 to a record without a country.
func testDB(t testing.TB) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", IncludeReservedNetworks: true, RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, code := range map[string]string{"127.0.9.0/24": "DE", "127.0.10.0/24": "FR", "127.0.11.0/24": ""} {
		_, n, _ := net.ParseCIDR(cidr)
		rec := mmdbtype.Map{"continent": mmdbtype.Map{"code": mmdbtype.String("EU")}}
		if code != "" {
			rec["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(code)}
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "country.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTerritory(t *testing.T) {
	db := testDB(t)
	g, err := New(Config{Header: "cf-ipcountry", Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for _, tc := range []struct {
		name, remote, header string
		want                 policy.Territory
	}{
		{"trusted header", "127.0.0.1:5000", "DE", "DE"},
		{"trusted header lower case", "127.0.0.1:5000", "fr", "FR"},
		{"trusted header beats database", "127.0.0.1:5000", "IT", "IT"},
		{"trusted XX is unknown", "127.0.0.1:5000", "XX", policy.Unknown},
		{"trusted T1 (Tor) is unknown", "127.0.0.1:5000", "T1", policy.Unknown},
		{"trusted EU is unknown", "127.0.0.1:5000", "EU", policy.Unknown},
		{"trusted garbage is unknown", "127.0.0.1:5000", "Germany", policy.Unknown},
		{"untrusted header ignored, database DE", "127.0.9.7:5000", "FR", "DE"},
		{"untrusted header ignored, database FR", "127.0.10.7:5000", "DE", "FR"},
		{"untrusted header ignored, not in database", "127.0.0.2:5000", "DE", policy.Unknown},
		{"no header, database", "127.0.9.1:1", "", "DE"},
		{"record without country", "127.0.11.1:1", "", policy.Unknown},
		{"IPv4-mapped IPv6", "[::ffff:127.0.10.3]:1", "", "FR"},
		{"not in database", "192.0.2.1:1", "", policy.Unknown},
		{"unparsable address", "@", "", policy.Unknown},
	} {
		r := httptest.NewRequest(http.MethodPost, "/api/spaces/x/join", nil)
		r.RemoteAddr = tc.remote
		if tc.header != "" {
			r.Header.Set("CF-IPCountry", tc.header)
		}
		if got := g.Territory(r); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A header is believed only from the peer the Peer func names, not from
// the client address a proxy's X-Forwarded-For put in RemoteAddr.
func TestTerritoryPeer(t *testing.T) {
	proxy := netip.MustParseAddr("10.0.0.5")
	g, err := New(Config{Header: "X-Country-Code", Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Peer: func(*http.Request) netip.Addr { return proxy }})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "203.0.113.9:4000"
	r.Header.Set("X-Country-Code", "DE")
	if got := g.Territory(r); got != "DE" {
		t.Errorf("via trusted peer: got %q, want DE", got)
	}
	proxy = netip.MustParseAddr("203.0.113.1")
	if got := g.Territory(r); got != policy.Unknown {
		t.Errorf("via untrusted peer: got %q, want unknown", got)
	}
}

func TestNoSources(t *testing.T) {
	g, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("CF-IPCountry", "DE")
	if got := g.Territory(r); got != policy.Unknown {
		t.Errorf("got %q, want unknown", got)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBadDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.mmdb")
	if err := os.WriteFile(path, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Database: path}); err == nil {
		t.Error("a corrupt database opened")
	}
	if _, err := New(Config{Database: filepath.Join(t.TempDir(), "missing.mmdb")}); err == nil {
		t.Error("a missing database opened")
	}
}

func BenchmarkTerritory(b *testing.B) {
	g, err := New(Config{Database: testDB(b)})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "127.0.9.7:5000"
	b.ReportAllocs()
	for b.Loop() {
		if g.Territory(r) != "DE" {
			b.Fatal("wrong territory")
		}
	}
}
