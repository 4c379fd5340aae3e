package app

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// TestStageListenerReservedForSpeakers fills the public listener to its cap
// and shows that a speaker still joins through the stage listener.
func TestStageListenerReservedForSpeakers(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	cfg := testConfig(t)
	cfg.MaxConns = 8
	cfg.StageAddr = "127.0.0.1:0"
	n := runNode(t, cfg)
	a := n.App
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil)
	// Wait until the API calls' connections are gone, then fill the cap.
	http.DefaultClient.CloseIdleConnections()
	waitOpen := func(want int) {
		deadline := time.Now().Add(5 * time.Second)
		for a.ln.Open() != want {
			if time.Now().After(deadline) {
				t.Fatalf("open connections = %d, want %d", a.ln.Open(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitOpen(0)
	var flood []net.Conn
	for i := 0; i < 8; i++ {
		c, err := net.Dial("tcp", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, c)
	}
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	waitOpen(8)
	if resp, err := http.Get(n.base + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("public listener at its cap answered %d, want 503", resp.StatusCode)
		}
	}
	stage := &node{App: a, base: a.StageURL()}
	stage.speak(t, id, stage.invite(t, id, host, "Sol"), "Sol", 440, 0, nil)
}
