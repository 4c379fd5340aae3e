// Package store keeps podium's durable state: spaces, invites and the node's
// secrets. SQLite (pure Go, modernc.org/sqlite) is the embedded default; the
// SQL is kept portable so a PostgreSQL implementation can follow.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/podium-live/podium/internal/space"
)

// SQLite is a store in one SQLite file. It is safe for concurrent use.
type SQLite struct {
	db *sql.DB
}

// migrations are applied in order; PRAGMA user_version counts how many a
// database has. Never edit one that has shipped: append a new one.
var migrations = []string{`
CREATE TABLE IF NOT EXISTS spaces (
	id TEXT PRIMARY KEY,
	title TEXT NOT NULL,
	description TEXT NOT NULL,
	state TEXT NOT NULL,
	scheduled_start INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	started_at INTEGER NOT NULL DEFAULT 0,
	ended_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS spaces_created ON spaces(created_at);
CREATE TABLE IF NOT EXISTS invites (
	id TEXT PRIMARY KEY,
	space_id TEXT NOT NULL REFERENCES spaces(id),
	name TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS invites_space ON invites(space_id);
CREATE TABLE IF NOT EXISTS secrets (
	name TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
`, `
ALTER TABLE spaces ADD COLUMN record INTEGER NOT NULL DEFAULT 1;
CREATE TABLE recordings (
	space_id TEXT PRIMARY KEY REFERENCES spaces(id),
	published_at INTEGER NOT NULL DEFAULT 0,
	publish_at INTEGER NOT NULL DEFAULT 0,
	deleted_at INTEGER NOT NULL DEFAULT 0,
	deleted_by TEXT NOT NULL DEFAULT ''
);
`, `
CREATE TABLE signing_keys (
	id TEXT PRIMARY KEY,
	secret BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	retired_at INTEGER NOT NULL DEFAULT 0,
	accept_until INTEGER NOT NULL DEFAULT 0
);
INSERT INTO signing_keys (id, secret, created_at) SELECT '0', value, 0 FROM secrets WHERE name='token-key';
DELETE FROM secrets WHERE name='token-key';
CREATE TABLE revoked_tokens (
	id TEXT PRIMARY KEY,
	until INTEGER NOT NULL
);
CREATE TABLE token_slots (
	slot TEXT PRIMARY KEY,
	token_id TEXT NOT NULL,
	until INTEGER NOT NULL
);
`, `
ALTER TABLE recordings ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
`, `
CREATE TABLE settings (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`, `
CREATE TABLE moderators (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE flaggers (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE notices (
	id TEXT PRIMARY KEY,
	space_id TEXT NOT NULL,
	secret_hash BLOB NOT NULL,
	received_at INTEGER NOT NULL,
	body TEXT NOT NULL,
	lane TEXT NOT NULL,
	state TEXT NOT NULL,
	assignee TEXT NOT NULL DEFAULT '',
	assigned_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notices_lane_state ON notices(lane, state, received_at);
CREATE TABLE restrictions (
	id TEXT PRIMARY KEY,
	space_id TEXT NOT NULL,
	body TEXT NOT NULL,
	reversed_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE moderation_log (
	seq INTEGER PRIMARY KEY,
	body TEXT NOT NULL,
	prev_hash BLOB NOT NULL,
	hash BLOB NOT NULL
);
CREATE INDEX notices_space ON notices(space_id);
CREATE TABLE decisions (
	id TEXT PRIMARY KEY,
	case_id TEXT NOT NULL UNIQUE,
	space_id TEXT NOT NULL,
	status TEXT NOT NULL,
	decided_at INTEGER NOT NULL,
	body TEXT NOT NULL
);
CREATE INDEX decisions_space ON decisions(space_id, decided_at);
CREATE TABLE statements (
	puid TEXT PRIMARY KEY,
	decision_id TEXT NOT NULL,
	body TEXT NOT NULL
);
`,
	// 7: the Transparency Database outbox.
	migrationDSAOutbox}

func migrate(ctx context.Context, db *sql.DB) error {
	var version int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this podium (%d): upgrade podium", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// OpenSQLite opens (creating if needed) the database at path. The
// database and its -wal and -shm files are owner-only (0600), whatever
// the umask and whatever mode they had: they hold the signing keys.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if err := ownerOnly(path); err != nil {
		return nil, err
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	return &SQLite{db: db}, nil
}

// ownerOnly creates the database file with mode 0600 if it is missing
// (SQLite gives its -wal and -shm files the database's mode) and takes
// group and other permissions off the three files if they have any.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("store: make %s owner-only: %w", p, err)
			}
		}
	}
	return nil
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromUnix(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// CreateSpace stores a new space.
func (s *SQLite) CreateSpace(ctx context.Context, sp space.Space) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO spaces (id, title, description, state, scheduled_start, created_at, started_at, ended_at, record) VALUES (?,?,?,?,?,?,?,?,?)`,
		sp.ID, sp.Title, sp.Description, string(sp.State), unix(sp.ScheduledStart), unix(sp.CreatedAt), unix(sp.StartedAt), unix(sp.EndedAt), sp.Record)
	if err != nil {
		return fmt.Errorf("store: create space: %w", err)
	}
	return nil
}

// ErrConflict means a conditional update found the row changed since it
// was read: read again and retry the change.
var ErrConflict = errors.New("store: changed concurrently")

// UpdateSpace writes a space's state and times if its state is still from
// (compare-and-set: two nodes, or two requests, cannot both move a space
// out of the same state). A space that is gone is space.ErrNotFound; one
// whose state is no longer from is ErrConflict.
func (s *SQLite) UpdateSpace(ctx context.Context, sp space.Space, from space.State) error {
	res, err := s.db.ExecContext(ctx,
		`UPDATE spaces SET state=?, started_at=?, ended_at=?, title=?, description=?, scheduled_start=?, record=? WHERE id=? AND state=?`,
		string(sp.State), unix(sp.StartedAt), unix(sp.EndedAt), sp.Title, sp.Description, unix(sp.ScheduledStart), sp.Record, sp.ID, string(from))
	if err != nil {
		return fmt.Errorf("store: update space: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Space(ctx, sp.ID); err != nil {
			return err
		}
		return ErrConflict
	}
	return nil
}

const spaceCols = `id, title, description, state, scheduled_start, created_at, started_at, ended_at, record`

func scanSpace(row interface{ Scan(...any) error }) (space.Space, error) {
	var sp space.Space
	var state string
	var sched, created, started, ended int64
	if err := row.Scan(&sp.ID, &sp.Title, &sp.Description, &state, &sched, &created, &started, &ended, &sp.Record); err != nil {
		return sp, err
	}
	sp.State = space.State(state)
	sp.ScheduledStart, sp.CreatedAt = fromUnix(sched), fromUnix(created)
	sp.StartedAt, sp.EndedAt = fromUnix(started), fromUnix(ended)
	return sp, nil
}

// Space returns the space with id, or space.ErrNotFound.
func (s *SQLite) Space(ctx context.Context, id string) (space.Space, error) {
	sp, err := scanSpace(s.db.QueryRowContext(ctx, `SELECT `+spaceCols+` FROM spaces WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sp, space.ErrNotFound
	}
	if err != nil {
		return sp, fmt.Errorf("store: space %s: %w", id, err)
	}
	return sp, nil
}

// Spaces lists spaces, newest first, at most limit.
func (s *SQLite) Spaces(ctx context.Context, limit int) ([]space.Space, error) {
	return s.querySpaces(ctx, `SELECT `+spaceCols+` FROM spaces ORDER BY created_at DESC LIMIT ?`, limit)
}

// SpacesIn lists spaces in state, oldest first.
func (s *SQLite) SpacesIn(ctx context.Context, state space.State) ([]space.Space, error) {
	return s.querySpaces(ctx, `SELECT `+spaceCols+` FROM spaces WHERE state=? ORDER BY created_at`, string(state))
}

func (s *SQLite) querySpaces(ctx context.Context, q string, arg any) ([]space.Space, error) {
	rows, err := s.db.QueryContext(ctx, q, arg)
	if err != nil {
		return nil, fmt.Errorf("store: list spaces: %w", err)
	}
	defer rows.Close()
	var out []space.Space
	for rows.Next() {
		sp, err := scanSpace(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list spaces: %w", err)
		}
		out = append(out, sp)
	}
	return out, rows.Err()
}

// CreateInvite stores a new invite.
func (s *SQLite) CreateInvite(ctx context.Context, inv space.Invite) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO invites (id, space_id, name, created_at, expires_at, revoked_at) VALUES (?,?,?,?,?,0)`,
		inv.ID, inv.SpaceID, inv.Name, unix(inv.CreatedAt), unix(inv.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create invite: %w", err)
	}
	return nil
}

const inviteCols = `id, space_id, name, created_at, expires_at, revoked_at`

func scanInvite(row interface{ Scan(...any) error }) (space.Invite, error) {
	var inv space.Invite
	var created, expires, revoked int64
	if err := row.Scan(&inv.ID, &inv.SpaceID, &inv.Name, &created, &expires, &revoked); err != nil {
		return inv, err
	}
	inv.CreatedAt, inv.ExpiresAt, inv.RevokedAt = fromUnix(created), fromUnix(expires), fromUnix(revoked)
	return inv, nil
}

// Invite returns the invite with id, or space.ErrNotFound.
func (s *SQLite) Invite(ctx context.Context, id string) (space.Invite, error) {
	inv, err := scanInvite(s.db.QueryRowContext(ctx, `SELECT `+inviteCols+` FROM invites WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return inv, space.ErrNotFound
	}
	if err != nil {
		return inv, fmt.Errorf("store: invite %s: %w", id, err)
	}
	return inv, nil
}

// Invites lists a space's invites, oldest first.
func (s *SQLite) Invites(ctx context.Context, spaceID string) ([]space.Invite, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+inviteCols+` FROM invites WHERE space_id=? ORDER BY created_at`, spaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list invites: %w", err)
	}
	defer rows.Close()
	var out []space.Invite
	for rows.Next() {
		inv, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list invites: %w", err)
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// RevokeInvite marks an invite of spaceID revoked at now.
func (s *SQLite) RevokeInvite(ctx context.Context, spaceID, id string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE invites SET revoked_at=? WHERE id=? AND space_id=? AND revoked_at=0`, unix(now), id, spaceID)
	if err != nil {
		return fmt.Errorf("store: revoke invite: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return space.ErrNotFound
	}
	return nil
}

// Secret returns the named secret, creating it with make() on first use.
func (s *SQLite) Secret(ctx context.Context, name string, make func() []byte) ([]byte, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)`, name, make()); err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	var v []byte
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name=?`, name).Scan(&v); err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	return v, nil
}
