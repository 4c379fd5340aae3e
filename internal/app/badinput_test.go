package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/whip"
)

// raw does a request and returns status, body and headers.
func (n *node) raw(t testing.TB, method, path, token, ctype string, body []byte) (int, string, http.Header) {
	t.Helper()
	return n.rawVia(t, http.DefaultClient, method, path, token, ctype, body)
}

// rawFrom is raw from another loopback source address (e.g. "127.0.9.1"):
// a fresh client, not yet counted by the per-address rate limits, as a new
// listener would be.
func (n *node) rawFrom(t testing.TB, src, method, path string) (int, string, http.Header) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	defer c.CloseIdleConnections()
	return n.rawVia(t, c, method, path, "", "", nil)
}

func (n *node) rawVia(t testing.TB, c *http.Client, method, path, token, ctype string, body []byte) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, n.base+path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

const videoOnlyOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\na=sendonly\r\na=mid:0\r\n"

func TestBadInput(t *testing.T) {
	n := startNode(t)
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	other := n.createSpace(t)
	speakerTok := n.invite(t, id, host, "Sam")
	const unknown = "sp_aaaaaaaaaaaa"

	var revokeID struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	n.api(t, "POST", "/api/spaces/"+id+"/invites", host, map[string]any{"name": "Rev"}, &revokeID)
	if st, _, _ := n.raw(t, "DELETE", "/api/spaces/"+id+"/invites/"+revokeID.ID, host, "", nil); st != http.StatusNoContent {
		t.Fatalf("revoke: %d", st)
	}
	var short struct {
		Token string `json:"token"`
	}
	n.api(t, "POST", "/api/spaces/"+id+"/invites", host, map[string]any{"name": "Brief", "ttl_seconds": 1}, &short)

	big := bytes.Repeat([]byte("x"), 70<<10)
	tests := []struct {
		name, method, path, token, ctype string
		body                             []byte
		status                           int
		says                             string
	}{
		{"malformed SDP", "POST", "/api/spaces/" + id + "/whip", host, "application/sdp", []byte("hello"), 400, "SDP"},
		{"empty SDP", "POST", "/api/spaces/" + id + "/whip", host, "application/sdp", nil, 400, "empty"},
		{"video-only SDP", "POST", "/api/spaces/" + id + "/whip", host, "application/sdp", []byte(videoOnlyOffer), 400, "audio"},
		{"SDP wrong content type", "POST", "/api/spaces/" + id + "/whip", host, "text/plain", []byte("v=0"), 415, "application/sdp"},
		{"oversize SDP", "POST", "/api/spaces/" + id + "/whip", host, "application/sdp", big, 413, "too large"},
		{"whip without token", "POST", "/api/spaces/" + id + "/whip", "", "application/sdp", []byte("v=0"), 401, "missing"},
		{"whip with garbage token", "POST", "/api/spaces/" + id + "/whip", "abc.def", "application/sdp", []byte("v=0"), 401, "malformed"},
		{"whip with forged token", "POST", "/api/spaces/" + id + "/whip", "0.eyJyIjoic3BlYWtlciJ9." + strings.Repeat("A", 43), "application/sdp", []byte("v=0"), 401, "signature"},
		// Revoking the invite revoked the token's id: refused by Verify.
		{"whip with revoked invite", "POST", "/api/spaces/" + id + "/whip", revokeID.Token, "application/sdp", []byte("v=0"), 401, "revoked"},
		{"whip with other space's host", "POST", "/api/spaces/" + id + "/whip", other.HostToken, "application/sdp", []byte("v=0"), 403, "another space"},
		{"whip unknown space", "POST", "/api/spaces/" + unknown + "/whip", host, "application/sdp", []byte("v=0"), 404, "not found"},
		{"patch whip", "PATCH", "/api/spaces/" + id + "/whip/spk_aaaaaaaaaaaa", host, "application/trickle-ice-sdpfrag", nil, 405, "trickle"},
		{"leave unknown speaker", "DELETE", "/api/spaces/" + id + "/whip/spk_aaaaaaaaaaaa", host, "", nil, 404, "speaker"},
		{"create without token", "POST", "/api/spaces", "", "application/json", []byte(`{"title":"x"}`), 401, "missing"},
		{"create as host", "POST", "/api/spaces", host, "application/json", []byte(`{"title":"x"}`), 403, "operator"},
		{"create oversize", "POST", "/api/spaces", n.OperatorToken(), "application/json", big, 413, "too large"},
		{"create malformed", "POST", "/api/spaces", n.OperatorToken(), "application/json", []byte(`{"title":`), 400, "malformed"},
		{"create unknown field", "POST", "/api/spaces", n.OperatorToken(), "application/json", []byte(`{"title":"x","colour":1}`), 400, "colour"},
		{"create no title", "POST", "/api/spaces", n.OperatorToken(), "application/json", []byte(`{"title":"  "}`), 400, "title"},
		{"create bad time", "POST", "/api/spaces", n.OperatorToken(), "application/json", []byte(`{"title":"x","scheduled_start":"tomorrow"}`), 400, "scheduled_start"},
		{"create wrong content type", "POST", "/api/spaces", n.OperatorToken(), "text/xml", []byte(`<x/>`), 415, "application/json"},
		{"start as speaker", "POST", "/api/spaces/" + id + "/start", speakerTok, "", nil, 403, "host"},
		{"start unknown", "POST", "/api/spaces/" + unknown + "/start", host, "", nil, 404, "not found"},
		{"get unknown", "GET", "/api/spaces/" + unknown, "", "", nil, 404, "not found"},
		{"get junk id", "GET", "/api/spaces/..%2f..%2fetc", "", "", nil, 404, ""},
		{"live unknown", "GET", "/api/spaces/" + unknown + "/live", "", "", nil, 404, "not found"},
		{"invite as speaker", "POST", "/api/spaces/" + id + "/invites", speakerTok, "application/json", []byte(`{"name":"x"}`), 403, "host"},
		{"invite negative ttl", "POST", "/api/spaces/" + id + "/invites", host, "application/json", []byte(`{"name":"x","ttl_seconds":-5}`), 400, "ttl"},
		{"revoke unknown invite", "DELETE", "/api/spaces/" + id + "/invites/inv_aaaaaaaaaaaa", host, "", nil, 404, "not found"},
		{"mute without body", "POST", "/api/spaces/" + id + "/speakers/spk_aaaaaaaaaaaa/mute", host, "application/json", []byte(`{}`), 400, "muted"},
		{"unknown api route", "GET", "/api/nope", "", "", nil, 404, "no such API route"},
		{"patch without record", "PATCH", "/api/spaces/" + id, host, "application/json", []byte(`{}`), 400, "record"},
		{"patch unknown field", "PATCH", "/api/spaces/" + id, host, "application/json", []byte(`{"title":"x"}`), 400, "title"},
		{"patch unknown space", "PATCH", "/api/spaces/" + unknown, host, "application/json", []byte(`{"record":false}`), 404, "not found"},
		{"admin status as host", "GET", "/api/admin/status", host, "", nil, 403, "operator"},
		{"admin status anonymous", "GET", "/api/admin/status", "", "", nil, 401, "missing"},
		{"attack without on", "POST", "/api/admin/attack", n.OperatorToken(), "application/json", []byte(`{}`), 400, "on"},
		{"attack as speaker", "POST", "/api/admin/attack", speakerTok, "application/json", []byte(`{"on":true}`), 403, "operator"},
		{"recordings list as host", "GET", "/api/recordings", host, "", nil, 403, "operator"},
		{"hls unknown space", "GET", "/hls/" + unknown + "/index.m3u8", "", "", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body, h := n.raw(t, tt.method, tt.path, tt.token, tt.ctype, tt.body)
			if st != tt.status {
				t.Fatalf("status = %d (%s), want %d", st, body, tt.status)
			}
			if !strings.Contains(strings.ToLower(body), strings.ToLower(tt.says)) {
				t.Errorf("body = %q, want it to say %q", body, tt.says)
			}
			if strings.HasPrefix(tt.path, "/api/") && h.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", h.Get("Content-Type"))
			}
		})
	}

	// An expired invite is refused as unauthenticated.
	time.Sleep(1100 * time.Millisecond)
	if st, body, _ := n.raw(t, "POST", "/api/spaces/"+id+"/whip", short.Token, "application/sdp", []byte("v=0")); st != 401 || !strings.Contains(body, "expired") {
		t.Errorf("expired invite: %d %s, want 401 expired", st, body)
	}

	// Nothing was left behind by the refused joins.
	var status struct {
		Speakers []any `json:"speakers"`
	}
	n.api(t, "GET", "/api/spaces/"+id+"/live", "", nil, &status)
	if len(status.Speakers) != 0 {
		t.Errorf("refused joins left %d speakers on stage", len(status.Speakers))
	}

	// Starting twice is a conflict.
	n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil)
	if st, _, _ := n.raw(t, "POST", "/api/spaces/"+id+"/start", host, "", nil); st != http.StatusConflict {
		t.Errorf("second start: %d, want 409", st)
	}

	// Oversized request headers: 431 before any handler runs, and the
	// space is still served afterwards.
	req, _ := http.NewRequest("GET", n.base+"/hls/"+id+"/index.m3u8", nil)
	req.Header.Set("X-Junk", strings.Repeat("a", 16<<10)) // over 8 KiB + net/http's 4 KiB slack
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Errorf("oversized headers: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("oversized headers: %d, want 431", resp.StatusCode)
		}
	}
	if st, _, _ := n.raw(t, "GET", "/api/spaces/"+id, "", "", nil); st != http.StatusOK {
		t.Errorf("space after oversized headers: %d", st)
	}
}

func TestFuturePlaylistRequestRefusedAtOnce(t *testing.T) {
	n := startNode(t)
	sp := n.createSpace(t)
	n.api(t, "POST", "/api/spaces/"+sp.Space.ID+"/start", sp.HostToken, nil, nil)
	base := "/hls/" + sp.Space.ID
	for _, q := range []string{"?_HLS_msn=999999&_HLS_part=0", "?_HLS_msn=999999", "?_HLS_part=1", "?_HLS_msn=abc", "?_HLS_msn=-1"} {
		start := time.Now()
		st, body, _ := n.raw(t, "GET", base+"/index.m3u8"+q, "", "", nil)
		if st != http.StatusBadRequest {
			t.Errorf("%s: status %d (%s), want 400", q, st, body)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("%s: answered after %v, want at once", q, d)
		}
	}
	if st, _, _ := n.raw(t, "GET", base+"/999999.m4s", "", "", nil); st != http.StatusBadRequest {
		t.Errorf("far-future segment: %d, want 400", st)
	}
	for _, p := range []string{"/nope.txt", "/0.0.m4s", "/../../etc/passwd", "/init.mp4x"} {
		if st, _, _ := n.raw(t, "GET", base+p, "", "", nil); st != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, st)
		}
	}
}

func TestEndReleasesEverything(t *testing.T) {
	n := startNode(t)
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil)
	s := n.speak(t, id, n.invite(t, id, host, "Sam"), "Sam", 440, 0, nil)
	if st := n.api(t, "POST", "/api/spaces/"+id+"/end", host, nil, nil); st != http.StatusOK {
		t.Fatalf("end: %d", st)
	}
	if c := n.Runtime().Counts(); c.LiveSpaces != 0 || c.Speakers != 0 {
		t.Fatalf("after end: %d live spaces, %d speakers; want 0, 0", c.LiveSpaces, c.Speakers)
	}
	// The speaker's connection was closed by the server.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for s.c.Connected(ctx) == nil {
		time.Sleep(100 * time.Millisecond)
	}
	if ctx.Err() != nil {
		t.Fatal("speaker connection still up after end")
	}
	_, err := whip.Dial(ctx, n.base+"/api/spaces/"+id+"/whip", host, whip.Options{})
	var we *whip.Error
	if !errors.As(err, &we) || we.Status != http.StatusConflict {
		t.Fatalf("join after end: %v, want 409", err)
	}
	st, body, _ := n.raw(t, "GET", "/hls/"+id+"/index.m3u8", "", "", nil)
	if st == http.StatusOK && !strings.Contains(body, "#EXT-X-ENDLIST") {
		t.Fatalf("playlist after end lacks ENDLIST: %s", body)
	}
}

func TestMetricsOnDebugListener(t *testing.T) {
	cfg := testConfig(t)
	cfg.DebugAddr = "127.0.0.1:0"
	a := runNode(t, cfg).App
	http.Get(a.BaseURL() + "/hls/sp_aaaaaaaaaaaa/index.m3u8")
	resp, err := http.Get("http://" + a.debugLn.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"podium_spaces_live 0", "podium_speakers 0", "podium_mixer_overruns_total", `podium_hls_requests_total{kind="not_found"} 1`, "go_goroutines"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// The public listener does not serve metrics.
	resp, err = http.Get(a.BaseURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("public /metrics: %d, want 404", resp.StatusCode)
	}
}
