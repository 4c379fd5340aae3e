package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRecordToneSchedule(t *testing.T) {
	st := newDir(t)
	pkts := schedule(t)
	record(t, st, "sp_tone", t0, pkts, nil)

	rec, err := Load(st, "sp_tone")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Frames() != 500 {
		t.Errorf("frames = %d, want 500", rec.Frames())
	}
	if d := rec.Duration() - 10*time.Second; d < -20*time.Millisecond || d > 20*time.Millisecond {
		t.Errorf("duration = %v, want 10s ± 20ms", rec.Duration())
	}
	if len(rec.Gaps()) != 0 || !rec.Ended() {
		t.Errorf("gaps %v ended %v, want none and true", rec.Gaps(), rec.Ended())
	}
	got, err := rec.Packets(0, 500)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		if !bytes.Equal(got[i], pkts[i]) {
			t.Fatalf("packet %d differs from what was written", i)
		}
	}

	var ogg bytes.Buffer
	if err := rec.WriteOgg(&ogg); err != nil {
		t.Fatal(err)
	}
	if int64(ogg.Len()) != rec.OggSize() {
		t.Errorf("WriteOgg wrote %d bytes, OggSize says %d", ogg.Len(), rec.OggSize())
	}
	read, granule := readOgg(t, ogg.Bytes())
	if len(read) != 500 || granule != 500*960 {
		t.Fatalf("ogg has %d packets, last granule %d; want 500 and %d", len(read), granule, 500*960)
	}
	pcm := decode(t, read)
	checkTone(t, "download", pcm, 0.5, 2.5, 440)
	checkTone(t, "download", pcm, 3.5, 5.5, 660)
	checkTone(t, "download", pcm, 6.5, 9.5, 880)

	ffprobe, err1 := exec.LookPath("ffprobe")
	ffmpeg, err2 := exec.LookPath("ffmpeg")
	if err1 != nil || err2 != nil {
		t.Log("ffmpeg/ffprobe not installed: skipping the ffmpeg checks")
		return
	}
	file := filepath.Join(t.TempDir(), "rec.opus")
	if err := os.WriteFile(file, ogg.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v: %s", err, out)
	}
	dur, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil || math.Abs(dur-10) > 0.2 {
		t.Errorf("ffprobe duration = %q, want 10 ± 0.2 s", out)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(ffmpeg, "-v", "error", "-ss", "7", "-t", "1", "-i", file, "-f", "f32le", "-ac", "1", "-ar", "48000", "-")
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, stderr.String())
	}
	seeked := make([]float32, len(raw)/4)
	for i := range seeked {
		seeked[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	if len(seeked) < 40000 {
		t.Fatalf("ffmpeg -ss 7 -t 1 gave %d samples, want about 48000", len(seeked))
	}
	checkTone(t, "ffmpeg -ss 7", seeked, 0.1, 0.8, 880)
}

func TestCrashKeepsCompleteParts(t *testing.T) {
	st := newDir(t)
	pkts := schedule(t)
	const n = 237
	rec, err := Start(st, "sp_crash", t0, testOpts, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	for _, p := range pkts[:n] {
		rec.WriteFrame(p, nil)
	}
	waitFor(t, 5*time.Second, "parts to be durable", func() bool { return rec.Status().Frames >= n/10*10 })
	// kill -9: no Close; the last write was torn half way.
	torn := appendPage(nil, 0, 999*frameSamples, 1, 99, pkts[:10])
	f, err := os.OpenFile(filepath.Join(st.Dir(), "sp_crash", "s0001.ogg"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(torn[:len(torn)/2])
	f.Close()

	got, err := Load(st, "sp_crash")
	if err != nil {
		t.Fatal(err)
	}
	if got.Frames() < n-testOpts.withDefaults().PartFrames || got.Frames() > n {
		t.Fatalf("frames after crash = %d, want %d..%d", got.Frames(), n-10, n)
	}
	if got.Ended() {
		t.Error("a crashed session reads as ended")
	}
	var buf bytes.Buffer
	if err := got.WriteOgg(&buf); err != nil {
		t.Fatal(err)
	}
	if read, _ := readOgg(t, buf.Bytes()); len(read) != got.Frames() {
		t.Fatalf("download has %d packets, want %d", len(read), got.Frames())
	}

	// The node comes back: a new Recorder continues the recording.
	record(t, st, "sp_crash", t0.Add(30*time.Second), pkts[:50], nil)
	again, err := Load(st, "sp_crash")
	if err != nil {
		t.Fatal(err)
	}
	gaps := again.Gaps()
	if again.Frames() != got.Frames()+50 || len(gaps) != 1 || gaps[0].Reason != "restart" {
		t.Fatalf("after restart: %d frames, gaps %+v; want %d frames and one restart gap", again.Frames(), gaps, got.Frames()+50)
	}
}

func TestTwoSessionsOneRecording(t *testing.T) {
	st := newDir(t)
	pkts := schedule(t)
	record(t, st, "sp_two", t0, pkts[:250], nil)                     // 0–5 s of wall time
	record(t, st, "sp_two", t0.Add(65*time.Second), pkts[250:], nil) // a minute's pause
	rec, err := Load(st, "sp_two")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Frames() != 500 {
		t.Fatalf("frames = %d, want 500", rec.Frames())
	}
	want := []Gap{{At: 5 * time.Second, Wall: 60 * time.Second, Reason: "restart"}}
	if got := rec.Gaps(); len(got) != 1 || got[0] != want[0] {
		t.Fatalf("gaps = %+v, want %+v", got, want)
	}
	var buf bytes.Buffer
	if err := rec.WriteOgg(&buf); err != nil {
		t.Fatal(err)
	}
	read, granule := readOgg(t, buf.Bytes())
	if len(read) != 500 || granule != 500*960 {
		t.Fatalf("ogg: %d packets, granule %d; want 500, %d", len(read), granule, 500*960)
	}
	pcm := decode(t, read)
	checkTone(t, "two sessions", pcm, 3.5, 4.8, 660)
	checkTone(t, "two sessions", pcm, 5.2, 5.8, 660)
	checkTone(t, "two sessions", pcm, 7, 9, 880)
}

func TestTurns(t *testing.T) {
	st := newDir(t)
	pkts := schedule(t)
	ada, bob := Speaker{"spk_a", "Ada"}, Speaker{"spk_b", "Bob"}
	speaking := func(i int) []Speaker {
		switch {
		case i < 100: // Ada 0–2 s
			return []Speaker{ada}
		case i < 120: // 0.4 s pause: still Ada's turn
			return nil
		case i < 200: // Ada to 4 s
			return []Speaker{ada}
		case i < 300: // Bob 4–6 s
			return []Speaker{bob}
		case i < 305: // Ada's 100 ms blip: dropped
			return []Speaker{bob, ada}
		default: // Bob to 8 s (listed in another order: no change)
			if i < 400 {
				if i%2 == 0 {
					return []Speaker{bob}
				}
				return []Speaker{{ID: "spk_b", Name: "Bob"}}
			}
			return nil
		}
	}
	record(t, st, "sp_turns", t0, pkts[:450], speaking)
	// Next session: Bob speaks from its first frame to its end.
	record(t, st, "sp_turns", t0.Add(time.Minute), pkts[:50], func(int) []Speaker { return []Speaker{bob} })
	rec, err := Load(st, "sp_turns")
	if err != nil {
		t.Fatal(err)
	}
	want := []Turn{
		{"spk_a", "Ada", 0, 4 * time.Second},
		{"spk_b", "Bob", 4 * time.Second, 8 * time.Second},
		{"spk_b", "Bob", 9 * time.Second, 10 * time.Second},
	}
	got := rec.Turns()
	if len(got) != len(want) {
		t.Fatalf("turns = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("turn %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestUnwritableStorage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewDirStorage(filepath.Join(file, "sub")); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("NewDirStorage under a file: err = %v, want ENOTDIR", err)
	}
	// A space folder that is a regular file: Start refuses cleanly.
	st := newDir(t)
	if err := os.WriteFile(filepath.Join(st.Dir(), "sp_x"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, err := Start(st, "sp_x", t0, testOpts, nil)
	if err == nil || !errors.Is(err, syscall.ENOTDIR) || rec != nil {
		t.Fatalf("Start = %v, %v; want nil and an ENOTDIR error", rec, err)
	}
	if _, err := Load(st, "sp_x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load = %v, want ErrNotFound", err)
	}
	if _, err := Start(st, "../etc", t0, testOpts, nil); err == nil {
		t.Error("Start accepted a space id with ..")
	}
}

func TestStorageNames(t *testing.T) {
	st := newDir(t)
	for _, name := range []string{"", "/abs", "a/../b", "a//b", "./a", "a/", `a\b`} {
		if _, err := st.Append(name); err == nil {
			t.Errorf("Append(%q) accepted", name)
		}
		if _, err := st.Open(name); !errors.Is(err, ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", name, err)
		}
	}
	a, err := st.Append("sp_1/x.txt")
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("hello"))
	a.Close()
	st.Append("sp_10/y.txt")
	infos, err := st.List("sp_1/")
	if err != nil || len(infos) != 1 || infos[0].Name != "sp_1/x.txt" || infos[0].Size != 5 {
		t.Fatalf("List = %+v, %v; want sp_1/x.txt of 5 bytes", infos, err)
	}
	if infos, _ := st.List("sp_1"); len(infos) != 2 {
		t.Errorf("List(sp_1) = %+v, want both folders' files", infos)
	}
	if err := Delete(st, "sp_1"); err != nil {
		t.Fatal(err)
	}
	if err := st.Remove("sp_1/x.txt"); err != nil {
		t.Errorf("removing a missing object: %v", err)
	}
	if infos, _ := st.List("sp_1/"); len(infos) != 0 {
		t.Errorf("after Delete: %+v", infos)
	}
}

func TestCloseIdempotent(t *testing.T) {
	st := newDir(t)
	pkts := schedule(t)
	rec, err := Start(st, "sp_close", t0, testOpts, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts[:15] {
		rec.WriteFrame(p, nil)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	rec.WriteFrame(pkts[0], nil) // after Close: dropped, never a panic
	if s := rec.Status(); s.Frames != 15 || s.LostFrames != 1 || s.Sessions != 1 {
		t.Fatalf("status %+v, want 15 frames, 1 lost, 1 session", s)
	}
	got, err := Load(st, "sp_close")
	if err != nil || got.Frames() != 15 || !got.Ended() {
		t.Fatalf("Load: %v frames, ended %v, err %v; want 15 and ended", got.Frames(), got.Ended(), err)
	}
}
