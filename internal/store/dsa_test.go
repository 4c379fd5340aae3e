package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestOutboxDurableAndIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "podium.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "b", "c", "a"} {
		if err := s.Enqueue(ctx, p, []byte(`{"puid":"`+p+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Attempted(ctx, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSubmitted(ctx, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDropped(ctx, []string{"c"}, "422"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.TakePending(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].PUID != "b" || got[0].Attempts != 1 || string(got[0].JSON) != `{"puid":"b"}` {
		t.Fatalf("pending after restart: %+v", got)
	}
	if got, _ := s.TakePending(ctx, 0); len(got) != 0 {
		t.Fatalf("limit 0 gave %d", len(got))
	}
}
