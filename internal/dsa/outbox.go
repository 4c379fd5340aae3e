package dsa

import "context"

// Pending is one statement waiting in the outbox: its puid, its JSON as
// it will be sent, and how many submissions were tried.
type Pending struct {
	PUID     string
	JSON     []byte
	Attempts int
}

// Outbox is the durable queue of statements to submit, so none is lost
// across restarts (implemented by store.SQLite).
type Outbox interface {
	// Enqueue adds a statement by puid; enqueueing a puid again is a no-op.
	Enqueue(ctx context.Context, puid string, statement []byte) error
	// TakePending returns up to n pending statements, oldest first.
	TakePending(ctx context.Context, n int) ([]Pending, error)
	// MarkSubmitted records that the database stored these puids.
	MarkSubmitted(ctx context.Context, puids []string) error
	// MarkDropped records that these puids will not be submitted, and why.
	MarkDropped(ctx context.Context, puids []string, reason string) error
	// Attempted counts one more submission attempt for these puids.
	Attempted(ctx context.Context, puids []string) error
}
