package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podium-live/podium/internal/moderation"
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
