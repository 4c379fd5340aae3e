package app

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/podium-live/podium/internal/space"
	"github.com/podium-live/podium/internal/store"
)

// settleGoroutines waits for the goroutine count to come down to at most
// want (the client side of connections and pion's read loops end a moment
// after the peer has closed) and returns the last count.
func settleGoroutines(want int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		http.DefaultClient.CloseIdleConnections()
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRunJoinsEverything: Run returns only when every goroutine it
// started (servers, heartbeat, retention, listener counting, reapers,
// venues with their mixers and speakers' connections) has ended, a
// blocking playlist reload does not hold shutdown up, and Close after Run
// is safe.
func TestRunJoinsEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base := settleGoroutines(0, 0)
	cfg := testConfig(t)
	// 30 s segments: a reload for the next segment's last part waits far
	// longer than the HTTP drain may take, unless shutdown releases it.
	cfg.HLS.PartMillis, cfg.HLS.SegmentParts = 1000, 30
	a, err := New(context.Background(), cfg, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	n := &node{App: a, base: a.BaseURL()}
	id, host := n.liveSpace(t)
	s := n.speak(t, id, n.invite(t, id, host, "Ann"), "Ann", 440, 0, nil)
	// The whole of the segment after the first: within the two segments
	// ahead that a server must hold (RFC 8216bis §6.2.5.2), a minute away.
	msn := 1
	waiting := make(chan int, 1)
	go func() {
		resp, err := http.Get(n.base + "/hls/" + id + "/index.m3u8?_HLS_msn=" + strconv.Itoa(msn))
		if err != nil {
			waiting <- 0
			return
		}
		resp.Body.Close()
		waiting <- resp.StatusCode
	}()
	time.Sleep(500 * time.Millisecond)
	select {
	case st := <-waiting:
		t.Fatalf("the blocking reload was answered %d at once; want it waiting", st)
	default:
	}
	t0 := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The drain gives up after 10 s: well under that means the waiting
	// reload was released.
	t.Logf("Run returned %v after cancel", time.Since(t0))
	if d := time.Since(t0); d > 8*time.Second {
		t.Errorf("shutdown took %v with a blocked reload", d)
	}
	t.Logf("reload answered %d, %v after cancel", <-waiting, time.Since(t0))
	s.stop()
	s.c.Close()
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if got := settleGoroutines(base, 5*time.Second); got > base {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%d goroutines after Run returned, %d before New:\n%s", got, base, buf)
	}
}

// counter reads a counter (summed over its labels) from the node's registry.
func (n *node) counter(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := n.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		sum := 0.0
		for _, m := range mf.GetMetric() {
			sum += counterValue(m)
		}
		return sum
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func counterValue(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return 0
}

// TestCountersNeverGoDown: the mixer and speaker packet totals keep what
// a space counted after it ends.
func TestCountersNeverGoDown(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	n := startNode(t)
	id, host := n.liveSpace(t)
	s := n.speak(t, id, n.invite(t, id, host, "Ann"), "Ann", 440, 0, nil)
	time.Sleep(1500 * time.Millisecond)
	names := []string{"podium_mixer_frames_total", "podium_speaker_packets_total", "podium_mixer_overruns_total"}
	before := map[string]float64{}
	for _, name := range names {
		before[name] = n.counter(t, name)
	}
	if before["podium_mixer_frames_total"] < 25 || before["podium_speaker_packets_total"] < 25 {
		t.Fatalf("counters while live: %v, want frames and packets counted", before)
	}
	// Scrape while the space ends: no reading may be lower than the last.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		last := before["podium_mixer_frames_total"]
		for {
			select {
			case <-stop:
				return
			default:
			}
			v := n.counter(t, "podium_mixer_frames_total")
			if v < last {
				t.Errorf("podium_mixer_frames_total went down from %v to %v", last, v)
			}
			last = v
		}
	})
	s.stop()
	if st := n.api(t, "POST", "/api/spaces/"+id+"/end", host, nil, nil); st != http.StatusOK {
		t.Fatalf("end: %d", st)
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	for _, name := range names {
		if got := n.counter(t, name); got < before[name] {
			t.Errorf("%s = %v after the space ended, was %v", name, got, before[name])
		}
	}
	if c := n.Runtime().Counts(); c.LiveSpaces != 0 || c.Mix.Frames < uint64(before["podium_mixer_frames_total"]) {
		t.Errorf("counts after end = %+v", c)
	}
}

// recordingFiles lists what is left on disk of a space's recording.
func recordingFiles(t *testing.T, dataDir, id string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dataDir, "recordings", id))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestDeletedRecordingReconciledAtStart: a crash between marking a
// recording deleted and removing its files leaves the files; the next
// start removes them.
func TestDeletedRecordingReconciledAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	cfg := testConfig(t)
	a, err := New(context.Background(), cfg, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	n := &node{App: a, base: a.BaseURL()}
	id, host := n.liveSpace(t)
	s := n.speak(t, id, n.invite(t, id, host, "Ann"), "Ann", 440, 0, nil)
	time.Sleep(1500 * time.Millisecond)
	s.stop()
	n.api(t, "POST", "/api/spaces/"+id+"/end", host, nil, nil)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if files := recordingFiles(t, cfg.DataDir, id); len(files) == 0 {
		t.Fatal("nothing recorded")
	}
	// The crash: the mark is written, the files stay.
	st, err := store.OpenSQLite(context.Background(), filepath.Join(cfg.DataDir, "podium.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateRecording(context.Background(), id, func(r *space.Recording) error { return r.Delete("host", time.Now()) }); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Run reconciles before it serves: the first answer comes after it.
	n2 := runNode(t, cfg)
	var rec struct {
		State string `json:"state"`
	}
	if code := n2.api(t, "GET", "/api/spaces/"+id+"/recording", host, nil, &rec); code != http.StatusOK || rec.State != "deleted" {
		t.Fatalf("recording after restart: %d %+v, want deleted", code, rec)
	}
	if files := recordingFiles(t, cfg.DataDir, id); len(files) != 0 {
		t.Fatalf("files of a deleted recording after restart: %v", files)
	}
}

// TestRecordingChangesConcurrently: publish, unpublish and delete of one
// recording racing over HTTP end consistent: deleted, private, its files
// gone, and every answer one of the documented ones.
func TestRecordingChangesConcurrently(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	cfg := testConfig(t)
	n := runNode(t, cfg)
	id, host := n.liveSpace(t)
	time.Sleep(1500 * time.Millisecond)
	n.api(t, "POST", "/api/spaces/"+id+"/end", host, nil, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[string][]int{}
	for i := range 18 {
		wg.Go(func() {
			method, path := "POST", "/api/spaces/"+id+"/recording/publish"
			switch i % 3 {
			case 1:
				path = "/api/spaces/" + id + "/recording/unpublish"
			case 2:
				method, path = "DELETE", "/api/spaces/"+id+"/recording"
			}
			var body any = map[string]any{}
			if method == "DELETE" {
				body = nil
			}
			st := n.api(t, method, path, host, body, nil)
			what := path[strings.LastIndexByte(path, '/')+1:]
			mu.Lock()
			answers[what] = append(answers[what], st)
			mu.Unlock()
		})
	}
	wg.Wait()
	deleted := 0
	for what, sts := range answers {
		for _, st := range sts {
			switch {
			case what == "recording" && st == http.StatusNoContent:
				deleted++
			case st == http.StatusGone, what != "recording" && st == http.StatusOK:
			default:
				t.Errorf("%s answered %d", what, st)
			}
		}
	}
	if deleted != 1 {
		t.Errorf("%d deletes succeeded, want exactly 1 (answers %v)", deleted, answers)
	}
	var rec struct {
		State     string `json:"state"`
		Published bool   `json:"published"`
	}
	if code := n.api(t, "GET", "/api/spaces/"+id+"/recording", host, nil, &rec); code != http.StatusOK || rec.State != "deleted" || rec.Published {
		t.Fatalf("after the race: %d %+v, want deleted and private", code, rec)
	}
	if st, _, _ := n.raw(t, "GET", "/replay/"+id+"/index.m3u8", "", "", nil); st != http.StatusNotFound {
		t.Errorf("anonymous replay after the race: %d, want 404", st)
	}
	if files := recordingFiles(t, cfg.DataDir, id); len(files) != 0 {
		t.Errorf("files left after delete: %v", files)
	}
}

// TestStartEndRace: start and end of one space racing end consistent:
// ended in the store, nothing left open on the node (no mixer, no stage),
// and at most one of each transition succeeded.
func TestStartEndRace(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	n := startNode(t)
	for round := range 6 {
		sp := n.createSpace(t)
		id, host := sp.Space.ID, sp.HostToken
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[string][]int{}
		for i := range 8 {
			what := []string{"start", "end"}[i%2]
			wg.Go(func() {
				st := n.api(t, "POST", "/api/spaces/"+id+"/"+what, host, nil, nil)
				mu.Lock()
				codes[what] = append(codes[what], st)
				mu.Unlock()
			})
		}
		wg.Wait()
		ok := map[string]int{}
		for what, sts := range codes {
			for _, st := range sts {
				switch st {
				case http.StatusOK:
					ok[what]++
				case http.StatusConflict:
				default:
					t.Errorf("%s answered %d", what, st)
				}
			}
		}
		if ok["start"] > 1 || ok["end"] != 1 {
			t.Fatalf("round %d: %v succeeded (answers %v), want at most one start and one end", round, ok, codes)
		}
		var got struct {
			State string `json:"state"`
		}
		n.api(t, "GET", "/api/spaces/"+id, "", nil, &got)
		if got.State != "ended" {
			t.Fatalf("round %d: state %q after the race, want ended", round, got.State)
		}
		if c := n.Runtime().Counts(); c.LiveSpaces != 0 {
			t.Fatalf("round %d: %d spaces live on the node after the race", round, c.LiveSpaces)
		}
		if st, _, _ := n.raw(t, "GET", "/hls/"+id+"/index.m3u8", "", "", nil); st == http.StatusOK {
			// The ended stream may still be served for a minute, but it
			// must carry its end.
			_, body, _ := n.raw(t, "GET", "/hls/"+id+"/index.m3u8", "", "", nil)
			if !strings.Contains(body, "#EXT-X-ENDLIST") {
				t.Fatalf("round %d: a live playlist after the space ended", round)
			}
		}
	}
}
