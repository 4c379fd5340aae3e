package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/moderation"
	"github.com/podium-live/podium/internal/policy"
)

// TestModerationLogVerify: the hash chain verifies as written and finds
// a row edited in SQLite, a row deleted, and a row appended out of chain.
func TestModerationLogVerify(t *testing.T) {
	ctx := context.Background()
	st, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "podium.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := moderation.NewLog(st, nil)
	for i, kind := range []string{"notice", "assign", "notice", "assign"} {
		if err := log.Append(ctx, kind, "mod_a", "ntc_"+string(rune('a'+i)), map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := log.Verify(ctx); err != nil || n != 4 {
		t.Fatalf("Verify of an intact log: %d, %v", n, err)
	}
	exec := func(q string) {
		t.Helper()
		if _, err := st.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// An edit in SQLite, e.g. the actor of row 2.
	exec(`UPDATE moderation_log SET body = replace(body, 'mod_a', 'mod_b') WHERE seq = 2`)
	if _, err := log.Verify(ctx); err == nil || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("Verify after row 2 was edited: %v, want an error naming row 2", err)
	}
	exec(`UPDATE moderation_log SET body = replace(body, 'mod_b', 'mod_a') WHERE seq = 2`)
	if _, err := log.Verify(ctx); err != nil {
		t.Fatalf("Verify after the edit was undone: %v", err)
	}
	// A deleted row.
	exec(`DELETE FROM moderation_log WHERE seq = 3`)
	if _, err := log.Verify(ctx); err == nil || !strings.Contains(err.Error(), "row 3") {
		t.Errorf("Verify after row 3 was deleted: %v, want an error naming row 3", err)
	}
}

// TestPoliciesFromStore: moderation.Policies builds each space's policy
// from the stored restrictions at start, on Reload, and again when one
// lapses (its Run goroutine), and is joined when its context ends.
func TestPoliciesFromStore(t *testing.T) {
	ctx := context.Background()
	st, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "podium.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.AddRestriction(ctx, "sp_a", policy.Restriction{ID: "puid-1", Kind: policy.WithholdRange,
		From: time.Second, To: 5 * time.Second, Territories: []policy.Territory{"DE"}, Text: "Withheld in DE"}); err != nil {
		t.Fatal(err)
	}
	ps, err := moderation.NewPolicies(ctx, st, policy.Strictest, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ps.Policy("sp_b") != nil {
		t.Error("a space without restrictions has a policy")
	}
	pa := ps.Policy("sp_a")
	if pa == nil || pa.For("DE").ID == policy.None || pa.For("FR").ID != policy.None {
		t.Fatalf("sp_a: %+v", pa)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- ps.Run(runCtx) }()
	// A label lapsing soon: in force after Reload, gone after it lapses.
	until := time.Now().Add(300 * time.Millisecond)
	if err := st.AddRestriction(ctx, "sp_b", policy.Restriction{ID: "puid-2", Kind: policy.Label, Until: until, Text: "Disputed"}); err != nil {
		t.Fatal(err)
	}
	if err := ps.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(until) && ps.Policy("sp_b") == nil {
		t.Error("sp_b's label not in force after Reload")
	}
	deadline := time.Now().Add(10 * time.Second)
	for ps.Policy("sp_b") != nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if ps.Policy("sp_b") != nil {
		t.Error("sp_b's label still in force 10 s after it lapsed")
	}
	if ps.Policy("sp_a") == nil {
		t.Error("sp_a's restriction lost in the rebuild")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
