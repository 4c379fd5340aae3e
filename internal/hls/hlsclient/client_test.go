package hlsclient_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/hls/hlsclient"
)

// TestRetry checks that the player retries a 503 (honouring Retry-After)
// and still plays the whole stream.
func TestRetry(t *testing.T) {
	now := time.Now()
	st := hls.NewStream("sp_1", now, now, hls.Config{})
	srv := hls.NewServer(nil)
	srv.Add(st)
	var failed atomic.Bool
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("_HLS_msn") && failed.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	for i := range 150 {
		st.WriteFrame([]byte{byte(i)})
	}
	go func() {
		for i := range 100 {
			st.WriteFrame([]byte{byte(150 + i)})
			time.Sleep(time.Millisecond)
		}
		st.Close()
	}()
	var n int
	p := &hlsclient.Player{HTTP: ts.Client(), StartBehind: -1, OnPacket: func(pkt []byte, pts int64) {
		if int(pkt[0]) != n%256 || pts != int64(n*960) {
			t.Errorf("packet %d: %d at %d", n, pkt[0], pts)
		}
		n++
	}}
	if err := p.Play(t.Context(), ts.URL+"/hls/sp_1/index.m3u8"); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); n != 250 || s.Retries != 1 || s.Packets != 250 {
		t.Errorf("%d packets, stats %+v; want 250 packets and one retry", n, s)
	}
}

// TestNotLive checks that playing a space that is not live fails at once.
func TestNotLive(t *testing.T) {
	ts := httptest.NewServer(hls.NewServer(nil))
	defer ts.Close()
	if err := hlsclient.Play(t.Context(), ts.Client(), ts.URL+"/hls/nope/index.m3u8", nil); err == nil {
		t.Fatal("Play of an unknown space succeeded")
	}
}
