package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/podium-live/podium/internal/dsa"
	"github.com/podium-live/podium/internal/moderation"
	"github.com/podium-live/podium/internal/policy"
)

var _ moderation.Store = (*SQLite)(nil)

// registrants names the table of registrants of kind k (a fixed name, never
// from input).
func registrants(k moderation.Kind) string {
	if k == moderation.KindFlagger {
		return "flaggers"
	}
	return "moderators"
}

// AddModerator stores a new registrant of kind k.
func (s *SQLite) AddModerator(ctx context.Context, k moderation.Kind, m moderation.Moderator) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO `+registrants(k)+` (id, name, created_at) VALUES (?, ?, ?)`,
		m.ID, m.Name, m.Created.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: add moderator: %w", err)
	}
	return nil
}

// Moderators lists every moderator, oldest first.
func (s *SQLite) Moderators(ctx context.Context, k moderation.Kind) ([]moderation.Moderator, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at, revoked_at FROM `+registrants(k)+` ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: moderators: %w", err)
	}
	defer rows.Close()
	var out []moderation.Moderator
	for rows.Next() {
		m, err := scanModerator(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Moderator returns moderator id, or moderation.ErrNotFound.
func (s *SQLite) Moderator(ctx context.Context, k moderation.Kind, id string) (moderation.Moderator, error) {
	return scanModerator(s.db.QueryRowContext(ctx, `SELECT id, name, created_at, revoked_at FROM `+registrants(k)+` WHERE id = ?`, id))
}

// RevokeModerator marks moderator id revoked at at, unless it already is,
// and returns the row.
func (s *SQLite) RevokeModerator(ctx context.Context, k moderation.Kind, id string, at time.Time) (moderation.Moderator, error) {
	return scanModerator(s.db.QueryRowContext(ctx, `UPDATE `+registrants(k)+`
		SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END
		WHERE id = ? RETURNING id, name, created_at, revoked_at`, at.UnixMilli(), id))
}

type scanner interface{ Scan(dest ...any) error }

func scanModerator(r scanner) (moderation.Moderator, error) {
	var m moderation.Moderator
	var created, revoked int64
	err := r.Scan(&m.ID, &m.Name, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return m, moderation.ErrNotFound
	}
	if err != nil {
		return m, fmt.Errorf("store: moderator: %w", err)
	}
	m.Created = time.UnixMilli(created).UTC()
	if revoked != 0 {
		m.Revoked = time.UnixMilli(revoked).UTC()
	}
	return m, nil
}

var _ moderation.NoticeStore = (*SQLite)(nil)

// AddNotice stores notice n (as JSON) with its secret's hash.
func (s *SQLite) AddNotice(ctx context.Context, n moderation.Notice, secretHash []byte) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO notices (id, space_id, secret_hash, received_at, body, lane, state) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		n.ID, n.Space, secretHash, n.Received.UnixMilli(), string(body), n.Lane, n.State); err != nil {
		return fmt.Errorf("store: add notice: %w", err)
	}
	return nil
}

// Notice returns notice id and its secret's hash, or moderation.ErrNotFound.
func (s *SQLite) Notice(ctx context.Context, id string) (moderation.Notice, []byte, error) {
	var n moderation.Notice
	var body, state string
	var h []byte
	err := s.db.QueryRowContext(ctx, `SELECT body, secret_hash, state FROM notices WHERE id = ?`, id).Scan(&body, &h, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return n, nil, moderation.ErrNotFound
	}
	if err != nil {
		return n, nil, fmt.Errorf("store: notice: %w", err)
	}
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		return n, nil, fmt.Errorf("store: notice %s: %w", id, err)
	}
	n.State = state
	return n, h, nil
}

var _ moderation.CaseStore = (*SQLite)(nil)

const caseColumns = `body, state, assignee, assigned_at`

func scanCase(r scanner) (moderation.Case, error) {
	var c moderation.Case
	var body, state string
	var at int64
	err := r.Scan(&body, &state, &c.Assignee, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return c, moderation.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("store: case: %w", err)
	}
	if err := json.Unmarshal([]byte(body), &c.Notice); err != nil {
		return c, fmt.Errorf("store: case: %w", err)
	}
	c.Notice.State = state
	c.AssignedAt = fromUnix(at)
	return c, nil
}

// Cases lists cases oldest first, by lane and state ("" = any).
func (s *SQLite) Cases(ctx context.Context, lane, state string) ([]moderation.Case, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+caseColumns+` FROM notices
		WHERE (? = '' OR lane = ?) AND (? = '' OR state = ?) ORDER BY received_at, id`, lane, lane, state, state)
	if err != nil {
		return nil, fmt.Errorf("store: cases: %w", err)
	}
	defer rows.Close()
	var out []moderation.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Case returns case id, or moderation.ErrNotFound.
func (s *SQLite) Case(ctx context.Context, id string) (moderation.Case, error) {
	return scanCase(s.db.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM notices WHERE id = ?`, id))
}

// AssignCase assigns case id to moderator if it is still open.
func (s *SQLite) AssignCase(ctx context.Context, id, moderator string, at time.Time) (moderation.Case, error) {
	c, err := scanCase(s.db.QueryRowContext(ctx, `UPDATE notices SET assignee = ?, assigned_at = ?
		WHERE id = ? AND state = 'open' RETURNING `+caseColumns, moderator, unix(at), id))
	if errors.Is(err, moderation.ErrNotFound) {
		if _, err2 := s.Case(ctx, id); err2 == nil {
			return c, fmt.Errorf("%w: case %s is not open", moderation.ErrConflict, id)
		}
	}
	return c, err
}

var _ moderation.LogStore = (*SQLite)(nil)

// AppendEvent appends the row seal makes from the last one, in one
// transaction (two appenders never chain to the same row: the second
// insert of a sequence number fails on the primary key).
func (s *SQLite) AppendEvent(ctx context.Context, seal func(lastSeq int64, lastHash []byte) (moderation.LoggedEvent, error)) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: append event: %w", err)
	}
	defer tx.Rollback()
	var seq int64
	var hash []byte
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM moderation_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: append event: %w", err)
	}
	e, err := seal(seq, hash)
	if err != nil {
		return err
	}
	if e.Prev == nil {
		e.Prev = []byte{}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO moderation_log (seq, body, prev_hash, hash) VALUES (?, ?, ?, ?)`,
		e.Seq, string(e.Body), e.Prev, e.Hash); err != nil {
		return fmt.Errorf("store: append event: %w", err)
	}
	return tx.Commit()
}

// Events returns the moderation log in sequence order.
func (s *SQLite) Events(ctx context.Context) ([]moderation.LoggedEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, body, prev_hash, hash FROM moderation_log ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	var out []moderation.LoggedEvent
	for rows.Next() {
		var e moderation.LoggedEvent
		var body string
		if err := rows.Scan(&e.Seq, &body, &e.Prev, &e.Hash); err != nil {
			return nil, fmt.Errorf("store: events: %w", err)
		}
		e.Body = []byte(body)
		if len(e.Prev) == 0 {
			e.Prev = nil
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

var _ moderation.RestrictionStore = (*SQLite)(nil)

// AddRestriction stores restriction r on space.
func (s *SQLite) AddRestriction(ctx context.Context, space string, r policy.Restriction) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO restrictions (id, space_id, body) VALUES (?, ?, ?)`, r.ID, space, string(body)); err != nil {
		return fmt.Errorf("store: add restriction: %w", err)
	}
	return nil
}

// Restrictions returns the restrictions not reversed, by space.
func (s *SQLite) Restrictions(ctx context.Context) (map[string][]policy.Restriction, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT space_id, body FROM restrictions WHERE reversed_at = 0 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: restrictions: %w", err)
	}
	defer rows.Close()
	out := map[string][]policy.Restriction{}
	for rows.Next() {
		var space, body string
		if err := rows.Scan(&space, &body); err != nil {
			return nil, fmt.Errorf("store: restrictions: %w", err)
		}
		var r policy.Restriction
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return nil, fmt.Errorf("store: restriction: %w", err)
		}
		out[space] = append(out[space], r)
	}
	return out, rows.Err()
}

var _ moderation.DecisionStore = (*SQLite)(nil)

// Decide closes open case d.Case and stores d, its statements and (when
// active) its restrictions, in one transaction.
func (s *SQLite) Decide(ctx context.Context, d moderation.Decision) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: decide: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE notices SET state = ? WHERE id = ? AND state = 'open'`, moderation.StateDecided, d.Case)
	if err != nil {
		return fmt.Errorf("store: decide: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: case %s is not open", moderation.ErrConflict, d.Case)
	}
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO decisions (id, case_id, space_id, status, decided_at, body) VALUES (?, ?, ?, ?, ?, ?)`,
		d.ID, d.Case, d.Space, d.Status, d.Decided.UnixMilli(), string(body)); err != nil {
		return fmt.Errorf("store: decide: %w", err)
	}
	for _, st := range d.Statements {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO statements (puid, decision_id, body) VALUES (?, ?, ?)`, st.PUID, d.ID, string(b)); err != nil {
			return fmt.Errorf("store: statement: %w", err)
		}
	}
	if d.Status == moderation.StatusActive {
		if err := addRestrictions(ctx, tx, d); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func addRestrictions(ctx context.Context, tx *sql.Tx, d moderation.Decision) error {
	for _, r := range d.Restrictions {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO restrictions (id, space_id, body) VALUES (?, ?, ?)`, r.ID, d.Space, string(b)); err != nil {
			return fmt.Errorf("store: add restriction: %w", err)
		}
	}
	return nil
}

func scanDecision(r scanner) (moderation.Decision, error) {
	var d moderation.Decision
	var body, status string
	err := r.Scan(&body, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return d, moderation.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("store: decision: %w", err)
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return d, fmt.Errorf("store: decision: %w", err)
	}
	d.Status = status
	return d, nil
}

// Decision returns decision id, or moderation.ErrNotFound.
func (s *SQLite) Decision(ctx context.Context, id string) (moderation.Decision, error) {
	return scanDecision(s.db.QueryRowContext(ctx, `SELECT body, status FROM decisions WHERE id = ?`, id))
}

// CaseDecision returns the decision on case id, or moderation.ErrNotFound.
func (s *SQLite) CaseDecision(ctx context.Context, caseID string) (moderation.Decision, error) {
	return scanDecision(s.db.QueryRowContext(ctx, `SELECT body, status FROM decisions WHERE case_id = ?`, caseID))
}

// Confirm makes pending decision id active, confirmed by, and stores its
// restrictions, in one transaction.
func (s *SQLite) Confirm(ctx context.Context, id, by string) (moderation.Decision, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return moderation.Decision{}, fmt.Errorf("store: confirm: %w", err)
	}
	defer tx.Rollback()
	d, err := scanDecision(tx.QueryRowContext(ctx, `UPDATE decisions SET status = ? WHERE id = ? AND status = ? RETURNING body, status`,
		moderation.StatusActive, id, moderation.StatusPending))
	if errors.Is(err, moderation.ErrNotFound) {
		return d, fmt.Errorf("%w: decision %s is not pending", moderation.ErrConflict, id)
	}
	if err != nil {
		return d, err
	}
	d.Confirmer = by
	body, err := json.Marshal(d)
	if err != nil {
		return d, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE decisions SET body = ? WHERE id = ?`, string(body), id); err != nil {
		return d, fmt.Errorf("store: confirm: %w", err)
	}
	if err := addRestrictions(ctx, tx, d); err != nil {
		return d, err
	}
	return d, tx.Commit()
}

// Statement returns statement puid and its decision, or moderation.ErrNotFound.
func (s *SQLite) Statement(ctx context.Context, puid string) (dsa.Statement, moderation.Decision, error) {
	var st dsa.Statement
	var body, did string
	err := s.db.QueryRowContext(ctx, `SELECT body, decision_id FROM statements WHERE puid = ?`, puid).Scan(&body, &did)
	if errors.Is(err, sql.ErrNoRows) {
		return st, moderation.Decision{}, moderation.ErrNotFound
	}
	if err != nil {
		return st, moderation.Decision{}, fmt.Errorf("store: statement: %w", err)
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		return st, moderation.Decision{}, fmt.Errorf("store: statement: %w", err)
	}
	d, err := s.Decision(ctx, did)
	return st, d, err
}

// SpaceDecisions returns the decisions on space, oldest first.
func (s *SQLite) SpaceDecisions(ctx context.Context, space string) ([]moderation.Decision, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT body, status FROM decisions WHERE space_id = ? ORDER BY decided_at, id`, space)
	if err != nil {
		return nil, fmt.Errorf("store: decisions: %w", err)
	}
	defer rows.Close()
	var out []moderation.Decision
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
