package app

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/podium-live/podium/internal/policy"
)

// mutablePolicies is a policy source a test changes as it goes.
type mutablePolicies struct {
	mu sync.Mutex
	m  map[string]*policy.Policy
}

func (s *mutablePolicies) Policy(space string) *policy.Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[space]
}

func (s *mutablePolicies) set(space string, p *policy.Policy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*policy.Policy{}
	}
	s.m[space] = p
}

// countryDB writes a country database: 127.0.9.0/24 DE, 127.0.10.0/24 FR.
func countryDB(t testing.TB) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, code := range map[string]string{"127.0.9.0/24": "DE", "127.0.10.0/24": "FR"} {
		_, n, _ := net.ParseCIDR(cidr)
		if err := tree.Insert(n, mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(code)}}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "country.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}

// joinAs posts a join from source address src with a country header (if
// any) and decodes the answer.
func joinAs(t *testing.T, n *node, src, country, id string, body map[string]any) (int, map[string]any) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	defer c.CloseIdleConnections()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", n.base+"/api/spaces/"+id+"/join", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if country != "" {
		req.Header.Set("X-Country-Code", country)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestJoinTerritoryAndView: join resolves the territory once (trusted
// proxy's header, else the database, else unknown), the ticket keeps it,
// and a renewal answers the view the policy gives it now.
func TestJoinTerritoryAndView(t *testing.T) {
	src := &mutablePolicies{}
	testPolicies = src
	defer func() { testPolicies = nil }()
	cfg := testConfig(t)
	cfg.TrustedProxies = []string{"127.0.0.1/32"}
	cfg.Geo.CountryHeader = "X-Country-Code"
	cfg.Geo.Database = countryDB(t)
	n := runNode(t, cfg)
	sp := n.createSpace(t)
	id := sp.Space.ID
	n.api(t, "POST", "/api/spaces/"+id+"/start", sp.HostToken, nil, nil)

	tickets := map[string]string{}
	for _, tc := range []struct{ name, src, header, want string }{
		{"proxy says DE", "127.0.0.1", "DE", "DE"},
		{"proxy says XX", "127.0.0.1", "XX", ""},
		{"client in DE claims FR", "127.0.9.4", "FR", "DE"},
		{"client in FR", "127.0.10.4", "", "FR"},
		{"client nowhere claims DE", "127.0.0.2", "DE", ""},
	} {
		st, d := joinAs(t, n, tc.src, tc.header, id, nil)
		if st != http.StatusOK || d["territory"] != tc.want || d["view"] != policy.None {
			t.Fatalf("%s: %d %v, want territory %q view 0", tc.name, st, d, tc.want)
		}
		if d["playlist_url"] != n.base+"/hls/"+id+"/index.m3u8" {
			t.Errorf("%s: playlist_url %v", tc.name, d["playlist_url"])
		}
		tickets[tc.name] = d["ticket"].(string)
	}
	// Withhold a passage in DE: DE's renewal (from an address in FR, with
	// a header saying FR: the ticket's territory holds) learns its new
	// view; FR keeps view 0; unknown gets the strictest.
	p := policy.New(id, []policy.Restriction{{ID: "r1", Kind: policy.WithholdRange, From: time.Second, To: 2 * time.Second,
		Territories: []policy.Territory{"DE"}}}, time.Now(), policy.Strictest)
	src.set(id, p)
	de := p.For("DE").ID
	if de == policy.None {
		t.Fatal("DE's view is 0")
	}
	for name, want := range map[string]string{"proxy says DE": de, "client in DE claims FR": de, "client in FR": policy.None, "proxy says XX": p.For(policy.Unknown).ID} {
		st, d := joinAs(t, n, "127.0.10.9", "FR", id, map[string]any{"ticket": tickets[name]})
		if st != http.StatusOK || d["view"] != want {
			t.Errorf("renewal of %s: %d %v, want view %s", name, st, d, want)
		}
		if want != policy.None && d["playlist_url"] != n.base+"/hls/"+id+"/"+want+"/index.m3u8" {
			t.Errorf("renewal of %s: playlist_url %v", name, d["playlist_url"])
		}
	}
	// A new join from DE gets DE's view at once.
	if _, d := joinAs(t, n, "127.0.9.8", "", id, nil); d["view"] != de || d["territory"] != "DE" {
		t.Errorf("new DE join: %v, want view %s", d, de)
	}
}
