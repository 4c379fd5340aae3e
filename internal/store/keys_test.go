package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/auth"
)

// TestKeysAndRevocationsSurviveRestart: what one Signer rotated, revoked
// and replaced is what a Signer opened later on the same database (a
// restart, or another node sharing it) refuses.
func TestKeysAndRevocationsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "podium.db")
	now := time.Now()
	clock := func() time.Time { return now }
	st, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s1, err := auth.Open(ctx, st, clock)
	if err != nil {
		t.Fatal(err)
	}
	exp := now.Add(time.Hour).Unix()
	oldKey := s1.Sign(auth.Claims{Role: auth.RoleHost, Space: "sp_a", Expires: exp})
	host1, err := s1.Issue(ctx, auth.HostSlot("sp_a"), auth.Claims{Role: auth.RoleHost, Space: "sp_a", Expires: exp})
	if err != nil {
		t.Fatal(err)
	}
	host2, err := s1.Issue(ctx, auth.HostSlot("sp_a"), auth.Claims{Role: auth.RoleHost, Space: "sp_a", Expires: exp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Verify(host1); !errors.Is(err, auth.ErrRevoked) {
		t.Errorf("replaced host token on this node: %v, want ErrRevoked", err)
	}
	spk := s1.Sign(auth.Claims{Role: auth.RoleSpeaker, Space: "sp_a", Invite: "inv_x", Expires: exp})
	if err := s1.Revoke(ctx, "inv_x", time.Unix(exp, 0)); err != nil {
		t.Fatal(err)
	}
	kid, err := s1.Rotate(ctx, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	newKey := s1.Sign(auth.Claims{Role: auth.RoleHost, Space: "sp_b", Expires: exp})
	st.Close()

	st, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s2, err := auth.Open(ctx, st, clock)
	if err != nil {
		t.Fatal(err)
	}
	if s2.KeyID() != kid {
		t.Fatalf("after restart the current key is %q, want the rotated %q", s2.KeyID(), kid)
	}
	want := map[string]error{"old key in grace": nil, "new key": nil, "replaced host": auth.ErrRevoked, "current host": nil, "revoked speaker": auth.ErrRevoked}
	toks := map[string]string{"old key in grace": oldKey, "new key": newKey, "replaced host": host1, "current host": host2, "revoked speaker": spk}
	for name, tok := range toks {
		if _, err := s2.Verify(tok); !errors.Is(err, want[name]) {
			t.Errorf("%s after restart: %v, want %v", name, err, want[name])
		}
	}
	now = now.Add(10 * time.Minute)
	if _, err := s2.Verify(oldKey); !errors.Is(err, auth.ErrRetired) {
		t.Errorf("old key past its grace: %v, want ErrRetired", err)
	}
	// Reloaded past the grace: the retired key is gone from the store.
	if err := s2.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	keys, _ := st.SigningKeys(ctx, now)
	if len(keys) != 1 || keys[0].ID != kid {
		t.Errorf("keys past the grace: %+v, want only %s", keys, kid)
	}
	if _, err := s2.Verify(oldKey); !errors.Is(err, auth.ErrSignature) {
		t.Errorf("old key after it was pruned: %v, want ErrSignature", err)
	}
}

// TestLegacyKeyKept: a database from before key ids keeps its key (as key
// "0"), so tokens issued before the upgrade still verify.
func TestLegacyKeyKept(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "podium.db")
	st, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// Back to schema 2 with a token-key secret, as podium left it.
	key := auth.NewKey()
	for _, q := range []string{`DROP TABLE signing_keys`, `DROP TABLE revoked_tokens`, `DROP TABLE token_slots`, `ALTER TABLE recordings DROP COLUMN version`, `DROP TABLE settings`, `DROP TABLE moderators`, `DROP TABLE notices`, `DROP TABLE flaggers`, `DROP TABLE moderation_log`, `DROP TABLE restrictions`, `DROP TABLE decisions`, `DROP TABLE statements`, `PRAGMA user_version = 2`} {
		if _, err := st.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.db.ExecContext(ctx, `INSERT INTO secrets (name, value) VALUES ('token-key', ?)`, key); err != nil {
		t.Fatal(err)
	}
	st.Close()
	old, _ := auth.NewSigner(key, nil)
	tok := old.Sign(auth.Claims{Role: auth.RoleOperator})
	st, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := auth.Open(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID() != auth.LegacyKeyID {
		t.Errorf("current key %q, want the legacy key", s.KeyID())
	}
	if _, err := s.Verify(tok); err != nil {
		t.Errorf("token from before the upgrade: %v", err)
	}
}

// TestDatabaseOwnerOnly: with a umask of 022, a pre-existing 0644
// database and an open data directory, the database and its WAL and SHM
// end up 0600.
func TestDatabaseOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	for _, pre := range []bool{false, true} {
		dir := t.TempDir()
		os.Chmod(dir, 0o755)
		path := filepath.Join(dir, "podium.db")
		if pre {
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		st, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := auth.Open(ctx, st, nil); err != nil { // writes: WAL and SHM exist now
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("pre-existing %v: %v", pre, err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("pre-existing %v: %s has mode %o, want 600", pre, filepath.Base(p), m)
			}
		}
		st.Close()
	}
}
