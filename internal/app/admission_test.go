package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/admission"
	"github.com/podium-live/podium/internal/config"
	"github.com/podium-live/podium/internal/hls/hlsclient"
)

type joinDoc struct {
	Ticket     string `json:"ticket"`
	Queued     bool   `json:"queued"`
	Position   int    `json:"position"`
	Estimate   *int   `json:"estimate_seconds"`
	Reason     string `json:"estimate_reason"`
	QueueToken string `json:"queue_token"`
	Code       string `json:"code"`
	Challenge  struct {
		Challenge  string `json:"challenge"`
		Difficulty int    `json:"difficulty"`
	} `json:"challenge"`
}

func (n *node) join(t testing.TB, id string, body map[string]any) (int, joinDoc) {
	t.Helper()
	var d joinDoc
	b, _ := json.Marshal(body)
	st, resp, _ := n.raw(t, "POST", "/api/spaces/"+id+"/join", "", "application/json", b)
	json.Unmarshal([]byte(resp), &d)
	return st, d
}

func (n *node) media(t testing.TB, path, ticket string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", n.base+path, nil)
	if ticket != "" {
		req.Header.Set("X-Podium-Ticket", ticket)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 512)
	k, _ := resp.Body.Read(buf)
	b.Write(buf[:k])
	return resp.StatusCode, b.String()
}

func TestJoinTickets(t *testing.T) {
	n := startNode(t)
	sp := n.createSpace(t)
	other := n.createSpace(t)
	id := sp.Space.ID
	n.api(t, "POST", "/api/spaces/"+id+"/start", sp.HostToken, nil, nil)
	n.api(t, "POST", "/api/spaces/"+other.Space.ID+"/start", other.HostToken, nil, nil)

	st, d := n.join(t, id, nil)
	if st != http.StatusOK || d.Ticket == "" {
		t.Fatalf("join: %d %+v, want 200 with a ticket", st, d)
	}
	_, o := n.join(t, other.Space.ID, nil)
	// Renewal with the ticket.
	if st, r := n.join(t, id, map[string]any{"ticket": d.Ticket}); st != http.StatusOK || r.Ticket == "" {
		t.Fatalf("renew: %d %+v", st, r)
	}
	forged := d.Ticket[:len(d.Ticket)-4] + "AAAA"
	for name, tc := range map[string]struct {
		ticket string
		says   string
	}{
		"forged":      {forged, ""},
		"other space": {o.Ticket, "space"},
		"garbage":     {"!!!", ""},
	} {
		st, body, _ := n.raw(t, "POST", "/api/spaces/"+id+"/join", "", "application/json", []byte(`{"ticket":"`+tc.ticket+`"}`))
		if st != http.StatusUnauthorized || !strings.Contains(body, "bad_ticket") || !strings.Contains(body, tc.says) {
			t.Errorf("renew with %s ticket: %d %s, want 401 bad_ticket", name, st, body)
		}
		if st, body := n.media(t, "/hls/"+id+"/init.mp4", tc.ticket); st != http.StatusUnauthorized {
			t.Errorf("media with %s ticket: %d %s, want 401", name, st, body)
		}
	}
	if st, _ := n.media(t, "/hls/"+id+"/init.mp4", d.Ticket); st != http.StatusOK {
		t.Errorf("media with a valid ticket: %d", st)
	}
	if st, _ := n.media(t, "/hls/"+id+"/init.mp4", ""); st != http.StatusOK {
		t.Errorf("media without a ticket (anonymous, not shedding): %d", st)
	}
	for name, body := range map[string]string{"malformed": `{"ticket":`, "unknown field": `{"tiket":"x"}`, "bad queue token": `{"queue_token":"abc"}`} {
		st, b, _ := n.raw(t, "POST", "/api/spaces/"+id+"/join", "", "application/json", []byte(body))
		if st != http.StatusBadRequest && st != http.StatusUnauthorized {
			t.Errorf("join with %s body: %d %s, want 400/401", name, st, b)
		}
	}
	if st, _, _ := n.raw(t, "POST", "/api/spaces/sp_aaaaaaaaaaaa/join", "", "", nil); st != http.StatusNotFound {
		t.Errorf("join unknown space: %d, want 404", st)
	}
	big := strings.Repeat("x", 5000)
	if st, _, _ := n.raw(t, "POST", "/api/spaces/"+id+"/join", "", "application/json", []byte(`{"ticket":"`+big+`"}`)); st != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize join body: %d, want 413", st)
	}
	n.api(t, "POST", "/api/spaces/"+id+"/end", sp.HostToken, nil, nil)
	if st, _ := n.join(t, id, nil); st != http.StatusConflict {
		t.Errorf("join ended space: %d, want 409", st)
	}
}

func TestWaitingRoomAndAttackMode(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	cfg := testConfig(t)
	cfg.Admission.MaxListeners = 3
	cfg.Admission.AdmitRate = 3
	cfg.Admission.PowDifficulty = 10
	n := runNode(t, cfg)
	a := n.App
	sp := n.createSpace(t)
	id := sp.Space.ID
	n.api(t, "POST", "/api/spaces/"+id+"/start", sp.HostToken, nil, nil)

	// Three listeners fill a node made for three.
	pctx, pcancel := context.WithCancel(context.Background())
	defer pcancel()
	for i := 0; i < 3; i++ {
		st, d := n.join(t, id, nil)
		if st != http.StatusOK {
			t.Fatalf("join %d on an empty node: %d %+v (listeners %d)", i, st, d, a.adm.Listeners.Total())
		}
		hc := &http.Client{Transport: ticketTransport{d.Ticket, &http.Transport{}}}
		go hlsclient.Play(pctx, hc, n.base+"/hls/"+id+"/index.m3u8", func([]byte, int64) {})
	}
	deadline := time.Now().Add(15 * time.Second)
	for a.adm.Listeners.Total() < 2 { // 3, or 2 if two ids share a register (1 in 1,400)
		if time.Now().After(deadline) {
			t.Fatalf("listener count %d, never reached the 3 ticket holders playing", a.adm.Listeners.Total())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Joins now queue, first come first served, with honest positions:
	// the first in line is at position 1, and a line that stands still
	// gives no estimate, saying why.
	var waiting []joinDoc
	for i := 0; i < 5; i++ {
		st, d := n.join(t, id, nil)
		if st == http.StatusOK {
			continue // the frontier may run up to a second of AdmitRate ahead
		}
		if st != http.StatusAccepted || !d.Queued || d.QueueToken == "" {
			t.Fatalf("join %d on a full node: %d %+v, want 202 queued", i, st, d)
		}
		waiting = append(waiting, d)
	}
	if len(waiting) < 3 {
		t.Fatalf("only %d of 5 joins queued", len(waiting))
	}
	for i := 1; i < len(waiting); i++ {
		if waiting[i].Position <= waiting[i-1].Position {
			t.Errorf("positions not in arrival order: %d then %d", waiting[i-1].Position, waiting[i].Position)
		}
	}
	if waiting[0].Position < 1 {
		t.Errorf("first in line told position %d, want positions from 1", waiting[0].Position)
	}
	for i, d := range waiting {
		if d.Estimate != nil || d.Reason == "" {
			t.Errorf("waiter %d on a full node whose line stands still: estimate given %v, reason %q; want none, with a reason", i, d.Estimate != nil, d.Reason)
		}
	}
	// While the node stays full nobody is let in; once the listener leaves,
	// the first in line is admitted.
	time.Sleep(1500 * time.Millisecond)
	if st, d := n.join(t, id, map[string]any{"queue_token": waiting[0].QueueToken}); st != http.StatusAccepted {
		t.Fatalf("first in line on a full node (listeners %d): %d %+v, want still queued", a.adm.Listeners.Total(), st, d)
	}
	pcancel()
	first := waiting[0]
	deadline = time.Now().Add(30 * time.Second) // the players are forgotten within two listener windows
	for {
		st, d := n.join(t, id, map[string]any{"queue_token": first.QueueToken})
		if st == http.StatusOK && d.Ticket != "" {
			break
		}
		if st != http.StatusAccepted || time.Now().After(deadline) {
			t.Fatalf("first in line never admitted: %d %+v", st, d)
		}
		first = d
		time.Sleep(500 * time.Millisecond)
	}

	// Attack mode: new joins must solve a proof of work; media is untouched.
	if st, _, _ := n.raw(t, "POST", "/api/admin/attack", sp.HostToken, "application/json", []byte(`{"on":true}`)); st != http.StatusForbidden {
		t.Errorf("host declares attack mode: %d, want 403", st)
	}
	if st := n.api(t, "POST", "/api/admin/attack", n.OperatorToken(), map[string]any{"on": true}, nil); st != http.StatusOK {
		t.Fatalf("declare attack: %d", st)
	}
	st, d := n.join(t, id, nil)
	if st != http.StatusUnauthorized || d.Code != "challenge" || d.Challenge.Difficulty != 10 {
		t.Fatalf("join in attack mode: %d %+v, want 401 challenge of difficulty 10", st, d)
	}
	if st, d2 := n.join(t, id, map[string]any{"pow": map[string]string{"challenge": d.Challenge.Challenge, "nonce": "0"}}); st != http.StatusUnauthorized || d2.Code != "challenge" {
		t.Errorf("wrong nonce: %d %+v, want a new challenge", st, d2)
	}
	nonce, err := admission.Solve(context.Background(), admission.Challenge{Challenge: d.Challenge.Challenge, Difficulty: d.Challenge.Difficulty})
	if err != nil {
		t.Fatal(err)
	}
	st, d = n.join(t, id, map[string]any{"pow": map[string]string{"challenge": d.Challenge.Challenge, "nonce": nonce}})
	if st != http.StatusOK && st != http.StatusAccepted {
		t.Fatalf("solved challenge: %d %+v, want admitted or queued", st, d)
	}
	if st, _ := n.media(t, "/hls/"+id+"/init.mp4", ""); st != http.StatusOK {
		t.Errorf("media in attack mode: %d, want 200 (never challenged)", st)
	}
	var status struct {
		AttackMode bool           `json:"attack_mode"`
		Listeners  int            `json:"listeners"`
		Admissions map[string]int `json:"admissions"`
		Spaces     []struct {
			Queue int `json:"queue"`
		} `json:"spaces"`
		Requests map[string]int `json:"requests"`
	}
	time.Sleep(1100 * time.Millisecond) // the status document is rebuilt at most once a second
	if st := n.api(t, "GET", "/api/admin/status", n.OperatorToken(), nil, &status); st != http.StatusOK {
		t.Fatalf("admin status: %d", st)
	}
	if !status.AttackMode || status.Admissions["queued"] < 3 || status.Admissions["challenged"] < 2 || len(status.Spaces) != 1 || status.Requests["listener"]+status.Requests["anonymous"] == 0 {
		t.Errorf("admin status = %+v", status)
	}
}

// ticketTransport sends a listener's ticket with every request, as the
// web player does.
type ticketTransport struct {
	ticket string
	next   http.RoundTripper
}

func (t ticketTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Podium-Ticket", t.ticket)
	return t.next.RoundTrip(r)
}

// TestTrustedProxy: behind a trusted proxy the join limits count each
// client named in X-Forwarded-For; from an untrusted address the header is
// ignored, so a flooder cannot spread itself over invented addresses.
func TestTrustedProxy(t *testing.T) {
	joins := func(n *node, id string, xff func(i int) string) (ok, limited int) {
		for i := 0; i < 12; i++ {
			req, _ := http.NewRequest("POST", n.base+"/api/spaces/"+id+"/join", strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", xff(i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				limited++
			default:
				t.Fatalf("join: %d", resp.StatusCode)
			}
		}
		return ok, limited
	}
	many := func(i int) string { return fmt.Sprintf("198.51.100.%d", i+1) }
	one := func(int) string { return "198.51.100.200" }

	limited := func() config.Config {
		cfg := testConfig(t)
		cfg.Admission.JoinsPerIP, cfg.Admission.JoinsPerNet = 1, 20 // the defaults: burst 5 per address
		return cfg
	}
	cfg := limited()
	cfg.TrustedProxies = []string{"127.0.0.0/8"}
	n := runNode(t, cfg)
	sp := n.createSpace(t)
	n.api(t, "POST", "/api/spaces/"+sp.Space.ID+"/start", sp.HostToken, nil, nil)
	if ok, lim := joins(n, sp.Space.ID, many); ok != 12 || lim != 0 {
		t.Errorf("12 clients through the proxy: %d admitted, %d limited; want all admitted", ok, lim)
	}
	if ok, lim := joins(n, sp.Space.ID, one); ok != 5 || lim != 7 {
		t.Errorf("one client through the proxy 12 times: %d admitted, %d limited; want its burst of 5", ok, lim)
	}

	plain := runNode(t, limited()) // trusts nobody
	sp2 := plain.createSpace(t)
	plain.api(t, "POST", "/api/spaces/"+sp2.Space.ID+"/start", sp2.HostToken, nil, nil)
	if ok, lim := joins(plain, sp2.Space.ID, many); ok != 5 || lim != 7 {
		t.Errorf("untrusted sender with invented addresses: %d admitted, %d limited; want one client's burst of 5", ok, lim)
	}
}
