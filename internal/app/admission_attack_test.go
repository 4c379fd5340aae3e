package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/admission"
)

// flood sends up to n requests built by req one after another and counts
// the answers by status; it stops early once stopAt (if not 0) is seen.
func flood(t *testing.T, n, stopAt int, req func() *http.Request) map[int]int {
	t.Helper()
	got := map[int]int{}
	for range n {
		resp, err := http.DefaultClient.Do(req())
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got[resp.StatusCode]++
		if stopAt != 0 && resp.StatusCode == stopAt {
			break
		}
	}
	return got
}

// TestCredentialsClassifiedOnlyWhenVerified: an Authorization header lifts
// a request out of rate limiting only if it verifies for the space and the
// role. A junk bearer or a valid token for another space is limited like
// an anonymous request (and refused by the handler); the space's host is
// not limited.
func TestCredentialsClassifiedOnlyWhenVerified(t *testing.T) {
	n := startNode(t)
	sp := n.createSpace(t)
	other := n.createSpace(t)
	id := sp.Space.ID
	n.api(t, "POST", "/api/spaces/"+id+"/start", sp.HostToken, nil, nil)
	speakerTok := n.invite(t, id, sp.HostToken, "Sam")

	get := func(path, tok string) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest("GET", n.base+path, nil)
			if tok != "" {
				r.Header.Set("Authorization", "Bearer "+tok)
			}
			return r
		}
	}
	// The anonymous limit is 20/s with a burst of 40: 400 requests in a
	// row cannot all pass unless they take over 18 s.
	const tries = 400
	for name, tok := range map[string]string{
		"anonymous":                      "",
		"junk bearer":                    "x",
		"other space's host":             other.HostToken,
		"speaker off their stage routes": speakerTok,
	} {
		got := flood(t, tries, http.StatusTooManyRequests, get("/api/spaces/"+id+"/recording", tok))
		if got[http.StatusTooManyRequests] == 0 {
			t.Errorf("%s: %d requests, none limited (%v); want limited like anonymous", name, tries, got)
		}
	}
	// The handler refuses the bad credentials it was handed.
	for name, c := range map[string]struct {
		tok  string
		want int
	}{"junk": {"x", http.StatusUnauthorized}, "other space": {other.HostToken, http.StatusForbidden}} {
		time.Sleep(2 * time.Second) // let the address's bucket refill a little
		if st, body, _ := n.raw(t, "GET", "/api/spaces/"+id+"/invites", c.tok, "", nil); st != c.want || !strings.Contains(body, `"code"`) {
			t.Errorf("invites with a %s credential: %d %s, want %d with a JSON error", name, st, body, c.want)
		}
	}
	// The host of the space is never limited.
	if got := flood(t, tries, 0, get("/api/spaces/"+id+"/recording", sp.HostToken)); got[http.StatusTooManyRequests]+got[http.StatusServiceUnavailable] != 0 {
		t.Errorf("host: %v, want none limited or shed", got)
	}
	if got := flood(t, 100, 0, get("/api/spaces/"+id+"/invites", sp.HostToken)); got[http.StatusOK] != 100 {
		t.Errorf("host listing invites: %v, want 100 × 200", got)
	}
}

// TestStageJoinFloodLimited: a valid speaker token cannot flood WHIP joins,
// even spread over many addresses behind a trusted proxy; another invite is
// unaffected.
func TestStageJoinFloodLimited(t *testing.T) {
	cfg := testConfig(t)
	cfg.TrustedProxies = []string{"127.0.0.0/8"}
	n := runNode(t, cfg)
	sp := n.createSpace(t)
	id := sp.Space.ID
	n.api(t, "POST", "/api/spaces/"+id+"/start", sp.HostToken, nil, nil)
	one := n.invite(t, id, sp.HostToken, "One")
	two := n.invite(t, id, sp.HostToken, "Two")
	i := 0
	whip := func(tok string) func() *http.Request {
		return func() *http.Request {
			i++
			// Not an SDP offer: the handler answers 415 at once, after
			// the limiter has counted the join.
			r, _ := http.NewRequest("POST", n.base+"/api/spaces/"+id+"/whip", strings.NewReader("x"))
			r.Header.Set("Authorization", "Bearer "+tok)
			r.Header.Set("Content-Type", "text/plain")
			r.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.%d.%d", i/200, 1+i%200))
			return r
		}
	}
	got := flood(t, 30, 0, whip(one))
	if got[http.StatusTooManyRequests] < 20 || got[http.StatusUnsupportedMediaType] > 8 {
		t.Errorf("30 WHIP joins with one invite from 30 addresses: %v; want its burst of 5 through, the rest 429", got)
	}
	if got := flood(t, 3, 0, whip(two)); got[http.StatusUnsupportedMediaType] != 3 {
		t.Errorf("another invite: %v, want 3 × 415 (not limited)", got)
	}
	// A junk bearer on WHIP is anonymous: limited per address, refused 401.
	if st, _, _ := n.raw(t, "POST", "/api/spaces/"+id+"/whip", "x", "application/sdp", []byte("v=0")); st != http.StatusUnauthorized {
		t.Errorf("WHIP with a junk bearer: %d, want 401", st)
	}
}

// TestProofOfWorkCannotBeSkipped: a queue token taken before attack mode
// was declared, or from an earlier process, gets a challenge; the
// declaration survives a restart.
func TestProofOfWorkCannotBeSkipped(t *testing.T) {
	cfg := testConfig(t)
	cfg.Admission.AdmitRate = 1 // the second joiner queues
	cfg.Admission.PowDifficulty = 8
	n, stop := runStoppable(t, cfg)
	sp := n.createSpace(t)
	id := sp.Space.ID
	n.api(t, "POST", "/api/spaces/"+id+"/start", sp.HostToken, nil, nil)
	var queued joinDoc
	for i := 0; queued.QueueToken == ""; i++ {
		// A line runs up to a second of AdmitRate ahead of arrivals.
		st, d := n.join(t, id, nil)
		if i == 5 || (st != http.StatusOK && st != http.StatusAccepted) {
			t.Fatalf("join %d at 1/s: %d %+v, want queued by now", i, st, d)
		}
		queued = d
	}
	if st := n.api(t, "POST", "/api/admin/attack", n.OperatorToken(), map[string]any{"on": true}, nil); st != http.StatusOK {
		t.Fatalf("declare attack: %d", st)
	}
	st, d := n.join(t, id, map[string]any{"queue_token": queued.QueueToken})
	if st != http.StatusUnauthorized || d.Code != "challenge" {
		t.Fatalf("peacetime queue token in attack mode: %d %+v, want 401 challenge", st, d)
	}
	nonce, err := admission.Solve(context.Background(), admission.Challenge{Challenge: d.Challenge.Challenge, Difficulty: d.Challenge.Difficulty})
	if err != nil {
		t.Fatal(err)
	}
	st, d = n.join(t, id, map[string]any{"queue_token": queued.QueueToken, "pow": map[string]string{"challenge": d.Challenge.Challenge, "nonce": nonce}})
	if st != http.StatusOK && (st != http.StatusAccepted || d.Position != 1) {
		t.Fatalf("queue token with a solved challenge: %d %+v, want its place kept", st, d)
	}
	proved := d.QueueToken
	stop()

	n2, _ := runStoppable(t, cfg)
	var status struct {
		AttackDeclared bool `json:"attack_declared"`
	}
	if st := n2.api(t, "GET", "/api/admin/status", n2.OperatorToken(), nil, &status); st != http.StatusOK || !status.AttackDeclared {
		t.Errorf("after a restart: %d, attack declared %v; want still declared", st, status.AttackDeclared)
	}
	for name, tok := range map[string]string{"peacetime": queued.QueueToken, "proved": proved} {
		if tok == "" {
			continue
		}
		if st, d := n2.join(t, id, map[string]any{"queue_token": tok}); st != http.StatusUnauthorized || d.Code != "challenge" {
			t.Errorf("%s queue token from the earlier process: %d %+v, want 401 challenge", name, st, d)
		}
	}
	if st := n2.api(t, "POST", "/api/admin/attack", n2.OperatorToken(), map[string]any{"on": false}, nil); st != http.StatusOK {
		t.Fatalf("lift attack mode: %d", st)
	}
	if st, d := n2.join(t, id, nil); st != http.StatusOK && st != http.StatusAccepted {
		t.Errorf("join once attack mode is lifted: %d %+v", st, d)
	}
}

// TestListenersCountedFromTickets: anonymous playlist floods do not fill a
// node made for one listener; a classic player fetching a segment every
// 2 s with its ticket counts as one (however often it polls), shows in
// /live and the operator view, and fills the node.
func TestListenersCountedFromTickets(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	cfg := testConfig(t)
	cfg.Admission.MaxListeners = 1
	cfg.TrustedProxies = []string{"127.0.0.0/8"} // the flood comes from many addresses
	n := runNode(t, cfg)
	sp := n.createSpace(t)
	id := sp.Space.ID
	n.api(t, "POST", "/api/spaces/"+id+"/start", sp.HostToken, nil, nil)
	playlist := "/hls/" + id + "/index.m3u8"

	// 3 s of anonymous playlist requests at ~30/s from 90 addresses.
	for i := range 90 {
		r, _ := http.NewRequest("GET", n.base+playlist, nil)
		r.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", 1+i))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		time.Sleep(33 * time.Millisecond)
	}
	if got := n.adm.Listeners.Total(); got != 0 {
		t.Errorf("after an anonymous playlist flood: %d listeners, want 0", got)
	}
	st, d := n.join(t, id, nil)
	if st != http.StatusOK || d.Ticket == "" {
		t.Fatalf("join after an anonymous flood on a node for one: %d %+v, want admitted", st, d)
	}

	// A classic player: playlist, then the newest segment, every 2 s; and
	// between them 50 more polls with the same ticket.
	segment := func() string {
		_, body := n.media(t, playlist, d.Ticket)
		lines := strings.Split(strings.TrimSpace(body), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "#") {
				return l
			}
		}
		return ""
	}
	var live struct {
		Listeners int `json:"listeners"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for round := 0; ; round++ {
		if s := segment(); s != "" {
			if st, _ := n.media(t, "/hls/"+id+"/"+s, d.Ticket); st != http.StatusOK {
				t.Fatalf("segment %s with a ticket: %d", s, st)
			}
		}
		if round == 1 {
			for range 50 {
				n.media(t, playlist, d.Ticket)
			}
		}
		if round >= 3 {
			n.api(t, "GET", "/api/spaces/"+id+"/live", "", nil, &live)
			if live.Listeners == 1 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/live says %d listeners for one classic player, want 1", live.Listeners)
		}
		time.Sleep(2 * time.Second)
	}
	if got := n.adm.Listeners.Total(); got != 1 {
		t.Errorf("node count %d for one player polled 50 times over, want 1", got)
	}
	var status struct {
		Listeners int `json:"listeners"`
	}
	time.Sleep(1100 * time.Millisecond) // the operator view is rebuilt once a second
	if st := n.api(t, "GET", "/api/admin/status", n.OperatorToken(), nil, &status); st != http.StatusOK || status.Listeners != 1 {
		t.Errorf("operator view: %d, %d listeners; want 1", st, status.Listeners)
	}
	// The one place is taken: the next joiner waits, first in line.
	if st, d := n.join(t, id, nil); st != http.StatusAccepted || d.Position != 1 {
		t.Errorf("join on a node full with one ticket holder: %d %+v, want queued at position 1", st, d)
	}
}

// TestSpeakerSessionFloodLimited: a valid speaker token cannot flood its
// own session routes (mute, ICE restart, leave), not even spread over many
// addresses: what passes is bounded by the per-credential burst and rate.
// A real studio's mute toggles, another speaker and the host are not
// limited.
func TestSpeakerSessionFloodLimited(t *testing.T) {
	cfg := testConfig(t)
	cfg.TrustedProxies = []string{"127.0.0.0/8"}
	n := runNode(t, cfg)
	id, host := n.liveSpace(t)
	attacker := n.invite(t, id, host, "Mallory")
	honestTok := n.invite(t, id, host, "Ada")
	st, honest := n.dialStatus(t, id, honestTok, "Ada")
	if st != http.StatusCreated {
		t.Fatalf("honest speaker joins: %d", st)
	}
	i := 0
	session := func(method, path, tok string) func() *http.Request {
		return func() *http.Request {
			i++
			r, _ := http.NewRequest(method, n.base+"/api/spaces/"+id+path, strings.NewReader(`{"muted":true}`))
			r.Header.Set("Authorization", "Bearer "+tok)
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.%d.%d", i/200, 1+i%200))
			return r
		}
	}
	// The speaker's session limit: a burst of 30, then 2 a second.
	const tries = 200
	start := time.Now()
	mutes := flood(t, tries/2, 0, session("POST", "/speakers/spk_nobody/mute", attacker))
	patches := flood(t, tries/2, 0, session("PATCH", "/whip/spk_nobody", attacker))
	elapsed := time.Since(start)
	limited := mutes[http.StatusTooManyRequests] + patches[http.StatusTooManyRequests]
	if most := 30 + int(2*elapsed.Seconds()) + 1; tries-limited > most || limited == 0 {
		t.Errorf("%d session requests with one speaker token from %d addresses in %v: mute %v, PATCH %v; want at most %d through, the rest 429",
			tries, tries, elapsed, mutes, patches, most)
	}
	// The honest speaker toggles their mute as a studio does, and the host
	// mutes and unmutes them: nothing is limited.
	for k := range 20 {
		if st, out := n.mute(t, id, honest.ID(), honestTok, k%2 == 0); st != http.StatusOK {
			t.Fatalf("honest speaker's mute toggle %d: %d %v", k, st, out)
		}
	}
	if got := flood(t, 100, 0, session("POST", "/speakers/"+honest.ID()+"/mute", host)); got[http.StatusOK] != 100 {
		t.Errorf("host mutes 100 times: %v, want 100 × 200", got)
	}
}
