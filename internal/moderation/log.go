package moderation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"
)

// Event is one entry of the append-only moderation log: every notice,
// case assignment, decision, confirmation and statement.
type Event struct {
	Seq     int64           `json:"seq"`
	At      int64           `json:"at"` // unix ms
	Kind    string          `json:"kind"`
	Actor   string          `json:"actor,omitempty"` // moderator or flagger id; "" for a notifier
	Subject string          `json:"subject"`         // the notice, case or decision id
	Data    json.RawMessage `json:"data,omitempty"`
}

// Event kinds.
const (
	EventNotice = "notice"
	EventAssign = "assign"
)

// LoggedEvent is an event as stored: its canonical JSON and chain hashes.
type LoggedEvent struct {
	Seq  int64
	Body []byte // canonical JSON of the Event
	Prev []byte // hash of the row before (empty for the first)
	Hash []byte // sha256(Prev || Body)
}

// LogStore keeps the log. store.SQLite implements it.
type LogStore interface {
	// AppendEvent, in one transaction, reads the last row's sequence
	// number and hash, calls seal with them, and appends what it returns.
	AppendEvent(ctx context.Context, seal func(lastSeq int64, lastHash []byte) (LoggedEvent, error)) error
	// Events returns every row in sequence order.
	Events(ctx context.Context) ([]LoggedEvent, error)
}

// Log is the hash-chained event log.
type Log struct {
	st  LogStore
	now func() time.Time
}

// NewLog returns the log kept in st. now may be nil.
func NewLog(st LogStore, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{st: st, now: now}
}

func chainHash(prev, body []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(body)
	return h.Sum(nil)
}

// Append records an event of kind by actor about subject with data
// (marshalled to JSON; nil for none).
func (l *Log) Append(ctx context.Context, kind, actor, subject string, data any) error {
	var raw json.RawMessage
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		raw = b
	}
	at := l.now().UnixMilli()
	return l.st.AppendEvent(ctx, func(lastSeq int64, lastHash []byte) (LoggedEvent, error) {
		e := Event{Seq: lastSeq + 1, At: at, Kind: kind, Actor: actor, Subject: subject, Data: raw}
		body, err := json.Marshal(e)
		if err != nil {
			return LoggedEvent{}, err
		}
		return LoggedEvent{Seq: e.Seq, Body: body, Prev: lastHash, Hash: chainHash(lastHash, body)}, nil
	})
}

// Verify checks the whole chain: sequence numbers without gaps, each
// row's prev the hash before it, each hash recomputed from the row. It
// returns the number of rows checked and an error naming the first row
// that was changed, removed or inserted.
func (l *Log) Verify(ctx context.Context) (int, error) {
	rows, err := l.st.Events(ctx)
	if err != nil {
		return 0, err
	}
	var prev []byte
	for i, r := range rows {
		want := int64(i + 1)
		if r.Seq != want {
			return i, fmt.Errorf("moderation: log: row %d missing (found %d next)", want, r.Seq)
		}
		if !bytes.Equal(r.Prev, prev) {
			return i, fmt.Errorf("moderation: log: row %d does not follow row %d (a row was changed, removed or inserted)", r.Seq, r.Seq-1)
		}
		if !bytes.Equal(r.Hash, chainHash(prev, r.Body)) {
			return i, fmt.Errorf("moderation: log: row %d was changed", r.Seq)
		}
		var e Event
		if err := json.Unmarshal(r.Body, &e); err != nil || e.Seq != r.Seq {
			return i, fmt.Errorf("moderation: log: row %d body does not match its sequence number", r.Seq)
		}
		prev = r.Hash
	}
	return len(rows), nil
}
