package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/policy"
	"github.com/podium-live/podium/internal/tone"
)

// TestWithheldRangeThroughCache: a recorded tone, [2 s, 3 s) withheld in
// DE. Through the shipped nginx cache, DE listeners (their proxy says DE)
// fetch their view's replay and hear silence in exactly that range and the
// tone elsewhere; FR listeners hear the tone throughout; the origin sees
// each part of each view once, however many listeners.
func TestWithheldRangeThroughCache(t *testing.T) {
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
	time.Sleep(5 * time.Second)
	s.stop()
	n.api(t, "POST", "/api/spaces/"+id+"/end", host, nil, nil)
	if st := n.api(t, "POST", "/api/spaces/"+id+"/recording/publish", host, map[string]any{}, nil); st != http.StatusOK {
		t.Fatalf("publish: %d", st)
	}
	const t1, t2 = 2 * time.Second, 3 * time.Second
	src.set(id, policy.New(id, []policy.Restriction{{ID: "puid-de", Kind: policy.WithholdRange, From: t1, To: t2,
		Territories: []policy.Territory{"DE"}, Text: "Withheld in DE"}}, time.Now(), policy.Strictest))

	// Count what reaches the origin, per path, between nginx and the node.
	originURL, _ := url.Parse(n.base)
	var mu sync.Mutex
	hits := map[string]int{}
	rp := httputil.NewSingleHostReverseProxy(originURL)
	counter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/replay/") {
			mu.Lock()
			hits[r.URL.Path]++
			mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	defer counter.Close()
	cdn, _ := startNginx(t, strings.TrimPrefix(counter.URL, "http://"))

	get := func(path, country string) []byte {
		t.Helper()
		req, _ := http.NewRequest("GET", cdn+path, nil)
		req.Header.Set("X-Country-Code", country)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b []byte
		buf := make([]byte, 32<<10)
		for {
			k, err := resp.Body.Read(buf)
			b = append(b, buf[:k]...)
			if err != nil {
				break
			}
		}
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s (%s) through the cache: %d %s", path, country, resp.StatusCode, b)
		}
		return b
	}
	const listeners = 5
	pcmOf := map[string][]float32{}
	views := map[string]string{}
	for _, country := range []string{"DE", "FR"} {
		for l := range listeners {
			var rec struct {
				View        string `json:"view"`
				PlaylistURL string `json:"playlist_url"`
			}
			json.Unmarshal(get("/api/spaces/"+id+"/recording", country), &rec)
			u, _ := url.Parse(rec.PlaylistURL)
			views[country] = rec.View
			pl := string(get(u.Path, country))
			dir := u.Path[:strings.LastIndexByte(u.Path, '/')+1]
			file := get(dir+"init.mp4", country)
			for _, line := range strings.Split(pl, "\n") {
				if strings.HasSuffix(line, ".m4s") {
					file = append(file, get(dir+line, country)...)
				}
			}
			if l == 0 {
				path := filepath.Join(t.TempDir(), country+".mp4")
				if err := os.WriteFile(path, file, 0o600); err != nil {
					t.Fatal(err)
				}
				pcmOf[country] = decodeFile(t, path)
			}
		}
	}
	if views["DE"] == policy.None || views["FR"] != policy.None {
		t.Fatalf("views: %v", views)
	}
	power := func(pcm []float32, from, to time.Duration) float64 {
		a, b := int(from.Seconds()*48000), int(to.Seconds()*48000)
		if b > len(pcm) {
			t.Fatalf("%d samples, want %d", len(pcm), b)
		}
		return tone.Power(pcm[a:b], 440, 48000)
	}
	// The tone starts when the speaker's connection is up: find it in FR.
	fr, de := pcmOf["FR"], pcmOf["DE"]
	onset := time.Duration(0)
	for ; onset < t1-300*time.Millisecond; onset += 20 * time.Millisecond {
		if power(fr, onset, onset+100*time.Millisecond) > 0.2 {
			break
		}
	}
	if onset >= t1-300*time.Millisecond {
		t.Fatalf("the tone starts after %v in FR's replay; want it before the withheld range", onset)
	}
	start := onset + 100*time.Millisecond
	for _, w := range [][2]time.Duration{{start, t1 - 20*time.Millisecond}, {t1, t2}, {t2 + 20*time.Millisecond, 4500 * time.Millisecond}} {
		if p := power(fr, w[0], w[1]); p < 0.2 {
			t.Errorf("FR %v–%v: tone %.3f, want > 0.2", w[0], w[1], p)
		}
	}
	for _, w := range [][2]time.Duration{{start, t1 - 20*time.Millisecond}, {t2 + 20*time.Millisecond, 4500 * time.Millisecond}} {
		if p := power(de, w[0], w[1]); p < 0.2 {
			t.Errorf("DE %v–%v: tone %.3f, want > 0.2", w[0], w[1], p)
		}
	}
	if p := power(de, t1+10*time.Millisecond, t2-10*time.Millisecond); p > 0.01 {
		t.Errorf("DE %v–%v (withheld): tone %.3f, want silence", t1, t2, p)
	}
	// Every 20 ms inside the range is silent, the 20 ms on either side not.
	for at := t1 + 10*time.Millisecond; at < t2-20*time.Millisecond; at += 20 * time.Millisecond {
		if p := power(de, at, at+20*time.Millisecond); p > 0.01 {
			t.Fatalf("DE at %v: tone %.3f inside the withheld range", at, p)
		}
	}
	// (The decoder needs a frame to build the tone up again after the
	// silence, and ffmpeg's timeline is shifted by the 6.5 ms pre-skip.)
	if b, a := power(de, t1-60*time.Millisecond, t1-20*time.Millisecond), power(de, t2+40*time.Millisecond, t2+80*time.Millisecond); b < 0.1 || a < 0.1 {
		t.Errorf("DE: silence reaches beyond [%v, %v): tone %.3f before, %.3f after", t1, t2, b, a)
	}
	// One origin request per part per view, not per listener.
	mu.Lock()
	defer mu.Unlock()
	parts, reqs := 0, 0
	for p, k := range hits {
		if strings.HasSuffix(p, ".m4s") {
			parts++
			reqs += k
			if k != 1 {
				t.Errorf("%s: %d origin requests, want 1 for %d listeners", p, k, listeners)
			}
		}
	}
	t.Logf("origin: %d segment requests for %d segments of 2 views, %d listeners per view: %.2f per segment per view", reqs, parts, listeners, float64(reqs)/float64(parts))
}
