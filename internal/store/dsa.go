package store

import (
	"context"
	"fmt"
	"time"

	"github.com/podium-live/podium/internal/dsa"
)

// migrationDSAOutbox is the durable outbox of statements of reasons for
// the Transparency Database (state: pending, submitted or dropped).
const migrationDSAOutbox = `
CREATE TABLE IF NOT EXISTS dsa_outbox (
	puid TEXT PRIMARY KEY,
	statement BLOB NOT NULL,
	state TEXT NOT NULL DEFAULT 'pending',
	attempts INTEGER NOT NULL DEFAULT 0,
	reason TEXT NOT NULL DEFAULT '',
	enqueued_at INTEGER NOT NULL,
	done_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS dsa_outbox_pending ON dsa_outbox(state, enqueued_at);
`

var _ dsa.Outbox = (*SQLite)(nil)

// Enqueue adds a statement to the outbox; a puid already there is kept as it is.
func (s *SQLite) Enqueue(ctx context.Context, puid string, statement []byte) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO dsa_outbox (puid, statement, enqueued_at) VALUES (?, ?, ?) ON CONFLICT(puid) DO NOTHING`, puid, statement, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("store: enqueue statement %s: %w", puid, err)
	}
	return nil
}

// TakePending returns up to n pending statements, oldest first.
func (s *SQLite) TakePending(ctx context.Context, n int) ([]dsa.Pending, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT puid, statement, attempts FROM dsa_outbox WHERE state='pending' ORDER BY enqueued_at, puid LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("store: pending statements: %w", err)
	}
	defer rows.Close()
	var out []dsa.Pending
	for rows.Next() {
		var p dsa.Pending
		if err := rows.Scan(&p.PUID, &p.JSON, &p.Attempts); err != nil {
			return nil, fmt.Errorf("store: pending statements: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *SQLite) outboxUpdate(ctx context.Context, q string, puids []string, args ...any) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: outbox: %w", err)
	}
	defer tx.Rollback()
	for _, p := range puids {
		if _, err := tx.ExecContext(ctx, q, append(args, p)...); err != nil {
			return fmt.Errorf("store: outbox %s: %w", p, err)
		}
	}
	return tx.Commit()
}

// MarkSubmitted records that the database stored these puids.
func (s *SQLite) MarkSubmitted(ctx context.Context, puids []string) error {
	return s.outboxUpdate(ctx, `UPDATE dsa_outbox SET state='submitted', done_at=? WHERE puid=?`, puids, time.Now().UnixNano())
}

// MarkDropped records that these puids will not be submitted, and why.
func (s *SQLite) MarkDropped(ctx context.Context, puids []string, reason string) error {
	return s.outboxUpdate(ctx, `UPDATE dsa_outbox SET state='dropped', reason=?, done_at=? WHERE puid=?`, puids, reason, time.Now().UnixNano())
}

// Attempted counts one more submission attempt for these puids.
func (s *SQLite) Attempted(ctx context.Context, puids []string) error {
	return s.outboxUpdate(ctx, `UPDATE dsa_outbox SET attempts=attempts+1 WHERE puid=?`, puids)
}
