package app

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/hls/hlsclient"
)

// mountSmall mounts a small tmpfs at dir, so the disk really fills up.
func mountSmall(t *testing.T, dir string, size string) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a small filesystem here (%v): needs root", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
}

// fill writes a file until the filesystem is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}

// TestDiskFullKeepsLiveGoing fills the recordings filesystem during a live
// space: listeners keep hearing it, the host and operator are told, and
// recording resumes when space returns.
func TestDiskFullKeepsLiveGoing(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	recDir := t.TempDir()
	mountSmall(t, recDir, "2m")
	cfg := testConfig(t)
	cfg.Recordings.Dir = recDir
	n := runNode(t, cfg)
	a := n.App

	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil)
	n.speak(t, id, n.invite(t, id, host, "Dee"), "Dee", 440, 0, nil)
	var packets atomic.Int64
	pctx, pcancel := context.WithCancel(context.Background())
	defer pcancel()
	go hlsclient.Play(pctx, http.DefaultClient, n.base+"/hls/"+id+"/index.m3u8", func([]byte, int64) { packets.Add(1) })
	time.Sleep(2 * time.Second)

	filler := filepath.Join(recDir, "filler")
	fill(t, filler)
	var status struct {
		RecordingError string `json:"recording_error"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for status.RecordingError == "" {
		if time.Now().After(deadline) {
			t.Fatal("disk full, but /live shows no recording_error")
		}
		time.Sleep(200 * time.Millisecond)
		n.api(t, "GET", "/api/spaces/"+id+"/live", "", nil, &status)
	}
	t.Logf("told the host: %q", status.RecordingError)
	if got := a.Runtime().RecordingProblems(); got != 1 {
		t.Errorf("podium_recordings_failing = %d, want 1", got)
	}
	before := packets.Load()
	time.Sleep(2 * time.Second)
	if got := packets.Load() - before; got < 80 {
		t.Errorf("listeners got %d packets in 2 s while the disk was full, want about 100", got)
	}

	os.Remove(filler)
	deadline = time.Now().Add(15 * time.Second)
	for status.RecordingError != "" {
		if time.Now().After(deadline) {
			t.Fatalf("space came back, but recording did not resume: %q", status.RecordingError)
		}
		time.Sleep(200 * time.Millisecond)
		status.RecordingError = ""
		n.api(t, "GET", "/api/spaces/"+id+"/live", "", nil, &status)
	}
	time.Sleep(2 * time.Second)
	n.api(t, "POST", "/api/spaces/"+id+"/end", host, nil, nil)
	var rec recordingDoc
	if st := n.api(t, "GET", "/api/spaces/"+id+"/recording", host, nil, &rec); st != http.StatusOK {
		t.Fatalf("recording: %d", st)
	}
	found := false
	for _, g := range rec.Gaps {
		found = found || g.Reason == "disk"
	}
	if !found {
		t.Errorf("recording gaps %+v, want one marked disk", rec.Gaps)
	}
	pcm := decodeFile(t, n.download(t, id, host, t.TempDir(), "r.opus"))
	end := float64(len(pcm)) / 48000
	toneIn(t, "recorded after the disk recovered", window(pcm, end-1.5, end-0.3), 440)
}
