package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// The stage under load: with --create the tool puts two synthetic WHIP
// speakers on the stage, each talking and listening to the other over the
// node's forwarding, as two people on a stage do. Every second it records
// what they heard of each other (packets, sequence gaps, the longest pause
// between packets) and, with --metrics, the node's mixer counters: late
// mixer ticks (overruns) and speaker packets that arrived late, were
// dropped, or had to be concealed.

// audibleGap is a pause between forwarded packets that a speaker would hear
// as an interruption (the sender sends every 20 ms).
const audibleGap = 100 * time.Millisecond

// heard is what one speaker heard of another over a while.
type heard struct {
	packets int64
	lost    int64         // sequence numbers skipped
	gaps    int64         // pauses over audibleGap
	maxGap  time.Duration // the longest pause
}

func (h *heard) add(o heard) {
	h.packets += o.packets
	h.lost += o.lost
	h.gaps += o.gaps
	h.maxGap = max(h.maxGap, o.maxGap)
}

// ear counts what one speaker receives of another's forwarded audio.
type ear struct {
	mu      sync.Mutex // guards all below
	since   heard      // since the last take
	lastSeq uint16
	lastAt  time.Time // zero before the first packet
}

func (e *ear) packet(seq uint16, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.lastAt.IsZero() {
		if d := int16(seq - e.lastSeq); d > 1 {
			e.since.lost += int64(d - 1)
		} else if d <= 0 {
			return // duplicate or reordered: not a new packet
		}
		gap := at.Sub(e.lastAt)
		e.since.maxGap = max(e.since.maxGap, gap)
		if gap > audibleGap {
			e.since.gaps++
		}
	}
	e.since.packets++
	e.lastSeq, e.lastAt = seq, at
}

// take returns what was heard since the last take, counting a silence
// still going on at now in the longest pause.
func (e *ear) take(now time.Time) heard {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.since
	if !e.lastAt.IsZero() {
		h.maxGap = max(h.maxGap, now.Sub(e.lastAt))
	}
	e.since = heard{}
	return h
}

// listen reads a forwarded track into the ear until it ends.
func (e *ear) listen(tr *webrtc.TrackRemote) {
	for {
		p, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		e.packet(p.SequenceNumber, time.Now())
	}
}

// StageStats is what the stage went through in one second, a phase or a run.
type StageStats struct {
	// Speaker to speaker, over the node's forwarding (both directions).
	S2SPackets  int64   `json:"s2s_packets"`
	S2SLost     int64   `json:"s2s_lost"`
	S2SGaps     int64   `json:"s2s_gaps_over_100ms"`
	S2SMaxGapMs float64 `json:"s2s_max_gap_ms"`
	// The node's mixers (needs --metrics).
	MixerFrames      int64 `json:"mixer_frames"`
	MixerOverruns    int64 `json:"mixer_overruns"`
	SpeakerAccepted  int64 `json:"speaker_packets_accepted"`
	SpeakerLate      int64 `json:"speaker_packets_late"`
	SpeakerDropped   int64 `json:"speaker_packets_dropped"`
	SpeakerConcealed int64 `json:"speaker_frames_concealed"`
}

func (s *StageStats) add(o StageStats) {
	s.S2SPackets += o.S2SPackets
	s.S2SLost += o.S2SLost
	s.S2SGaps += o.S2SGaps
	s.S2SMaxGapMs = max(s.S2SMaxGapMs, o.S2SMaxGapMs)
	s.MixerFrames += o.MixerFrames
	s.MixerOverruns += o.MixerOverruns
	s.SpeakerAccepted += o.SpeakerAccepted
	s.SpeakerLate += o.SpeakerLate
	s.SpeakerDropped += o.SpeakerDropped
	s.SpeakerConcealed += o.SpeakerConcealed
}

// String is one line for the summary.
func (s StageStats) String() string {
	s2s, mixer := "not measured", "not measured (no --metrics)"
	if s.S2SPackets > 0 {
		s2s = fmt.Sprintf("%d packets, %d lost, %d pauses > 100 ms, longest %.0f ms", s.S2SPackets, s.S2SLost, s.S2SGaps, s.S2SMaxGapMs)
	}
	if s.MixerFrames > 0 {
		mixer = fmt.Sprintf("%d frames, %d overruns; speaker packets %d accepted, %d late, %d dropped, %d concealed",
			s.MixerFrames, s.MixerOverruns, s.SpeakerAccepted, s.SpeakerLate, s.SpeakerDropped, s.SpeakerConcealed)
	}
	return "speaker→speaker " + s2s + "; mixer " + mixer
}

// stageState is what the sampler carries from one second to the next;
// guarded by env.mu except the ears, which lock themselves.
type stageState struct {
	ears        []hearing
	prevMetrics map[string]float64
}

// sampleStage is one second of the stage: what the ears heard and how the
// node's mixer counters moved.
func (e *env) sampleStage(now time.Time, m map[string]float64) StageStats {
	var s StageStats
	st := &e.stage
	var h heard
	for _, er := range st.ears {
		h.add(er.take(now))
	}
	s.S2SPackets, s.S2SLost, s.S2SGaps = h.packets, h.lost, h.gaps
	if h.packets > 0 {
		s.S2SMaxGapMs = ms(h.maxGap)
	}
	if m != nil {
		if st.prevMetrics != nil {
			d := func(k string) int64 { return int64(m[k] - st.prevMetrics[k]) }
			s.MixerFrames = d("podium_mixer_frames_total")
			s.MixerOverruns = d("podium_mixer_overruns_total")
			s.SpeakerAccepted = d(`podium_speaker_packets_total{outcome="accepted"}`)
			s.SpeakerLate = d(`podium_speaker_packets_total{outcome="late"}`)
			s.SpeakerDropped = d(`podium_speaker_packets_total{outcome="dropped"}`)
			s.SpeakerConcealed = d(`podium_speaker_packets_total{outcome="concealed"}`)
		}
		st.prevMetrics = m
	}
	return s
}

// scrapedMetrics are the series the sampler reads from --metrics.
var scrapedMetrics = []string{"go_goroutines ", "podium_mixer_frames_total ", "podium_mixer_overruns_total ", "podium_speaker_packets_total{"}

// scrapeMetrics reads the node's /metrics (--metrics), if given: the
// goroutines and the mixer counters. nil when not given or unreachable.
func (e *env) scrapeMetrics() map[string]float64 {
	if e.cfg.Metrics == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.cfg.Metrics, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		for _, p := range scrapedMetrics {
			if !strings.HasPrefix(line, p) {
				continue
			}
			i := strings.LastIndexByte(line, ' ')
			if f, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				m[line[:i]] = f
			}
		}
	}
	return m
}
