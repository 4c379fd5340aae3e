package space

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
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

// TestTextRefusesControlAndBidi: NUL, BEL, DEL, C1 controls, line
// separators and the bidirectional formatting characters are refused in
// titles, descriptions and names, with the field named; newlines and tabs
// are fine in descriptions.
func TestTextRefusesControlAndBidi(t *testing.T) {
	bad := []string{"a\x00b", "a\ab", "a\x7fb", "a\u0085b", "a\u202eb", "a\u202ab", "a\u2066b", "a\u200fb", "a\u061cb", "a\u2028b", "a\nb", "a\tb"}
	for _, s := range bad {
		if _, err := New(s, "", time.Time{}, time.Now()); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "title") {
			t.Errorf("New(title %q) error = %v, want ErrInvalid naming title", s, err)
		}
		if _, err := CleanName(s); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "name") {
			t.Errorf("CleanName(%q) error = %v, want ErrInvalid naming name", s, err)
		}
	}
	for _, s := range bad[:9] { // a description may hold line breaks
		if _, err := New("ok", s, time.Time{}, time.Now()); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "description") {
			t.Errorf("New(description %q) error = %v, want ErrInvalid naming description", s, err)
		}
	}
	// Ordinary text in any script, emoji joined by U+200D, and a
	// description's lines are accepted.
	if _, err := New("مرحبا 👩\u200d💻 Grüße", "line one\nline two\ttab\r\n", time.Time{}, time.Now()); err != nil {
		t.Fatalf("New with ordinary text: %v", err)
	}
	if _, err := CleanName("Zoë 李"); err != nil {
		t.Fatalf("CleanName with ordinary text: %v", err)
	}
}

func TestInviteTTL(t *testing.T) {
	for _, c := range []struct {
		in   int64
		want time.Duration
	}{{0, 0}, {60, time.Minute}, {31536000, MaxInviteTTL}} {
		if got, err := InviteTTL(c.in); err != nil || got != c.want {
			t.Errorf("InviteTTL(%d) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	// 9223372037 s wraps to a negative duration when multiplied; the
	// largest int64 wraps to a small one.
	for _, in := range []int64{-1, 31536001, 9223372037, 1<<63 - 1, -1 << 63} {
		if got, err := InviteTTL(in); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "ttl_seconds") {
			t.Errorf("InviteTTL(%d) = %v, %v; want ErrInvalid naming ttl_seconds", in, got, err)
		}
	}
}

// FuzzNew: New never panics, and what it accepts is within the limits and
// free of control and bidirectional formatting characters.
func FuzzNew(f *testing.F) {
	for _, s := range [][2]string{{"Town hall", "about\nthings"}, {"a\x00b", ""}, {"\u202egnp.exe", ""}, {"", ""}, {" x ", "\xff"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, title, desc string) {
		sp, err := New(title, desc, time.Time{}, time.Now())
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("New(%q, %q) error %v is not ErrInvalid", title, desc, err)
			}
			return
		}
		if sp.Title == "" || utf8.RuneCountInString(sp.Title) > MaxTitle || utf8.RuneCountInString(sp.Description) > MaxDescription || !ValidID(sp.ID) {
			t.Fatalf("New(%q, %q) accepted %+v", title, desc, sp)
		}
		for _, r := range sp.Title + sp.Description {
			if (unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r') || isBidiControl(r) {
				t.Fatalf("New(%q, %q) accepted %U", title, desc, r)
			}
		}
		for _, r := range sp.Title {
			if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("title %q accepted with %U", sp.Title, r)
			}
		}
	})
}

// FuzzCleanName: CleanName never panics, what it accepts is clean and
// cleaning it again changes nothing.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"Ada", " Ada ", "a\u202eb", "\x00", strings.Repeat("y", MaxName+1), "\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, err := CleanName(name)
		if err != nil {
			return
		}
		again, err := CleanName(n)
		if err != nil || again != n || utf8.RuneCountInString(n) > MaxName {
			t.Fatalf("CleanName(%q) = %q, then %q, %v", name, n, again, err)
		}
		if err := checkText("name", n, false); err != nil {
			t.Fatalf("CleanName(%q) = %q, which checkText refuses: %v", name, n, err)
		}
	})
}

// FuzzValidID: ValidID never panics and accepts only ids shaped like
// NewID's.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{NewID("sp"), "sp_", "../etc/passwd", "sp_abcdefghijk0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !ValidID(id) {
			return
		}
		p, rest, _ := strings.Cut(id, "_")
		if len(rest) != 12 || len(p) == 0 || len(p) > 4 || strings.ContainsAny(id, "/.") {
			t.Fatalf("ValidID(%q) = true", id)
		}
	})
}
