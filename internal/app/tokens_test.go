package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/auth"
)

// code returns the "code" of a JSON error body.
func code(body string) string {
	var e struct {
		Code string `json:"code"`
	}
	json.Unmarshal([]byte(body), &e)
	return e.Code
}

// tokenID is the id a token carries (read, not verified).
func tokenID(t *testing.T, tok string) string {
	t.Helper()
	c, err := auth.ReadClaims(tok)
	if err != nil || c.ID == "" {
		t.Fatalf("token %.12q… has no id: %v", tok, err)
	}
	return c.ID
}

// TestCredentialsAcrossRestart: deleting operator.token and restarting
// gives a new operator token (another id) and refuses the old one; a token
// revoked by id stays refused after the restart.
func TestCredentialsAcrossRestart(t *testing.T) {
	cfg := testConfig(t)
	n, stop := runStoppable(t, cfg)
	op1 := n.OperatorToken()
	sp := n.createSpace(t)
	host := sp.HostToken
	if st, body, _ := n.raw(t, "DELETE", "/api/tokens/"+tokenID(t, host), host, "", nil); st != http.StatusForbidden {
		t.Errorf("host revokes by id: %d %s, want 403", st, body)
	}
	if st, body, _ := n.raw(t, "DELETE", "/api/tokens/"+tokenID(t, host), op1, "", nil); st != http.StatusNoContent {
		t.Fatalf("operator revokes the host token: %d %s", st, body)
	}
	if st, body, _ := n.raw(t, "GET", "/api/spaces/"+sp.Space.ID+"/invites", host, "", nil); st != http.StatusUnauthorized || code(body) != "token_revoked" {
		t.Errorf("revoked host token: %d %s, want 401 token_revoked", st, body)
	}
	stop()

	path := filepath.Join(cfg.DataDir, "operator.token")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	n, _ = runStoppable(t, cfg)
	op2 := n.OperatorToken()
	if op2 == op1 || tokenID(t, op2) == tokenID(t, op1) {
		t.Fatal("the operator token written after deleting the file is the old one again")
	}
	b, err := os.ReadFile(path)
	if err != nil || strings.TrimSpace(string(b)) != op2 {
		t.Fatalf("operator.token = %q, %v; want the new token", b, err)
	}
	c, _ := auth.ReadClaims(op2)
	if left := time.Until(time.Unix(c.Expires, 0)); left < 360*24*time.Hour || left > 366*24*time.Hour {
		t.Errorf("operator token expires in %v, want about a year", left)
	}
	if st, body, _ := n.raw(t, "GET", "/api/admin/status", op1, "", nil); st != http.StatusUnauthorized || code(body) != "token_revoked" {
		t.Errorf("old operator token after the new one: %d %s, want 401 token_revoked", st, body)
	}
	if st, _, _ := n.raw(t, "GET", "/api/admin/status", op2, "", nil); st != http.StatusOK {
		t.Errorf("new operator token: %d", st)
	}
	if st, body, _ := n.raw(t, "GET", "/api/spaces/"+sp.Space.ID+"/invites", host, "", nil); st != http.StatusUnauthorized || code(body) != "token_revoked" {
		t.Errorf("revoked host token after restart: %d %s, want 401 token_revoked", st, body)
	}
}

// TestRotate: a rotation re-issues the operator token (the old one is
// refused at once), keeps tokens of the old key working for the grace
// period, and an emergency rotation (grace 0) refuses them at once.
func TestRotate(t *testing.T) {
	n := startNode(t)
	op := n.OperatorToken()
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	speaker := n.invite(t, id, host, "Sam")
	invites := "/api/spaces/" + id + "/invites"

	for _, tc := range []struct {
		name, tok, query string
		want             int
		code             string
	}{
		{"host", host, "", 403, "forbidden"},
		{"speaker", speaker, "", 403, "forbidden"},
		{"none", "", "", 401, "token_missing"},
		{"operator in the URL", "", "?token=" + op, 401, "token_in_url"},
	} {
		st, body, _ := n.raw(t, "POST", "/api/tokens/rotate"+tc.query, tc.tok, "", nil)
		if st != tc.want || code(body) != tc.code {
			t.Errorf("rotate by %s: %d %s, want %d %s", tc.name, st, body, tc.want, tc.code)
		}
	}
	if n.OperatorToken() != op {
		t.Fatal("a refused rotation changed the operator token")
	}
	for _, bad := range []string{`{"grace_seconds":-1}`, `{"grace_seconds":99999999999}`, `{"grace":1}`} {
		if st, body, _ := n.raw(t, "POST", "/api/tokens/rotate", op, "application/json", []byte(bad)); st != http.StatusBadRequest {
			t.Errorf("rotate with %s: %d %s, want 400", bad, st, body)
		}
	}

	var rot struct {
		OperatorToken string    `json:"operator_token"`
		Until         time.Time `json:"old_keys_accepted_until"`
	}
	if st := n.api(t, "POST", "/api/tokens/rotate", op, map[string]any{"grace_seconds": 3600}, &rot); st != http.StatusOK {
		t.Fatalf("rotate: %d", st)
	}
	if rot.OperatorToken == op || rot.OperatorToken != n.OperatorToken() {
		t.Fatalf("rotate answered %.12q…, node has %.12q…: want one new operator token", rot.OperatorToken, n.OperatorToken())
	}
	if b, _ := os.ReadFile(n.OperatorTokenPath); strings.TrimSpace(string(b)) != rot.OperatorToken {
		t.Error("operator.token was not rewritten by the rotation")
	}
	if d := time.Until(rot.Until); d < 59*time.Minute || d > time.Hour {
		t.Errorf("old keys accepted until %v (in %v), want in an hour", rot.Until, d)
	}
	kidOf := func(tok string) string { k, _, _ := strings.Cut(tok, "."); return k }
	if kidOf(rot.OperatorToken) == kidOf(op) {
		t.Errorf("operator token re-issued with the old key %q", kidOf(op))
	}
	if st, body, _ := n.raw(t, "GET", "/api/admin/status", op, "", nil); st != http.StatusUnauthorized {
		t.Errorf("operator token from before the rotation: %d %s, want 401", st, body)
	}
	op = rot.OperatorToken
	// Within the grace period, the old key's host and speaker tokens work.
	if st, body, _ := n.raw(t, "GET", invites, host, "", nil); st != http.StatusOK {
		t.Errorf("old host token within the grace: %d %s", st, body)
	}
	sp2 := n.createSpace(t)
	if kidOf(sp2.HostToken) != kidOf(op) {
		t.Errorf("host token after the rotation signed with %q, want the new key %q", kidOf(sp2.HostToken), kidOf(op))
	}

	// Emergency rotation: the previous keys are refused at once.
	if st := n.api(t, "POST", "/api/tokens/rotate", op, map[string]any{"grace_seconds": 0}, &rot); st != http.StatusOK {
		t.Fatalf("rotate with grace 0: %d", st)
	}
	for name, tok := range map[string]string{"first host": host, "speaker": speaker, "second host": sp2.HostToken} {
		if st, body, _ := n.raw(t, "GET", invites, tok, "", nil); st != http.StatusUnauthorized || code(body) != "token_retired" {
			t.Errorf("%s token after a rotation with grace 0: %d %s, want 401 token_retired", name, st, body)
		}
	}
	// The operator gives the host a new link.
	var nh struct {
		HostToken string `json:"host_token"`
		HostURL   string `json:"host_url"`
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/host-token", rot.OperatorToken, nil, &nh); st != http.StatusCreated || !strings.Contains(nh.HostURL, "/studio/"+id) {
		t.Fatalf("operator re-issues the host token: %d %+v", st, nh)
	}
	if st, body, _ := n.raw(t, "GET", invites, nh.HostToken, "", nil); st != http.StatusOK {
		t.Errorf("re-issued host token: %d %s", st, body)
	}
}

// TestHostTokenReplaced: a host (or the operator) gets a new host link and
// the previous host token stops working at once; a speaker cannot; a
// revoked invite's token is refused by Verify itself.
func TestHostTokenReplaced(t *testing.T) {
	n := startNode(t)
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	speaker := n.invite(t, id, host, "Sam")
	path := "/api/spaces/" + id + "/host-token"
	if st, body, _ := n.raw(t, "POST", path, speaker, "", nil); st != http.StatusForbidden {
		t.Errorf("speaker asks for a host token: %d %s, want 403", st, body)
	}
	if st, body, _ := n.raw(t, "POST", path+"?token="+host, "", "", nil); st != http.StatusUnauthorized || code(body) != "token_in_url" {
		t.Errorf("host token in the URL: %d %s, want 401 token_in_url", st, body)
	}
	other := n.createSpace(t)
	if st, body, _ := n.raw(t, "POST", path, other.HostToken, "", nil); st != http.StatusForbidden {
		t.Errorf("another space's host: %d %s, want 403", st, body)
	}
	var nh struct {
		HostToken string    `json:"host_token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if st := n.api(t, "POST", path, host, nil, &nh); st != http.StatusCreated || nh.HostToken == "" {
		t.Fatalf("host asks for a new host token: %d", st)
	}
	if d := time.Until(nh.ExpiresAt); d < 29*24*time.Hour || d > 30*24*time.Hour {
		t.Errorf("new host token expires in %v, want 30 days", d)
	}
	invites := "/api/spaces/" + id + "/invites"
	if st, body, _ := n.raw(t, "GET", invites, host, "", nil); st != http.StatusUnauthorized || code(body) != "token_revoked" {
		t.Errorf("previous host token: %d %s, want 401 token_revoked", st, body)
	}
	if st, _, _ := n.raw(t, "GET", invites, nh.HostToken, "", nil); st != http.StatusOK {
		t.Errorf("new host token: %d", st)
	}
	if st, _, _ := n.raw(t, "GET", "/api/spaces/"+other.Space.ID+"/invites", other.HostToken, "", nil); st != http.StatusOK {
		t.Errorf("another space's host token after this one was replaced: %d", st)
	}

	// Revoking the invite revokes the speaker token's id.
	if _, err := n.creds.Verify(speaker); err != nil {
		t.Fatalf("speaker token before the revocation: %v", err)
	}
	if st, _, _ := n.raw(t, "DELETE", invites+"/"+tokenID(t, speaker), nh.HostToken, "", nil); st != http.StatusNoContent {
		t.Fatalf("revoke invite: %d", st)
	}
	if _, err := n.creds.Verify(speaker); !errors.Is(err, auth.ErrRevoked) {
		t.Errorf("Verify of a revoked invite's token: %v, want ErrRevoked", err)
	}
}

// TestTokensStayOutOfURLs: the links and playlist of an unpublished
// replay carry a short-lived preview token, never the host's; a preview
// token only reads that replay; a host token in ?token= is refused on
// every state-changing route and never opens the replay.
func TestTokensStayOutOfURLs(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	n := startNode(t)
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	other := n.createSpace(t)
	speaker := n.invite(t, id, host, "Sam")

	// State-changing routes refuse a token in the URL, with a clear JSON
	// answer, and change nothing.
	for _, tc := range []struct{ method, path, tok string }{
		{"POST", "/api/spaces/" + id + "/start", host},
		{"POST", "/api/spaces/" + id + "/invites", host},
		{"PATCH", "/api/spaces/" + id, host},
		{"POST", "/api/spaces/" + id + "/whip", speaker},
		{"POST", "/api/spaces", n.OperatorToken()},
		{"DELETE", "/api/tokens/" + tokenID(t, host), n.OperatorToken()},
	} {
		st, body, h := n.raw(t, tc.method, tc.path+"?token="+tc.tok, "", "application/json", []byte(`{"title":"x","record":false}`))
		if st != http.StatusUnauthorized || code(body) != "token_in_url" || !strings.Contains(body, "Authorization") || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s?token=: %d %s, want 401 token_in_url naming the header", tc.method, tc.path, st, body)
		}
	}
	var got struct {
		State  string `json:"state"`
		Record bool   `json:"record"`
	}
	n.api(t, "GET", "/api/spaces/"+id, "", nil, &got)
	if got.State != "scheduled" || !got.Record {
		t.Fatalf("after refused requests the space is %+v, want scheduled and recorded", got)
	}

	n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil)
	s := n.speak(t, id, speaker, "Sam", 440, 0, nil)
	time.Sleep(3 * time.Second)
	s.stop()
	n.api(t, "POST", "/api/spaces/"+id+"/end", host, nil, nil)

	var rec struct {
		DurationMS  int64  `json:"duration_ms"`
		PlaylistURL string `json:"playlist_url"`
		DownloadURL string `json:"download_url"`
		ReplayURL   string `json:"replay_url"`
	}
	if st := n.api(t, "GET", "/api/spaces/"+id+"/recording", host, nil, &rec); st != http.StatusOK {
		t.Fatalf("host GET recording: %d", st)
	}
	var preview string
	for name, u := range map[string]string{"playlist_url": rec.PlaylistURL, "download_url": rec.DownloadURL, "replay_url": rec.ReplayURL} {
		if strings.Contains(u, host) {
			t.Errorf("%s carries the host token: %s", name, u)
		}
		_, q, _ := strings.Cut(u, "?token=")
		c, err := n.creds.Verify(q)
		if err != nil || c.Role != auth.RolePreview || c.Space != id {
			t.Fatalf("%s %s: token %+v, %v; want a preview token for %s", name, u, c, err, id)
		}
		life := time.Until(time.Unix(c.Expires, 0))
		if max := 15*time.Minute + time.Duration(rec.DurationMS)*time.Millisecond + time.Second; life > max || life < 14*time.Minute {
			t.Errorf("%s preview lives %v, want 15 min + the recording (%d ms)", name, life, rec.DurationMS)
		}
		preview = q
	}
	rel := func(u string) string { return strings.TrimPrefix(u, n.base) }

	// The playlist opened with the preview link carries the preview token
	// (players cannot send headers) and never the host's; its segments play.
	st, body, _ := n.raw(t, "GET", rel(rec.PlaylistURL), "", "", nil)
	if st != http.StatusOK || strings.Contains(body, host) || !strings.Contains(body, "token=") {
		t.Fatalf("playlist by preview link: %d\n%s", st, body)
	}
	var seg string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasSuffix(strings.SplitN(line, "?", 2)[0], ".m4s") {
			seg = line
			break
		}
	}
	if seg == "" {
		t.Fatalf("no segment in\n%s", body)
	}
	if st, _, _ := n.raw(t, "GET", "/replay/"+id+"/"+seg, "", "", nil); st != http.StatusOK {
		t.Errorf("segment %s with the preview token: %d", seg, st)
	}
	// With the host token in the header, the playlist carries no token.
	if st, body, _ := n.raw(t, "GET", "/replay/"+id+"/index.m3u8", host, "", nil); st != http.StatusOK || strings.Contains(body, "token=") {
		t.Errorf("playlist for the host's header: %d, carries a token: %v", st, strings.Contains(body, "token="))
	}
	// A preview reading the recording gets its own token back, not a
	// longer-lived one.
	var again struct {
		PlaylistURL string `json:"playlist_url"`
	}
	n.api(t, "GET", "/api/spaces/"+id+"/recording", preview, nil, &again)
	if !strings.HasSuffix(again.PlaylistURL, "?token="+preview) {
		t.Errorf("preview reading the recording got %s, want its own token", again.PlaylistURL)
	}

	// A host token in the URL never opens the replay, even beside the
	// host token in the header (the playlist would carry it on).
	for _, p := range []string{"/replay/" + id + "/index.m3u8", "/replay/" + id + "/recording.opus", "/api/spaces/" + id + "/recording"} {
		if st, _, _ := n.raw(t, "GET", p+"?token="+host, "", "", nil); st != http.StatusNotFound {
			t.Errorf("GET %s?token=HOST: %d, want 404", p, st)
		}
	}
	if st, body, _ := n.raw(t, "GET", "/replay/"+id+"/index.m3u8?token="+host, host, "", nil); st != http.StatusNotFound || strings.Contains(body, host) {
		t.Errorf("playlist with the host token in header and URL: %d, want 404 without the token", st)
	}

	// A preview token can do nothing but read.
	for _, tc := range []struct{ method, path string }{
		{"POST", "/recording/publish"},
		{"POST", "/recording/unpublish"},
		{"DELETE", "/recording"},
		{"POST", "/start"},
		{"POST", "/end"},
		{"POST", "/invites"},
		{"GET", "/invites"},
		{"POST", "/host-token"},
		{"PATCH", ""},
	} {
		st, body, _ := n.raw(t, tc.method, "/api/spaces/"+id+tc.path, preview, "application/json", []byte(`{}`))
		if st != http.StatusForbidden {
			t.Errorf("preview token %s %s: %d %s, want 403", tc.method, tc.path, st, body)
		}
	}
	for _, tc := range []struct{ method, path string }{{"POST", "/api/spaces"}, {"POST", "/api/tokens/rotate"}, {"GET", "/api/recordings"}} {
		if st, body, _ := n.raw(t, tc.method, tc.path, preview, "application/json", []byte(`{"title":"x"}`)); st != http.StatusForbidden {
			t.Errorf("preview token %s %s: %d %s, want 403", tc.method, tc.path, st, body)
		}
	}
	var pub struct {
		Published bool   `json:"published"`
		State     string `json:"state"`
	}
	n.api(t, "GET", "/api/spaces/"+id+"/recording", host, nil, &pub)
	if pub.Published || pub.State == "deleted" {
		t.Fatalf("after the refused requests the recording is %+v", pub)
	}

	// An expired preview, and one for another space, open nothing.
	expired := n.creds.signer.Sign(auth.Claims{Role: auth.RolePreview, Space: id, Expires: time.Now().Unix() - 1})
	foreign := n.creds.Preview(other.Space.ID, time.Hour)
	for name, tok := range map[string]string{"expired": expired, "other space's": foreign} {
		for _, p := range []string{"/replay/" + id + "/index.m3u8", "/replay/" + id + "/" + strings.SplitN(seg, "?", 2)[0], "/replay/" + id + "/recording.opus"} {
			if st, _, _ := n.raw(t, "GET", p+"?token="+tok, "", "", nil); st != http.StatusNotFound {
				t.Errorf("%s preview, GET %s: %d, want 404", name, p, st)
			}
		}
		if st, _, _ := n.raw(t, "GET", "/api/spaces/"+id+"/recording", tok, "", nil); st != http.StatusNotFound {
			t.Errorf("%s preview reads the recording: %d, want 404", name, st)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for a logger and a test at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDataDirOwnerOnly: packaging made the data directory 0755 and the
// umask is 022; files left 0644 by an older podium are there. The node
// warns with the fix, and the database with its WAL and SHM, the operator
// credential and the recordings end up owner-only.
func TestDataDirOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	cfg := testConfig(t)
	dir := cfg.DataDir
	os.Chmod(dir, 0o755)
	rec := filepath.Join(dir, "recordings", "sp_old")
	if err := os.MkdirAll(rec, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"podium.db": "", "operator.token": "not a token\n", "recordings/sp_old/s0001.ogg": "OggS",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs lockedBuffer
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	n := &node{App: a, base: a.BaseURL()}
	n.createSpace(t) // a write: the WAL and SHM exist now
	if !strings.Contains(logs.String(), "chmod 700 "+dir) {
		t.Errorf("no warning naming the fix for the open data directory; log:\n%s", logs.String())
	}
	want := map[string]os.FileMode{
		"podium.db": 0o600, "podium.db-wal": 0o600, "podium.db-shm": 0o600, "operator.token": 0o600,
		"recordings": 0o700, "recordings/sp_old": 0o700, "recordings/sp_old/s0001.ogg": 0o600,
	}
	for name, mode := range want {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s: mode %o, want %o", name, got, mode)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// TestStudioLinksKeepTokensOutOfTheQuery: every studio link the API gives
// (a new space's host_url, an invite's url, a new host link) carries its
// token in the fragment, which a browser never sends, and nothing in the
// query that a server, proxy or Referer header would see; the page behind
// it is served, and the fragment's token is the credential the answer names.
func TestStudioLinksKeepTokensOutOfTheQuery(t *testing.T) {
	n := startNode(t)
	var c struct {
		Space     struct{ ID string } `json:"space"`
		HostToken string              `json:"host_token"`
		HostURL   string              `json:"host_url"`
	}
	if st := n.api(t, "POST", "/api/spaces", n.operator(), map[string]any{"title": "links"}, &c); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	id := c.Space.ID
	var inv struct {
		Token string `json:"token"`
		URL   string `json:"url"`
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/invites", c.HostToken, map[string]any{"name": "Ada"}, &inv); st != http.StatusCreated {
		t.Fatalf("invite: %d", st)
	}
	var nh struct {
		HostToken string `json:"host_token"`
		HostURL   string `json:"host_url"`
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/host-token", c.HostToken, nil, &nh); st != http.StatusCreated {
		t.Fatalf("host-token: %d", st)
	}
	for _, l := range []struct{ name, link, tok string }{
		{"host_url", c.HostURL, c.HostToken},
		{"invite url", inv.URL, inv.Token},
		{"new host_url", nh.HostURL, nh.HostToken},
	} {
		u, err := url.Parse(l.link)
		if err != nil {
			t.Fatalf("%s %q: %v", l.name, l.link, err)
		}
		if u.RawQuery != "" || strings.Contains(u.Path, l.tok) {
			t.Errorf("%s %q: the query or path carries something (%q); want the token in the fragment only", l.name, l.link, u.RawQuery)
		}
		if u.Path != "/studio/"+id || u.Fragment != "token="+l.tok {
			t.Errorf("%s %q: want /studio/%s#token=TOKEN", l.name, l.link, id)
		}
		// What a browser requests for the link: the part before '#'.
		req, _ := http.NewRequest("GET", l.link, nil)
		if req.URL.RequestURI() != "/studio/"+id {
			t.Errorf("%s: a browser would request %q", l.name, req.URL.RequestURI())
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: page %d %s", l.name, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if st, body, _ := n.raw(t, "GET", "/api/spaces/"+id+"/invites", nh.HostToken, "", nil); st != http.StatusOK {
		t.Errorf("the new link's token: %d %s", st, body)
	}
	if st, _, _ := n.raw(t, "GET", "/api/spaces/"+id+"/invites", c.HostToken, "", nil); st != http.StatusUnauthorized {
		t.Errorf("the old link's token after a new host link: %d, want 401", st)
	}
}
