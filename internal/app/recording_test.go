package app

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRecordingAccess checks who may see, publish and delete a recording,
// the ?t= handling, Range requests, and the CLI.
func TestRecordingAccess(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	n := startNode(t)
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	other := n.createSpace(t)
	speaker := n.invite(t, id, host, "Sam")

	// Nothing recorded yet: 404 for everyone, even the host.
	if st, _, _ := n.raw(t, "GET", "/api/spaces/"+id+"/recording", host, "", nil); st != http.StatusNotFound {
		t.Fatalf("recording before live: %d, want 404", st)
	}
	// Recording can be switched off only before going live.
	if st, _, _ := n.raw(t, "PATCH", "/api/spaces/"+other.Space.ID, other.HostToken, "application/json", []byte(`{"record":false}`)); st != http.StatusOK {
		t.Fatalf("switch recording off: %d", st)
	}
	if st, _, _ := n.raw(t, "PATCH", "/api/spaces/"+id, speaker, "application/json", []byte(`{"record":false}`)); st != http.StatusForbidden {
		t.Fatalf("speaker switches recording: %d, want 403", st)
	}

	n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil)
	if st, body, _ := n.raw(t, "PATCH", "/api/spaces/"+id, host, "application/json", []byte(`{"record":false}`)); st != http.StatusConflict {
		t.Fatalf("switch recording while live: %d %s, want 409", st, body)
	}
	var liveStatus struct {
		Recorded bool `json:"recorded"`
	}
	n.api(t, "GET", "/api/spaces/"+id+"/live", "", nil, &liveStatus)
	if !liveStatus.Recorded {
		t.Error("/live does not say the space is recorded")
	}
	s := n.speak(t, id, speaker, "Sam", 440, 0, nil)
	time.Sleep(3 * time.Second)
	if st, _, _ := n.raw(t, "DELETE", "/api/spaces/"+id+"/recording", host, "", nil); st != http.StatusConflict {
		t.Errorf("delete while live: %d, want 409", st)
	}
	s.stop()
	n.api(t, "POST", "/api/spaces/"+id+"/end", host, nil, nil)

	paths := []string{"/api/spaces/" + id + "/recording", "/replay/" + id + "/index.m3u8", "/replay/" + id + "/recording.opus", "/replay/" + id + "/init.mp4"}
	for _, p := range paths {
		for _, tok := range []string{"", speaker, other.HostToken, "garbage"} {
			if st, body, _ := n.raw(t, "GET", p, tok, "", nil); st != http.StatusNotFound {
				t.Errorf("unpublished %s with token %.8q: %d %s, want 404", p, tok, st, body)
			}
		}
		if st, _, _ := n.raw(t, "GET", p, host, "", nil); st != http.StatusOK {
			t.Errorf("host GET %s: %d, want 200", p, st)
		}
	}
	for _, tc := range []struct{ method, path, tok string }{
		{"POST", "/recording/publish", speaker},
		{"POST", "/recording/publish", other.HostToken},
		{"POST", "/recording/unpublish", speaker},
		{"DELETE", "/recording", speaker},
		{"DELETE", "/recording", ""},
	} {
		st, _, _ := n.raw(t, tc.method, "/api/spaces/"+id+tc.path, tc.tok, "application/json", []byte(`{}`))
		if st != http.StatusForbidden && st != http.StatusUnauthorized {
			t.Errorf("%s %s with %.8q: %d, want 401/403", tc.method, tc.path, tc.tok, st)
		}
	}

	var rec recordingDoc
	if st := n.api(t, "POST", "/api/spaces/"+id+"/recording/publish", host, map[string]any{}, &rec); st != http.StatusOK {
		t.Fatalf("publish: %d", st)
	}
	for _, p := range paths {
		st, _, h := n.raw(t, "GET", p, "", "", nil)
		if st != http.StatusOK {
			t.Errorf("published %s anonymously: %d, want 200", p, st)
		}
		if strings.HasPrefix(p, "/replay/") && !strings.Contains(h.Get("Cache-Control"), "public") {
			t.Errorf("published %s Cache-Control %q, want public", p, h.Get("Cache-Control"))
		}
	}
	dur := time.Duration(rec.DurationMS) * time.Millisecond
	for q, want := range map[string]int{"t=1s": 200, "t=0:01": 200, "t=banana": 400, "t=99h": 400, "t=-3": 400, "t=9223372037": 400, "t=2562048:00:00": 400} {
		if st, body, _ := n.raw(t, "GET", "/api/spaces/"+id+"/recording?"+q, "", "", nil); st != want {
			t.Errorf("?%s (recording %v): %d %s, want %d", q, dur, st, body, want)
		}
	}
	// Range requests on the download.
	req, _ := http.NewRequest("GET", n.base+"/replay/"+id+"/recording.opus", nil)
	req.Header.Set("Range", "bytes=0-99")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || b.Len() != 100 || !bytes.HasPrefix(b.Bytes(), []byte("OggS")) {
		t.Errorf("Range 0-99: %d, %d bytes, want 206 with 100 bytes of Ogg", resp.StatusCode, b.Len())
	}
	req.Header.Set("Range", "bytes=999999999-")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("unsatisfiable range: %d, want 416", resp.StatusCode)
	}

	// The operator lists recordings and deletes one.
	var list struct {
		Recordings []struct {
			SpaceID string `json:"space_id"`
		} `json:"recordings"`
	}
	if st := n.api(t, "GET", "/api/recordings", n.OperatorToken(), nil, &list); st != http.StatusOK || len(list.Recordings) != 1 || list.Recordings[0].SpaceID != id {
		t.Fatalf("GET /api/recordings: %d %+v, want the one recording", st, list)
	}
	if st, _, _ := n.raw(t, "GET", "/api/recordings", host, "", nil); st != http.StatusForbidden {
		t.Errorf("host lists all recordings: %d, want 403", st)
	}
	if st, _, _ := n.raw(t, "DELETE", "/api/spaces/"+id+"/recording", n.OperatorToken(), "", nil); st != http.StatusNoContent {
		t.Fatalf("operator deletes: %d", st)
	}
	var del struct {
		State     string `json:"state"`
		DeletedBy string `json:"deleted_by"`
		DeletedAt string `json:"deleted_at"`
	}
	n.api(t, "GET", "/api/spaces/"+id+"/recording", host, nil, &del)
	if del.State != "deleted" || del.DeletedBy != "operator" || del.DeletedAt == "" {
		t.Errorf("after delete: %+v, want deleted by operator with a time", del)
	}
	// Anonymous reads from a listener the rate limits have not seen (this
	// test's own address has read a lot by now).
	for i, p := range paths[1:] {
		if st, _, _ := n.rawFrom(t, "127.0.9."+strconv.Itoa(i+1), "GET", p); st != http.StatusNotFound {
			t.Errorf("deleted %s: %d, want 404", p, st)
		}
	}
	if st, _, _ := n.rawFrom(t, "127.0.9.200", "GET", "/api/spaces/"+id+"/recording"); st != http.StatusNotFound {
		t.Errorf("deleted recording, anonymous: %d, want 404", st)
	}
	if st, _, _ := n.raw(t, "POST", "/api/spaces/"+id+"/recording/publish", host, "application/json", []byte(`{}`)); st != http.StatusGone {
		t.Errorf("publish deleted: %d, want 410", st)
	}
}

func TestRetentionDeletesOldUnpublished(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	n := startNode(t)
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil)
	time.Sleep(1500 * time.Millisecond)
	n.api(t, "POST", "/api/spaces/"+id+"/end", host, nil, nil)
	time.Sleep(50 * time.Millisecond)
	deleted, err := n.Library().ApplyRetention(context.Background(), liveRetention(time.Millisecond, 0))
	if err != nil || deleted != 1 {
		t.Fatalf("ApplyRetention = %d, %v; want 1 deleted", deleted, err)
	}
	var del struct {
		State     string `json:"state"`
		DeletedBy string `json:"deleted_by"`
	}
	n.api(t, "GET", "/api/spaces/"+id+"/recording", host, nil, &del)
	if del.State != "deleted" || del.DeletedBy != "retention" {
		t.Fatalf("after retention: %+v", del)
	}
}
