package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/podium-live/podium/internal/space"
)

// Recording returns the publication state of a space's recording; a space
// without a row yet gets the zero state (private, not deleted).
func (s *SQLite) Recording(ctx context.Context, spaceID string) (space.Recording, error) {
	r, _, err := s.recording(ctx, spaceID)
	return r, err
}

// recording also returns the row's version (0 when there is no row).
func (s *SQLite) recording(ctx context.Context, spaceID string) (space.Recording, int64, error) {
	r := space.Recording{SpaceID: spaceID}
	var pub, at, del, version int64
	err := s.db.QueryRowContext(ctx, `SELECT published_at, publish_at, deleted_at, deleted_by, version FROM recordings WHERE space_id=?`, spaceID).
		Scan(&pub, &at, &del, &r.DeletedBy, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return r, 0, nil
	}
	if err != nil {
		return r, 0, fmt.Errorf("store: recording %s: %w", spaceID, err)
	}
	r.PublishedAt, r.PublishAt, r.DeletedAt = fromUnix(pub), fromUnix(at), fromUnix(del)
	return r, version, nil
}

// maxRetries bounds how often a conditional change is retried when others
// keep changing the same row.
const maxRetries = 100

// UpdateRecording applies change to a recording's publication state as one
// conditional write: the row is written only if its version is still the
// one read, otherwise it is read again and change applied again. An error
// from change is returned as is and nothing is written. It returns the
// state as written.
func (s *SQLite) UpdateRecording(ctx context.Context, spaceID string, change func(*space.Recording) error) (space.Recording, error) {
	for range maxRetries {
		r, version, err := s.recording(ctx, spaceID)
		if err != nil {
			return r, err
		}
		if err := change(&r); err != nil {
			return r, err
		}
		res, err := s.db.ExecContext(ctx, `INSERT INTO recordings (space_id, published_at, publish_at, deleted_at, deleted_by, version) VALUES (?,?,?,?,?,?)
			ON CONFLICT(space_id) DO UPDATE SET published_at=excluded.published_at, publish_at=excluded.publish_at,
				deleted_at=excluded.deleted_at, deleted_by=excluded.deleted_by, version=excluded.version
			WHERE recordings.version=?`,
			spaceID, unix(r.PublishedAt), unix(r.PublishAt), unix(r.DeletedAt), r.DeletedBy, version+1, version)
		if err != nil {
			return r, fmt.Errorf("store: save recording %s: %w", spaceID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return r, nil
		}
		if err := ctx.Err(); err != nil {
			return r, err
		}
	}
	return space.Recording{}, fmt.Errorf("store: recording %s: %w", spaceID, ErrConflict)
}

// DeletedRecordings lists the spaces whose recording is marked deleted, so
// that files a crash left behind can be removed at start.
func (s *SQLite) DeletedRecordings(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT space_id FROM recordings WHERE deleted_at != 0`)
	if err != nil {
		return nil, fmt.Errorf("store: deleted recordings: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: deleted recordings: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
