package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Setting returns the value of the node setting name and whether it is set.
// Settings are small operator decisions that must survive a restart (attack
// mode); secrets live apart, in their own table.
func (s *SQLite) Setting(ctx context.Context, name string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name=?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: setting %s: %w", name, err)
	}
	return v, true, nil
}

// SetSetting stores value as the node setting name.
func (s *SQLite) SetSetting(ctx context.Context, name, value string) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value`, name, value); err != nil {
		return fmt.Errorf("store: set setting %s: %w", name, err)
	}
	return nil
}
