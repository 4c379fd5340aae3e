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
