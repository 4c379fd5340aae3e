package app

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/hls/hlsclient"
	"github.com/podium-live/podium/internal/whip"
)

// stageSpeaker is one speaker of the /live document.
type stageSpeaker struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	Muted     bool   `json:"muted"`
	SelfMuted bool   `json:"self_muted"`
	HostMuted bool   `json:"host_muted"`
}

// stage returns who is on the stage of space id now (the /live cache is
// invalidated by every stage change this test makes through the API).
func (n *node) stage(t testing.TB, id string) []stageSpeaker {
	t.Helper()
	var st struct {
		Speakers []stageSpeaker `json:"speakers"`
	}
	if code := n.api(t, "GET", "/api/spaces/"+id+"/live", "", nil, &st); code != http.StatusOK {
		t.Fatalf("live: %d", code)
	}
	return st.Speakers
}

// listen plays the space's LL-HLS stream into an ear until the test ends.
func (n *node) listen(t *testing.T, id string) *ear {
	e := newEar(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		hlsclient.Play(ctx, http.DefaultClient, n.base+"/hls/"+id+"/index.m3u8", func(pkt []byte, _ int64) { e.packet(pkt) })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

func (n *node) liveSpace(t *testing.T) (id, host string) {
	t.Helper()
	sp := n.createSpace(t)
	if st := n.api(t, "POST", "/api/spaces/"+sp.Space.ID+"/start", sp.HostToken, nil, nil); st != http.StatusOK {
		t.Fatalf("start: %d", st)
	}
	return sp.Space.ID, sp.HostToken
}

func (n *node) mute(t *testing.T, id, spk, token string, muted bool) (int, map[string]any) {
	t.Helper()
	var out map[string]any
	st := n.api(t, "POST", "/api/spaces/"+id+"/speakers/"+spk+"/mute", token, map[string]bool{"muted": muted}, &out)
	return st, out
}

// dialStatus joins with token and returns the WHIP answer's status (201 on
// success, with the client closed when the test ends).
func (n *node) dialStatus(t *testing.T, id, token, name string) (int, *whip.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := whip.Dial(ctx, n.base+"/api/spaces/"+id+"/whip", token, whip.Options{Name: name})
	var we *whip.Error
	if errors.As(err, &we) {
		return we.Status, nil
	}
	if err != nil {
		t.Fatalf("%s dial: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return http.StatusCreated, c
}

// TestHostMuteHolds: a speaker cannot lift the host's mute, not by
// unmuting themselves and not by reconnecting; they are heard again only
// when the host lifts it and their own mute is off too.
func TestHostMuteHolds(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	n := startNode(t)
	id, host := n.liveSpace(t)
	n.speak(t, id, n.invite(t, id, host, "Alice"), "Alice", 440, 0, nil)
	bobTok := n.invite(t, id, host, "Bob")
	bob := n.speak(t, id, bobTok, "Bob", 660, 0, nil)
	ear := n.listen(t, id)
	check(t, "both", ear.hear(2500*time.Millisecond, 1500*time.Millisecond, 440, 660), []float64{440, 660}, nil)

	if st, _ := n.mute(t, id, bob.c.ID(), host, true); st != http.StatusOK {
		t.Fatalf("host mutes bob: %d", st)
	}
	st, out := n.mute(t, id, bob.c.ID(), bobTok, false)
	if st != http.StatusOK || out["muted"] != true || out["host_muted"] != true || out["self_muted"] != false {
		t.Fatalf("bob unmutes himself: %d %v, want 200 and still muted by the host", st, out)
	}
	check(t, "bob tried to unmute", ear.hear(2500*time.Millisecond, 1500*time.Millisecond, 440, 660), []float64{440}, []float64{660})
	for _, s := range n.stage(t, id) {
		if s.Name == "Bob" && (!s.Muted || !s.HostMuted || s.SelfMuted) {
			t.Fatalf("/live shows bob %+v, want muted by the host only", s)
		}
	}

	// Reconnecting with the same invite replaces the session and keeps the mute.
	bob.stop()
	bob.c.Close()
	bob = n.speak(t, id, bobTok, "Bob", 660, 0, nil)
	check(t, "bob reconnected", ear.hear(2500*time.Millisecond, 1500*time.Millisecond, 440, 660), []float64{440}, []float64{660})

	// His own mute is separate: the host lifting theirs does not lift it.
	if st, _ := n.mute(t, id, bob.c.ID(), bobTok, true); st != http.StatusOK {
		t.Fatalf("bob mutes himself: %d", st)
	}
	if st, out := n.mute(t, id, bob.c.ID(), host, false); st != http.StatusOK || out["muted"] != true || out["self_muted"] != true {
		t.Fatalf("host unmutes bob: %d %v, want still muted by himself", st, out)
	}
	check(t, "self-muted", ear.hear(2500*time.Millisecond, 1500*time.Millisecond, 440, 660), []float64{440}, []float64{660})
	if st, out := n.mute(t, id, bob.c.ID(), bobTok, false); st != http.StatusOK || out["muted"] != false {
		t.Fatalf("bob unmutes himself: %d %v", st, out)
	}
	check(t, "neither muted", ear.hear(2500*time.Millisecond, 1500*time.Millisecond, 440, 660), []float64{440, 660}, nil)
}

// TestRemovedSpeakerIsBarred: the host's removal holds; the speaker
// comes back only with a new invite.
func TestRemovedSpeakerIsBarred(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	n := startNode(t)
	id, host := n.liveSpace(t)
	bobTok := n.invite(t, id, host, "Bob")
	bob := n.speak(t, id, bobTok, "Bob", 660, 0, nil)
	ear := n.listen(t, id)
	check(t, "bob on stage", ear.hear(2500*time.Millisecond, 1500*time.Millisecond, 660), []float64{660}, nil)
	if st := n.api(t, "DELETE", "/api/spaces/"+id+"/speakers/"+bob.c.ID(), host, nil, nil); st != http.StatusNoContent {
		t.Fatalf("remove: %d", st)
	}
	// The removal revokes the invite, and with it the token's id: the
	// rejoin is refused before it reaches the stage.
	if st, _ := n.dialStatus(t, id, bobTok, "Bob again"); st != http.StatusUnauthorized {
		t.Fatalf("rejoin with the removed invite: %d, want 401 (token revoked)", st)
	}
	if got := n.stage(t, id); len(got) != 0 {
		t.Fatalf("stage after removal: %+v, want empty", got)
	}
	check(t, "bob removed", ear.hear(2500*time.Millisecond, 1500*time.Millisecond, 660), nil, []float64{660})
	n.speak(t, id, n.invite(t, id, host, "Bob"), "Bob", 660, 0, nil)
	check(t, "bob invited again", ear.hear(2500*time.Millisecond, 1500*time.Millisecond, 660), []float64{660}, nil)
}

// TestOneSessionPerInvite: joins with one invite replace each other, and
// speakers with invites never take the host's place.
func TestOneSessionPerInvite(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	cfg := testConfig(t)
	cfg.Stage.MaxSpeakers = 3
	n := runNode(t, cfg)
	id, host := n.liveSpace(t)
	tok := n.invite(t, id, host, "Mallory")
	// Joins with one invite are limited to a burst of five (then one per
	// five seconds): each admitted join replaces the last, the rest are
	// refused before they reach the stage.
	joined, limited := 0, 0
	for i := range 10 {
		switch st, _ := n.dialStatus(t, id, tok, "Mallory"); st {
		case http.StatusCreated:
			joined++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("join %d with one invite: %d, want 201 (replacing the last) or 429", i, st)
		}
	}
	if joined < 2 || limited == 0 {
		t.Fatalf("10 joins with one invite: %d admitted, %d limited; want several admitted (each replacing the last) and the flood limited", joined, limited)
	}
	if got := n.stage(t, id); len(got) != 1 {
		t.Fatalf("after 10 joins with one invite, stage = %+v, want 1 session", got)
	}
	if st, _ := n.dialStatus(t, id, n.invite(t, id, host, "Bob"), "Bob"); st != http.StatusCreated {
		t.Fatalf("second invite: %d", st)
	}
	// Two places of three are taken by invites: the third is the host's.
	if st, _ := n.dialStatus(t, id, n.invite(t, id, host, "Carol"), "Carol"); st != http.StatusConflict {
		t.Fatalf("third invite on a stage of 3: %d, want 409 (the host's place)", st)
	}
	n.speak(t, id, host, "Host", 440, 0, nil)
	ear := n.listen(t, id)
	check(t, "host on a full stage", ear.hear(2500*time.Millisecond, 1500*time.Millisecond, 440), []float64{440}, nil)
	if got := n.stage(t, id); len(got) != 3 {
		t.Fatalf("stage = %+v, want Mallory, Bob and the host", got)
	}
}

// TestRevokeRacesJoins: joins authorized before a revocation that are
// still negotiating when it lands never stay on stage.
func TestRevokeRacesJoins(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	cfg := testConfig(t)
	cfg.Stage.MaxSpeakers = 20
	n := runNode(t, cfg)
	id, host := n.liveSpace(t)
	for round := range 8 {
		var inv struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		}
		if st := n.api(t, "POST", "/api/spaces/"+id+"/invites", host, map[string]any{"name": "Eve"}, &inv); st != http.StatusCreated {
			t.Fatalf("invite: %d", st)
		}
		var wg sync.WaitGroup
		statuses := make([]int, 6)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				c, err := whip.Dial(ctx, n.base+"/api/spaces/"+id+"/whip", inv.Token, whip.Options{Name: "Eve"})
				var we *whip.Error
				switch {
				case errors.As(err, &we):
					statuses[i] = we.Status
				case err != nil:
					t.Errorf("dial: %v", err)
				default:
					statuses[i] = http.StatusCreated
					t.Cleanup(func() { c.Close() })
				}
			}()
		}
		// Revoke while the joins are in flight: staggered per round so
		// that some land before, some during, some after negotiation.
		time.Sleep(time.Duration(round) * 2 * time.Millisecond)
		if st := n.api(t, "DELETE", "/api/spaces/"+id+"/invites/"+inv.ID, host, nil, nil); st != http.StatusNoContent {
			t.Fatalf("revoke: %d", st)
		}
		wg.Wait()
		if got := n.stage(t, id); len(got) != 0 {
			t.Fatalf("round %d: joins %v, stage after revoke = %+v, want empty", round, statuses, got)
		}
		t.Logf("round %d: join answers %v", round, statuses)
	}
}
