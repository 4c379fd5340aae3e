package store

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/space"
)

func open(t *testing.T) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "podium.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSpaces(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	now := time.Now().Truncate(time.Millisecond)
	sp, _ := space.New("Hello", "desc", now.Add(time.Hour), now)
	if err := s.CreateSpace(ctx, sp); err != nil {
		t.Fatal(err)
	}
	if err := sp.Start(now); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateSpace(ctx, sp, space.Scheduled); err != nil {
		t.Fatal(err)
	}
	// A second change from the state it had before is refused.
	if err := s.UpdateSpace(ctx, sp, space.Scheduled); !errors.Is(err, ErrConflict) {
		t.Fatalf("update from a stale state = %v, want ErrConflict", err)
	}
	got, err := s.Space(ctx, sp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != space.Live || !got.StartedAt.Equal(sp.StartedAt) || got.Title != "Hello" || !got.ScheduledStart.Equal(sp.ScheduledStart) {
		t.Fatalf("Space = %+v, want %+v", got, sp)
	}
	live, _ := s.SpacesIn(ctx, space.Live)
	if len(live) != 1 {
		t.Fatalf("SpacesIn(live) = %d spaces, want 1", len(live))
	}
	if _, err := s.Space(ctx, "sp_nope"); !errors.Is(err, space.ErrNotFound) {
		t.Fatalf("unknown space error = %v", err)
	}
	other := space.Space{ID: "sp_missing"}
	if err := s.UpdateSpace(ctx, other, space.Scheduled); !errors.Is(err, space.ErrNotFound) {
		t.Fatalf("update unknown = %v", err)
	}
}

func TestInvites(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	now := time.Now()
	sp, _ := space.New("Hello", "", time.Time{}, now)
	s.CreateSpace(ctx, sp)
	inv := space.Invite{ID: space.NewID("inv"), SpaceID: sp.ID, Name: "Ada", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateInvite(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeInvite(ctx, "sp_other", inv.ID, now); !errors.Is(err, space.ErrNotFound) {
		t.Fatalf("revoke for other space = %v, want ErrNotFound", err)
	}
	if err := s.RevokeInvite(ctx, sp.ID, inv.ID, now); err != nil {
		t.Fatal(err)
	}
	got, err := s.Invite(ctx, inv.ID)
	if err != nil || !got.Revoked() || got.Name != "Ada" {
		t.Fatalf("Invite = %+v, %v; want revoked Ada", got, err)
	}
	list, _ := s.Invites(ctx, sp.ID)
	if len(list) != 1 {
		t.Fatalf("Invites = %d, want 1", len(list))
	}
}

func TestSecretStable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s, _ := OpenSQLite(ctx, path)
	a, err := s.Secret(ctx, "k", func() []byte { return []byte("first") })
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, _ = OpenSQLite(ctx, path)
	defer s.Close()
	b, _ := s.Secret(ctx, "k", func() []byte { return []byte("second") })
	if !bytes.Equal(a, b) || string(a) != "first" {
		t.Fatalf("secret changed across reopen: %q then %q", a, b)
	}
}

func TestRecordingState(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	now := time.Now().Truncate(time.Millisecond)
	sp, _ := space.New("Rec", "", time.Time{}, now)
	sp.Record = false
	s.CreateSpace(ctx, sp)
	got, _ := s.Space(ctx, sp.ID)
	if got.Record {
		t.Fatal("record flag not stored")
	}
	r, err := s.Recording(ctx, sp.ID)
	if err != nil || r.Public(now) || r.Deleted() {
		t.Fatalf("fresh recording = %+v, %v; want private", r, err)
	}
	if _, err := s.UpdateRecording(ctx, sp.ID, func(r *space.Recording) error { return r.Publish(now.Add(time.Hour), now) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRecording(ctx, sp.ID, func(r *space.Recording) error { return r.Delete("operator", now) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRecording(ctx, sp.ID, func(r *space.Recording) error { return r.Publish(time.Time{}, now) }); !errors.Is(err, space.ErrRecordingDeleted) {
		t.Fatalf("publish after delete = %v, want ErrRecordingDeleted", err)
	}
	if ids, err := s.DeletedRecordings(ctx); err != nil || len(ids) != 1 || ids[0] != sp.ID {
		t.Fatalf("DeletedRecordings = %v, %v; want [%s]", ids, err, sp.ID)
	}
	got2, _ := s.Recording(ctx, sp.ID)
	if !got2.Deleted() || got2.DeletedBy != "operator" || !got2.DeletedAt.Equal(now.UTC()) {
		t.Fatalf("Recording after delete = %+v", got2)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	for i := 0; i < 2; i++ {
		s, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		s.Close()
	}
}

// TestRecordingChangesRace: concurrent publish, unpublish and delete of one
// recording end in one consistent state: once a delete is written nothing
// publishes it again, and every change that reported success was applied
// to the state it read (the version counts them all).
func TestRecordingChangesRace(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	now := time.Now().Truncate(time.Millisecond)
	for round := range 5 {
		sp, _ := space.New("Race", "", time.Time{}, now)
		if err := s.CreateSpace(ctx, sp); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var applied, deletes atomic.Int64
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				change := func(r *space.Recording) error { return r.Publish(time.Time{}, now) }
				switch i % 3 {
				case 1:
					change = func(r *space.Recording) error { return r.Unpublish() }
				case 2:
					if i == 14 {
						change = func(r *space.Recording) error { return r.Delete("host", now) }
					}
				}
				_, err := s.UpdateRecording(ctx, sp.ID, change)
				switch {
				case err == nil:
					applied.Add(1)
					if i == 14 {
						deletes.Add(1)
					}
				case !errors.Is(err, space.ErrRecordingDeleted):
					t.Errorf("change %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		r, version, err := s.recording(ctx, sp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if deletes.Load() != 1 || !r.Deleted() || r.Public(now) || !r.PublishedAt.IsZero() {
			t.Fatalf("round %d: after the race %+v (deletes %d), want deleted and private", round, r, deletes.Load())
		}
		if version != applied.Load() {
			t.Fatalf("round %d: version %d after %d successful changes: a change was lost", round, version, applied.Load())
		}
	}
}
