package app

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/tone"
)

// podiumBin returns a podium binary: $PODIUM_BIN (make test sets it) or one
// built for this test.
func podiumBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PODIUM_BIN"); p != "" {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	out := filepath.Join(t.TempDir(), "podium")
	cmd := exec.Command("go", "build", "-o", out, "github.com/podium-live/podium/cmd/podium")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// proc is a podium server running as its own process.
type proc struct {
	h    *helperProc
	node *node
	logs *bytes.Buffer
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startProc(t *testing.T, bin, data string, port int) *proc {
	t.Helper()
	p := &proc{logs: &bytes.Buffer{}}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:"+strconv.Itoa(port), "--debug-addr", "", "--data", data)
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	// Stopped as an operator would (SIGTERM: drain, close), unless the test
	// killed it first.
	p.h = startHelper(t, cmd, syscall.SIGTERM, 15*time.Second)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("podium did not start: %s", p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tok, err := os.ReadFile(filepath.Join(data, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	p.node = &node{base: base, op: strings.TrimSpace(string(tok))}
	return p
}

// schedule is a tone whose frequency follows wall-clock time since t0.
type schedule struct {
	t0    time.Time
	steps []step
	sine  tone.Sine
}

type step struct {
	until time.Duration
	freq  float64
}

func (s *schedule) fill(pcm []float32) {
	el := time.Since(s.t0)
	f := s.steps[len(s.steps)-1].freq
	for _, st := range s.steps {
		if el < st.until {
			f = st.freq
			break
		}
	}
	s.sine.Freq = f
	s.sine.Fill(pcm)
}

// decodeFile decodes an audio file with ffmpeg (an independent decoder) to
// mono 48 kHz float samples.
func decodeFile(t *testing.T, path string, args ...string) []float32 {
	t.Helper()
	cmdArgs := append([]string{"-v", "error"}, args...)
	cmdArgs = append(cmdArgs, "-i", path, "-f", "f32le", "-ac", "1", "-ar", "48000", "-")
	out, err := exec.Command("ffmpeg", cmdArgs...).Output()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v", cmdArgs, err)
	}
	pcm := make([]float32, len(out)/4)
	for i := range pcm {
		pcm[i] = math.Float32frombits(binary.LittleEndian.Uint32(out[i*4:]))
	}
	return pcm
}

func probeDuration(t *testing.T, path string) time.Duration {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	sec, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", out, err)
	}
	return time.Duration(sec * float64(time.Second))
}

// window returns samples [from, to) seconds.
func window(pcm []float32, from, to float64) []float32 {
	a, b := int(from*codec.SampleRate), int(to*codec.SampleRate)
	a, b = max(0, min(a, len(pcm))), max(0, min(b, len(pcm)))
	return pcm[a:b]
}

func toneIn(t *testing.T, what string, pcm []float32, present float64, absent ...float64) {
	t.Helper()
	if len(pcm) < codec.SampleRate/2 {
		t.Fatalf("%s: only %d samples", what, len(pcm))
	}
	if p := tone.Power(pcm, present, codec.SampleRate); p < 0.1 {
		t.Errorf("%s: %v Hz amplitude %.3f, want about 0.3", what, present, p)
	}
	for _, f := range absent {
		if p := tone.Power(pcm, f, codec.SampleRate); p > 0.03 {
			t.Errorf("%s: %v Hz amplitude %.3f, want absent", what, f, p)
		}
	}
}

func (n *node) download(t *testing.T, id, host, dir, name string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", n.base+"/replay/"+id+"/recording.opus", nil)
	req.Header.Set("Authorization", "Bearer "+host)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %d", resp.StatusCode)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type recordingDoc struct {
	State      string `json:"state"`
	DurationMS int64  `json:"duration_ms"`
	Gaps       []struct {
		AtMS       int64  `json:"at_ms"`
		DurationMS int64  `json:"duration_ms"`
		Reason     string `json:"reason"`
	} `json:"gaps"`
	Turns []struct {
		Name    string `json:"name"`
		StartMS int64  `json:"start_ms"`
		EndMS   int64  `json:"end_ms"`
	} `json:"turns"`
}

// TestRecordingSurvivesKill9 kills a real podium process mid-space, restarts
// it, decodes the recording with ffmpeg, resumes the space and checks that
// the replay is one recording with the gap marked.
func TestRecordingSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is needed (make deps installs it)")
	}
	bin, data, port, tmp := podiumBin(t), t.TempDir(), freePort(t), t.TempDir()
	p := startProc(t, bin, data, port)
	n := p.node
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	if st := n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil); st != http.StatusOK {
		t.Fatalf("start: %d", st)
	}
	liveAt := time.Now()
	sch := &schedule{t0: time.Now(), steps: []step{{3 * time.Second, 440}, {time.Hour, 660}}, sine: tone.Sine{Amplitude: 0.3, Rate: codec.SampleRate}}
	spk := n.speakFill(t, id, n.invite(t, id, host, "Tess"), "Tess", sch.fill)
	time.Sleep(6 * time.Second)
	killAt := time.Now()
	p.h.kill()
	spk.stop()
	lived := killAt.Sub(liveAt)

	p2 := startProc(t, bin, data, port)
	n = p2.node
	var space struct {
		State string `json:"state"`
	}
	n.api(t, "GET", "/api/spaces/"+id, "", nil, &space)
	if space.State != "interrupted" {
		t.Fatalf("after kill -9 the space is %q, want interrupted", space.State)
	}
	var rec recordingDoc
	if st := n.api(t, "GET", "/api/spaces/"+id+"/recording", host, nil, &rec); st != http.StatusOK {
		t.Fatalf("recording after crash: %d", st)
	}
	got := time.Duration(rec.DurationMS) * time.Millisecond
	t.Logf("live %v before kill -9; recording %v", lived, got)
	if got < lived-400*time.Millisecond || got > lived+100*time.Millisecond {
		t.Errorf("recording lasts %v, want the %v before the kill less at most one part", got, lived)
	}
	first := decodeFile(t, n.download(t, id, host, tmp, "first.opus"))
	// The speaker joined a moment after go-live; its schedule runs on its own clock.
	lead := sch.t0.Sub(liveAt).Seconds()
	toneIn(t, "before the kill, 0.5-2.5 s", window(first, lead+0.5, lead+2.5), 440, 660)
	end := float64(len(first)) / codec.SampleRate
	toneIn(t, "last second before the kill", window(first, end-1.2, end-0.2), 660, 440)

	// The host resumes: one recording, the gap marked.
	time.Sleep(time.Second)
	if st := n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil); st != http.StatusOK {
		t.Fatalf("resume: %d", st)
	}
	sch2 := &schedule{t0: time.Now(), steps: []step{{time.Hour, 880}}, sine: tone.Sine{Amplitude: 0.3, Rate: codec.SampleRate}}
	spk2 := n.speakFill(t, id, n.invite(t, id, host, "Tess"), "Tess", sch2.fill)
	time.Sleep(4 * time.Second)
	spk2.stop()
	if st := n.api(t, "POST", "/api/spaces/"+id+"/end", host, nil, nil); st != http.StatusOK {
		t.Fatalf("end: %d", st)
	}
	n.api(t, "GET", "/api/spaces/"+id+"/recording", host, nil, &rec)
	if rec.State != "complete" || len(rec.Gaps) != 1 || rec.Gaps[0].Reason != "restart" {
		t.Fatalf("recording after resume = %+v, want complete with one restart gap", rec)
	}
	if at := time.Duration(rec.Gaps[0].AtMS) * time.Millisecond; at < got-50*time.Millisecond || at > got+50*time.Millisecond {
		t.Errorf("gap at %v, want at the end of the first part (%v)", at, got)
	}
	if rec.Gaps[0].DurationMS < 1000 {
		t.Errorf("gap lasted %d ms, want the time the space was down (> 1 s)", rec.Gaps[0].DurationMS)
	}
	path := n.download(t, id, host, tmp, "whole.opus")
	whole := decodeFile(t, path)
	total := time.Duration(rec.DurationMS) * time.Millisecond
	if d := probeDuration(t, path); d < total-200*time.Millisecond || d > total+200*time.Millisecond {
		t.Errorf("ffprobe duration %v, API says %v: want equal within one part", d, total)
	}
	g := float64(rec.Gaps[0].AtMS) / 1000
	toneIn(t, "first part in the whole file", window(whole, lead+0.5, lead+2.5), 440, 880)
	toneIn(t, "after the gap", window(whole, float64(len(whole))/codec.SampleRate-2, float64(len(whole))/codec.SampleRate-0.5), 880, 440, 660)
	// Seeking: ffmpeg starts decoding in the middle and finds the right tone.
	mid := decodeFile(t, path, "-ss", fmt.Sprintf("%.2f", g-1.5), "-t", "1")
	toneIn(t, "seek to 1.5 s before the gap", mid, 660, 440, 880)
	if len(rec.Turns) == 0 || rec.Turns[0].Name != "Tess" {
		t.Errorf("turns = %+v, want Tess speaking", rec.Turns)
	}
}
