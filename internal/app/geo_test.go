package app

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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

// getAs GETs path from 127.0.0.1 (the trusted proxy) saying country.
func getAs(t *testing.T, n *node, path, token, country string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", path, nil)
	if !strings.HasPrefix(path, "http") {
		req, _ = http.NewRequest("GET", n.base+path, nil)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("X-Country-Code", country)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestRecordingViews: GET …/recording tells each territory its view,
// what it withholds and where to play it; the replay serves that view and
// refuses the other with 409.
func TestRecordingViews(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	src := &mutablePolicies{}
	testPolicies = src
	defer func() { testPolicies = nil }()
	cfg := testConfig(t)
	cfg.TrustedProxies = []string{"127.0.0.1/32"}
	cfg.Geo.CountryHeader = "X-Country-Code"
	n := runNode(t, cfg)
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	speaker := n.invite(t, id, host, "Sam")
	n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil)
	s := n.speak(t, id, speaker, "Sam", 440, 0, nil)
	time.Sleep(2500 * time.Millisecond)
	s.stop()
	n.api(t, "POST", "/api/spaces/"+id+"/end", host, nil, nil)

	rs := []policy.Restriction{{ID: "puid-1", Kind: policy.WithholdRange, From: time.Second, To: 1500 * time.Millisecond,
		Territories: []policy.Territory{"DE"}, Text: "Withheld in DE: § 130 StGB"},
		{ID: "puid-2", Kind: policy.Label, Text: "Disputed"}}
	p := policy.New(id, rs, time.Now(), policy.Strictest)
	src.set(id, p)
	de := p.For("DE").ID
	type doc struct {
		Territory, View, PlaylistURL, DownloadURL string
		Withheld                                  []struct {
			FromMS, ToMS int64
			Territories  []string
			Text         string
			StatementURL string
		}
		Labels         []struct{ Text string }
		Available      *bool
		WithheldReason string
	}
	read := func(country string) doc {
		st, b := getAs(t, n, "/api/spaces/"+id+"/recording", host, country)
		if st != 200 {
			t.Fatalf("recording from %s: %d %s", country, st, b)
		}
		var d struct {
			Territory      string `json:"territory"`
			View           string `json:"view"`
			PlaylistURL    string `json:"playlist_url"`
			DownloadURL    string `json:"download_url"`
			Withheld       []map[string]any
			Labels         []map[string]any
			Available      *bool  `json:"available"`
			WithheldReason string `json:"withheld_reason"`
		}
		json.Unmarshal(b, &d)
		out := doc{Territory: d.Territory, View: d.View, PlaylistURL: d.PlaylistURL, DownloadURL: d.DownloadURL, Available: d.Available, WithheldReason: d.WithheldReason}
		for _, w := range d.Withheld {
			e := struct {
				FromMS, ToMS int64
				Territories  []string
				Text         string
				StatementURL string
			}{FromMS: int64(w["from_ms"].(float64)), ToMS: int64(w["to_ms"].(float64)), Text: w["text"].(string), StatementURL: w["statement_url"].(string)}
			for _, x := range w["territories"].([]any) {
				e.Territories = append(e.Territories, x.(string))
			}
			out.Withheld = append(out.Withheld, e)
		}
		for _, l := range d.Labels {
			out.Labels = append(out.Labels, struct{ Text string }{l["text"].(string)})
		}
		return out
	}
	d := read("DE")
	if d.Territory != "DE" || d.View != de || !strings.Contains(d.PlaylistURL, "/replay/"+id+"/"+de+"/index.m3u8") ||
		!strings.Contains(d.DownloadURL, "/replay/"+id+"/"+de+"/recording.opus") || d.Available == nil || !*d.Available {
		t.Fatalf("DE: %+v", d)
	}
	if len(d.Withheld) != 1 || d.Withheld[0].FromMS != 1000 || d.Withheld[0].ToMS != 1500 || d.Withheld[0].StatementURL != "/statements/puid-1" ||
		len(d.Withheld[0].Territories) != 1 || d.Withheld[0].Territories[0] != "DE" || len(d.Labels) != 1 || d.Labels[0].Text != "Disputed" {
		t.Errorf("DE withheld/labels: %+v", d)
	}
	f := read("FR")
	if f.Territory != "FR" || f.View != policy.None || len(f.Withheld) != 0 || len(f.Labels) != 1 || strings.Contains(f.PlaylistURL, de) {
		t.Errorf("FR: %+v", f)
	}
	if st, b := getAs(t, n, d.PlaylistURL, "", "DE"); st != 200 || !bytes.Contains(b, []byte("#EXT-X-ENDLIST")) {
		t.Errorf("DE playlist: %d %s", st, b)
	}
	if st, b := getAs(t, n, d.PlaylistURL, "", "FR"); st != http.StatusConflict || !bytes.Contains(b, []byte(`"view":"0"`)) {
		t.Errorf("DE's playlist from FR: %d %s, want 409 naming view 0", st, b)
	}
	// Withheld whole in FR.
	src.set(id, policy.New(id, append(rs, policy.Restriction{ID: "puid-3", Kind: policy.WithholdRecording,
		Territories: []policy.Territory{"FR"}, Text: "Withheld in FR"}), time.Now(), policy.Strictest))
	f = read("FR")
	if f.Available == nil || *f.Available || f.WithheldReason != "Withheld in FR" || f.PlaylistURL != "" || len(f.Withheld) != 1 {
		t.Errorf("FR withheld whole: %+v", f)
	}
}
