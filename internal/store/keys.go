package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/podium-live/podium/internal/auth"
)

var _ auth.Store = (*SQLite)(nil)

// SigningKeys returns the keys still accepted at now, deleting the others.
func (s *SQLite) SigningKeys(ctx context.Context, now time.Time) ([]auth.Key, error) {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM signing_keys WHERE retired_at != 0 AND accept_until <= ?`, unix(now)); err != nil {
		return nil, fmt.Errorf("store: prune signing keys: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, secret, created_at, retired_at, accept_until FROM signing_keys ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("store: signing keys: %w", err)
	}
	defer rows.Close()
	var out []auth.Key
	for rows.Next() {
		var k auth.Key
		var created, retired, until int64
		if err := rows.Scan(&k.ID, &k.Secret, &created, &retired, &until); err != nil {
			return nil, fmt.Errorf("store: signing keys: %w", err)
		}
		k.Created, k.Retired, k.AcceptUntil = fromUnix(created), fromUnix(retired), fromUnix(until)
		out = append(out, k)
	}
	return out, rows.Err()
}

// FirstSigningKey stores k as the current key unless there is one.
func (s *SQLite) FirstSigningKey(ctx context.Context, k auth.Key) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO signing_keys (id, secret, created_at)
		SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at = 0)`, k.ID, k.Secret, unix(k.Created))
	if err != nil {
		return fmt.Errorf("store: first signing key: %w", err)
	}
	return nil
}

// RotateSigningKey retires the current key (and shortens the grace of
// retired ones to acceptUntil) and makes k current, in one transaction.
func (s *SQLite) RotateSigningKey(ctx context.Context, k auth.Key, acceptUntil time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: rotate: %w", err)
	}
	defer tx.Rollback()
	until := unix(acceptUntil)
	if until == 0 {
		until = 1 // a zero grace at the epoch still retires
	}
	if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ?, accept_until = ? WHERE retired_at = 0`, unix(k.Created), until); err != nil {
		return fmt.Errorf("store: rotate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET accept_until = ? WHERE accept_until > ?`, until, until); err != nil {
		return fmt.Errorf("store: rotate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (id, secret, created_at) VALUES (?, ?, ?)`, k.ID, k.Secret, unix(k.Created)); err != nil {
		return fmt.Errorf("store: rotate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: rotate: %w", err)
	}
	return nil
}

// RevokeToken refuses token id until until (the later of two revocations
// wins).
func (s *SQLite) RevokeToken(ctx context.Context, id string, until time.Time) error {
	return revokeToken(ctx, s.db, id, until)
}

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func revokeToken(ctx context.Context, db execer, id string, until time.Time) error {
	_, err := db.ExecContext(ctx, `INSERT INTO revoked_tokens (id, until) VALUES (?, ?)
		ON CONFLICT(id) DO UPDATE SET until = max(until, excluded.until)`, id, unix(until))
	if err != nil {
		return fmt.Errorf("store: revoke token: %w", err)
	}
	return nil
}

// RevokedTokens returns the revocations in force at now, deleting the
// others.
func (s *SQLite) RevokedTokens(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM revoked_tokens WHERE until <= ?`, unix(now)); err != nil {
		return nil, fmt.Errorf("store: prune revocations: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, until FROM revoked_tokens`)
	if err != nil {
		return nil, fmt.Errorf("store: revocations: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var until int64
		if err := rows.Scan(&id, &until); err != nil {
			return nil, fmt.Errorf("store: revocations: %w", err)
		}
		out[id] = fromUnix(until)
	}
	return out, rows.Err()
}

// ReplaceToken makes id the token of slot and revokes the previous one,
// in one transaction.
func (s *SQLite) ReplaceToken(ctx context.Context, slot, id string, until time.Time) (string, time.Time, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: replace token: %w", err)
	}
	defer tx.Rollback()
	var old string
	var oldUntil int64
	err = tx.QueryRowContext(ctx, `SELECT token_id, until FROM token_slots WHERE slot = ?`, slot).Scan(&old, &oldUntil)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, fmt.Errorf("store: replace token: %w", err)
	}
	if old != "" {
		if err := revokeToken(ctx, tx, old, fromUnix(oldUntil)); err != nil {
			return "", time.Time{}, err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO token_slots (slot, token_id, until) VALUES (?, ?, ?)
		ON CONFLICT(slot) DO UPDATE SET token_id = excluded.token_id, until = excluded.until`, slot, id, unix(until)); err != nil {
		return "", time.Time{}, fmt.Errorf("store: replace token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", time.Time{}, fmt.Errorf("store: replace token: %w", err)
	}
	return old, fromUnix(oldUntil), nil
}
