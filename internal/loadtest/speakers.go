package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/tone"
	"github.com/podium-live/podium/internal/whip"
)

// hearing is what one synthetic speaker heard of the other: an ear in this
// process, or one in the speakers' own process (remoteEar).
type hearing interface {
	take(now time.Time) heard // since the last take
}

// stageFreqs are the synthetic speakers' tones.
var stageFreqs = []float64{440, 660}

// dialSpeakers puts the synthetic speakers on the stage of whipURL, each
// talking its tone and listening to the other, and returns their ears and
// a function that makes them leave.
func dialSpeakers(ctx context.Context, whipURL, token string) ([]*ear, func(), error) {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var speakers []*whip.Client
	leave := func() {
		stop()
		wg.Wait()
		lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, c := range speakers {
			c.Leave(lctx)
		}
	}
	var ears []*ear
	for i, freq := range stageFreqs {
		er := &ear{}
		c, err := whip.Dial(dctx, whipURL, token, whip.Options{
			Name: fmt.Sprintf("loadtest speaker %d", i+1), ListenSlots: 1,
			OnTrack: func(tr *webrtc.TrackRemote) { go er.listen(tr) },
		})
		if err == nil {
			speakers = append(speakers, c)
			err = c.Connected(dctx)
		}
		if err != nil {
			leave()
			return nil, nil, fmt.Errorf("loadtest: synthetic speaker: %w", err)
		}
		ears = append(ears, er)
		sine := &tone.Sine{Freq: freq, Amplitude: 0.3, Rate: codec.SampleRate}
		wg.Add(1)
		go func() { defer wg.Done(); c.Talk(tctx, sine.Fill) }()
	}
	return ears, leave, nil
}

// speakersReportEvery is how often the speakers' process reports.
const speakersReportEvery = 200 * time.Millisecond

// RunSpeakers is the speakers' own process (`podium loadtest speakers`):
// the load tool starts it so that the speakers' timing does not depend on
// how busy the tool is, as a real speaker's machine does not. It dials the
// speakers, writes "ready" to w, then a line per ear every 200 ms with what
// it heard since the last line ("ear I PACKETS LOST PAUSES LONGEST_US"), until stop reaches EOF or ctx
// ends; then the speakers leave.
func RunSpeakers(ctx context.Context, whipURL, token string, stop io.Reader, w io.Writer) error {
	u, err := url.Parse(whipURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("loadtest speakers: --whip %q: want the space's WHIP URL", whipURL)
	}
	if err := checkLoopback(u); err != nil {
		return err
	}
	ears, leave, err := dialSpeakers(ctx, whipURL, token)
	if err != nil {
		return err
	}
	defer leave()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { io.Copy(io.Discard, stop); cancel() }()
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "ready")
	bw.Flush()
	t := time.NewTicker(speakersReportEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			for i, er := range ears {
				h := er.take(now)
				fmt.Fprintf(bw, "ear %d %d %d %d %d\n", i, h.packets, h.lost, h.gaps, h.maxGap.Microseconds())
			}
			if err := bw.Flush(); err != nil {
				return nil // the tool is gone
			}
		}
	}
}

// remoteEar is an ear in the speakers' process: what it reported since
// the last take.
type remoteEar struct {
	mu    sync.Mutex // guards since
	since heard
}

func (r *remoteEar) take(time.Time) heard {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.since
	r.since = heard{}
	return h
}

// startSpeakerProcess runs `bin loadtest speakers` for whipURL and returns
// the remote ears once both speakers are on stage, and a function that
// stops the process (its speakers leave the stage).
func startSpeakerProcess(ctx context.Context, bin, whipURL, token string) ([]hearing, func(), error) {
	cmd := exec.Command(bin, "loadtest", "speakers", "--whip", whipURL)
	cmd.Env = append(os.Environ(), "PODIUM_LOADTEST_TOKEN="+token) // not on the command line, where ps shows it
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("loadtest: speakers' process: %w", err)
	}
	ears := make([]*remoteEar, len(stageFreqs))
	for i := range ears {
		ears[i] = &remoteEar{}
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			line := sc.Text()
			if first {
				first = false
				if line != "ready" {
					ready <- fmt.Errorf("loadtest: speakers' process said %q", line)
					return
				}
				ready <- nil
				continue
			}
			f := strings.Fields(line)
			if len(f) != 6 || f[0] != "ear" {
				continue
			}
			var v [5]int64
			for k := range v {
				v[k], _ = strconv.ParseInt(f[k+1], 10, 64)
			}
			if v[0] < 0 || int(v[0]) >= len(ears) {
				continue
			}
			r := ears[v[0]]
			r.mu.Lock()
			r.since.add(heard{packets: v[1], lost: v[2], gaps: v[3], maxGap: time.Duration(v[4]) * time.Microsecond})
			r.mu.Unlock()
		}
		if first {
			ready <- errors.New("loadtest: the speakers' process ended before its speakers were on stage")
		}
	}()
	stop := func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	select {
	case err = <-ready:
	case <-ctx.Done():
		err = ctx.Err()
	case <-time.After(30 * time.Second):
		err = errors.New("loadtest: the speakers' process took over 30 s to get on stage")
	}
	if err != nil {
		stop()
		return nil, nil, err
	}
	hs := make([]hearing, len(ears))
	for i, r := range ears {
		hs[i] = r
	}
	return hs, stop, nil
}
