package record

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a small tmpfs for a real "disk full", or skips.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("disk-full test needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs (%v: %s): skipping the disk-full test", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func TestDiskFullPausesAndResumes(t *testing.T) {
	dir := mountTmpfs(t, "256k")
	st, err := NewDirStorage(filepath.Join(dir, "rec"))
	if err != nil {
		t.Fatal(err)
	}
	pkts := schedule(t)
	opts := Options{QueueFrames: 100, RetryEvery: 20 * time.Millisecond}
	var logBuf bytes.Buffer // written by the writer goroutine, read after Close
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	rec, err := Start(st, "sp_full", t0, opts, log)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	next := 0
	feed := func(n int) {
		for range n {
			rec.WriteFrame(pkts[next%len(pkts)], nil)
			next++
		}
	}
	feed(100)
	waitFor(t, 5*time.Second, "first parts", func() bool { return rec.Status().Frames == 100 })

	// Fill the disk.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling: %v", err)
			}
			break
		}
	}
	f.Close()

	// Frames keep coming at about real time until the recorder notices.
	deadline := time.Now().Add(5 * time.Second)
	for !rec.Status().Failing {
		if time.Now().After(deadline) {
			t.Fatalf("recorder not failing on a full disk: %+v", rec.Status())
		}
		feed(10)
		time.Sleep(10 * time.Millisecond)
	}
	s := rec.Status()
	if !strings.HasPrefix(s.Err, "disk full") || !strings.Contains(s.Err, "live stream unaffected") {
		t.Errorf("Err = %q, want a clear disk-full message", s.Err)
	}
	// The mixer never waits, even with the queue full.
	start := time.Now()
	feed(300)
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("300 WriteFrame calls on a full disk took %v", d)
	}
	waitFor(t, 5*time.Second, "lost frames counted", func() bool { return rec.Status().LostFrames >= 300 })
	framesBefore := rec.Status().Frames

	// Space comes back: the recorder starts a new session by itself.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "recovery", func() bool { return !rec.Status().Failing })
	feed(100)
	if err := rec.Close(); err != nil {
		t.Fatalf("Close after recovery: %v", err)
	}
	if n := strings.Count(logBuf.String(), "recording paused"); n != 1 || !strings.Contains(logBuf.String(), "space=sp_full") {
		t.Errorf("failure logged %d times, want once with the space:\n%s", n, logBuf.String())
	}
	s = rec.Status()
	if s.Sessions != 2 || s.Frames < framesBefore+100 || s.Err != "" {
		t.Fatalf("status after recovery %+v, want 2 sessions and %d+ frames", s, framesBefore+100)
	}
	got, err := Load(st, "sp_full")
	if err != nil {
		t.Fatal(err)
	}
	gaps := got.Gaps()
	if int64(got.Frames()) != s.Frames || len(gaps) != 1 || gaps[0].Reason != "disk" {
		t.Fatalf("loaded %d frames, gaps %+v; want %d frames and one disk gap", got.Frames(), gaps, s.Frames)
	}
	if gaps[0].At != time.Duration(framesBefore)*frameDur || gaps[0].Wall < time.Duration(300)*frameDur {
		t.Errorf("gap %+v, want at %v lasting at least the 300 lost frames", gaps[0], time.Duration(framesBefore)*frameDur)
	}
}
