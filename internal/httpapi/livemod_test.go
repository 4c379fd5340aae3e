package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/policy"
)

// TestViewMatches: a media URL's view must be the requester's, from the
// ticket's territory; the old URL (view 0) is view 0.
func TestViewMatches(t *testing.T) {
	p := policy.New("sp1", []policy.Restriction{{ID: "r1", Kind: policy.SilenceLive, Territories: []policy.Territory{"DE"}, Since: time.Now()}}, time.Now(), policy.Permissive)
	a := &API{policies: policy.Static{"sp1": p}}
	de := p.For("DE").ID
	for _, c := range []struct {
		path string
		t    policy.Territory
		ok   bool
	}{
		{"/hls/sp1/" + de + "/index.m3u8", "DE", true},
		{"/hls/sp1/0/1.2.m4s", "DE", false},
		{"/hls/sp1/index.m3u8", "DE", false},
		{"/hls/sp1/index.m3u8", "FR", true},
		{"/hls/sp1/0/init.mp4", "FR", true},
		{"/hls/sp1/" + de + "/init.mp4", "FR", false},
		{"/hls/sp2/index.m3u8", "DE", true}, // no policy
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", c.path, nil)
		if got := a.viewMatches(w, r, hlsSpace(c.path), c.t, true); got != c.ok {
			t.Errorf("%s for %s: got %v, want %v", c.path, c.t, got, c.ok)
			continue
		}
		if c.ok {
			continue
		}
		var body struct{ Code, View string }
		json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != 409 || body.Code != "view_changed" || body.View != p.For(c.t).ID {
			t.Errorf("%s for %s: %d %+v, want 409 view_changed %s", c.path, c.t, w.Code, body, p.For(c.t).ID)
		}
	}
	r := httptest.NewRequest("GET", "/hls/sp1/"+de+"/index.m3u8", nil)
	w := httptest.NewRecorder()
	if n := testing.AllocsPerRun(100, func() { a.viewMatches(w, r, "sp1", "DE", true) }); n != 0 {
		t.Errorf("a matching view allocates %v", n)
	}
}
