package space

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLifecycle(t *testing.T) {
	now := time.Now()
	s, err := New("  Town hall ", "", time.Time{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if s.Title != "Town hall" || s.State != Scheduled || !ValidID(s.ID) {
		t.Fatalf("New = %+v", s)
	}
	if err := s.Start(now); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(now); !errors.Is(err, ErrAlreadyLive) {
		t.Fatalf("second Start = %v, want ErrAlreadyLive", err)
	}
	if err := s.End(now); err != nil || s.State != Ended {
		t.Fatalf("End = %v, state %s", err, s.State)
	}
	if err := s.End(now); !errors.Is(err, ErrEnded) {
		t.Fatalf("second End = %v, want ErrEnded", err)
	}
	if err := s.Start(now); !errors.Is(err, ErrEnded) {
		t.Fatalf("Start after End = %v, want ErrEnded", err)
	}
}

func TestNewInvalid(t *testing.T) {
	for _, title := range []string{"", "   ", strings.Repeat("x", MaxTitle+1), "\xff"} {
		if _, err := New(title, "", time.Time{}, time.Now()); !errors.Is(err, ErrInvalid) {
			t.Errorf("New(%q) error = %v, want ErrInvalid", title, err)
		}
	}
}

func TestCleanName(t *testing.T) {
	if n, err := CleanName(" Ada "); err != nil || n != "Ada" {
		t.Fatalf("CleanName = %q, %v", n, err)
	}
	for _, bad := range []string{"a\x00b", strings.Repeat("y", MaxName+1), "\xfe"} {
		if _, err := CleanName(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("CleanName(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestValidID(t *testing.T) {
	if !ValidID(NewID("sp")) {
		t.Fatal("NewID not valid")
	}
	for _, bad := range []string{"", "sp", "sp_", "sp_abc", "SP_abcdefghijkm", "sp_abcdefghijk0", "../etc/passwd"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestInterruptAndResume(t *testing.T) {
	t0 := time.Now()
	s, _ := New("x", "", time.Time{}, t0)
	if !s.Record {
		t.Fatal("new spaces are not recorded by default")
	}
	if err := s.SetRecord(false); err != nil || s.Record {
		t.Fatalf("SetRecord(false) = %v, record %v", err, s.Record)
	}
	s.Start(t0)
	if err := s.SetRecord(true); !errors.Is(err, ErrNotScheduled) {
		t.Fatalf("SetRecord while live = %v, want ErrNotScheduled", err)
	}
	s.Interrupt()
	if s.State != Interrupted {
		t.Fatalf("state after Interrupt = %s", s.State)
	}
	if err := s.Start(t0.Add(time.Hour)); err != nil || s.State != Live || !s.StartedAt.Equal(t0.UTC()) {
		t.Fatalf("resume: err %v, state %s, started %v; want live, first start kept", err, s.State, s.StartedAt)
	}
	s.Interrupt()
	if err := s.End(t0); err != nil {
		t.Fatalf("End from interrupted: %v", err)
	}
}

func TestRecordingPublication(t *testing.T) {
	now := time.Now()
	var r Recording
	if r.Public(now) {
		t.Fatal("new recording is public")
	}
	r.Publish(now.Add(time.Hour), now)
	if r.Public(now) || !r.Public(now.Add(2*time.Hour)) {
		t.Fatal("scheduled publication not honoured")
	}
	r.Publish(time.Time{}, now)
	if !r.Public(now) {
		t.Fatal("published now but not public")
	}
	r.Unpublish()
	if r.Public(now.Add(3 * time.Hour)) {
		t.Fatal("unpublished recording still public")
	}
	r.Publish(time.Time{}, now)
	if err := r.Delete("host", now); err != nil || r.Public(now) || r.DeletedBy != "host" {
		t.Fatalf("Delete = %v, public %v, by %q", err, r.Public(now), r.DeletedBy)
	}
	if err := r.Publish(time.Time{}, now); !errors.Is(err, ErrRecordingDeleted) {
		t.Fatalf("Publish after delete = %v", err)
	}
}
