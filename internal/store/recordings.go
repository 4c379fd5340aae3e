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
	r := space.Recording{SpaceID: spaceID}
	var pub, at, del int64
	err := s.db.QueryRowContext(ctx, `SELECT published_at, publish_at, deleted_at, deleted_by FROM recordings WHERE space_id=?`, spaceID).
		Scan(&pub, &at, &del, &r.DeletedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("store: recording %s: %w", spaceID, err)
	}
	r.PublishedAt, r.PublishAt, r.DeletedAt = fromUnix(pub), fromUnix(at), fromUnix(del)
	return r, nil
}

// SaveRecording writes a recording's publication state.
func (s *SQLite) SaveRecording(ctx context.Context, r space.Recording) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO recordings (space_id, published_at, publish_at, deleted_at, deleted_by) VALUES (?,?,?,?,?)
		ON CONFLICT(space_id) DO UPDATE SET published_at=excluded.published_at, publish_at=excluded.publish_at, deleted_at=excluded.deleted_at, deleted_by=excluded.deleted_by`,
		r.SpaceID, unix(r.PublishedAt), unix(r.PublishAt), unix(r.DeletedAt), r.DeletedBy)
	if err != nil {
		return fmt.Errorf("store: save recording %s: %w", r.SpaceID, err)
	}
	return nil
}
