package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/podium-live/podium/internal/admission"
)

// registerMetrics puts podium's metrics on the node's registry. Labels are
// low-cardinality only: never a space or a user.
func (a *App) registerMetrics() {
	a.reg.MustRegister(
		liveCollector{a},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "podium_recordings_failing", Help: "Live spaces whose recording is failing (disk full, unwritable storage)."},
			func() float64 { return float64(a.runtime.RecordingProblems()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "podium_conns_open", Help: "Open connections on the public listener."},
			func() float64 { return float64(a.ln.Open()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "podium_conns_rejected_total", Help: "Connections refused with a fast 503 because the connection cap was reached."},
			func() float64 { return float64(a.ln.Rejected()) }),
		hlsCollector{a},
		admissionCollector{a},
	)
}

var hlsRequestsDesc = prometheus.NewDesc("podium_hls_requests_total",
	"LL-HLS requests answered, by kind (playlist, blocking_playlist, part, segment, init, rejected, not_found, method_not_allowed, timed_out, canceled).",
	[]string{"kind"}, nil)

var hlsWaitsDesc = prometheus.NewDesc("podium_hls_blocked_waits_total",
	"Blocking playlist or preload-hint requests that had to wait for the next part.", nil, nil)

// hlsCollector reads the HLS server's counters at scrape time.
type hlsCollector struct{ a *App }

func (c hlsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- hlsRequestsDesc
	ch <- hlsWaitsDesc
}

func (c hlsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.a.hls.Stats()
	for kind, v := range map[string]uint64{
		"playlist": st.Playlists, "blocking_playlist": st.BlockingPlaylists, "part": st.Parts,
		"segment": st.Segments, "init": st.Inits, "rejected": st.Rejected, "not_found": st.NotFound,
		"method_not_allowed": st.MethodNotAllowed, "timed_out": st.TimedOut, "canceled": st.Canceled,
	} {
		ch <- prometheus.MustNewConstMetric(hlsRequestsDesc, prometheus.CounterValue, float64(v), kind)
	}
	ch <- prometheus.MustNewConstMetric(hlsWaitsDesc, prometheus.CounterValue, float64(st.BlockedWaits))
}

var (
	spacesLiveDesc = prometheus.NewDesc("podium_spaces_live", "Spaces live on this node.", nil, nil)
	speakersDesc   = prometheus.NewDesc("podium_speakers", "Speakers on stage on this node.", nil, nil)
	overrunsDesc   = prometheus.NewDesc("podium_mixer_overruns_total", "Mixer frames produced late, in every space live on this node since it started.", nil, nil)
	mixFramesDesc  = prometheus.NewDesc("podium_mixer_frames_total", "Mixed 20 ms frames, in every space live on this node since it started.", nil, nil)
	speakerPktDesc = prometheus.NewDesc("podium_speaker_packets_total",
		"Speaker packets reaching the mixers since the node started, by outcome: accepted, late, dropped; and frames concealed for missing packets (concealed).", []string{"outcome"}, nil)
)

// liveCollector reads the runtime's figures once per scrape. The totals
// include spaces that ended, so they never go down.
type liveCollector struct{ a *App }

func (c liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{spacesLiveDesc, speakersDesc, overrunsDesc, mixFramesDesc, speakerPktDesc} {
		ch <- d
	}
}

func (c liveCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.a.runtime.Counts()
	ch <- prometheus.MustNewConstMetric(spacesLiveDesc, prometheus.GaugeValue, float64(n.LiveSpaces))
	ch <- prometheus.MustNewConstMetric(speakersDesc, prometheus.GaugeValue, float64(n.Speakers))
	ch <- prometheus.MustNewConstMetric(overrunsDesc, prometheus.CounterValue, float64(n.Mix.Overruns))
	ch <- prometheus.MustNewConstMetric(mixFramesDesc, prometheus.CounterValue, float64(n.Mix.Frames))
	for outcome, v := range map[string]uint64{"accepted": n.Mix.Packets, "late": n.Mix.Late, "dropped": n.Mix.Dropped, "concealed": n.Mix.Concealed} {
		ch <- prometheus.MustNewConstMetric(speakerPktDesc, prometheus.CounterValue, float64(v), outcome)
	}
}

var (
	classRequestsDesc = prometheus.NewDesc("podium_requests_total", "Requests seen by the overload manager, by priority class.", []string{"class"}, nil)
	classShedDesc     = prometheus.NewDesc("podium_shed_total", "Requests answered 503 by the overload manager, by priority class.", []string{"class"}, nil)
	classWaitedDesc   = prometheus.NewDesc("podium_shed_waited_total", "Requests of a shed class passed on to the waiting room instead of a 503 (joins), by priority class.", []string{"class"}, nil)
	classLimitedDesc  = prometheus.NewDesc("podium_limited_total", "Requests answered 429 by the rate limiter, by priority class.", []string{"class"}, nil)
	shedLevelDesc     = prometheus.NewDesc("podium_shed_level", "Overload level: 0 none, 1 sheds anonymous, 2 joins, 3 chat, 4 listeners.", nil, nil)
	attackDesc        = prometheus.NewDesc("podium_attack_mode", "1 while attack mode is on (declared or detected).", nil, nil)
	joinsDesc         = prometheus.NewDesc("podium_joins_total", "Join answers by outcome: admitted, queued, challenged, refused.", []string{"outcome"}, nil)
	listenersDesc     = prometheus.NewDesc("podium_listeners", "Listeners on this node: distinct tickets seen in media requests over the last 5-10 s (HyperLogLog, about 2 % error).", nil, nil)
)

// admissionCollector reads the admission layer's counters per scrape.
type admissionCollector struct{ a *App }

func (c admissionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{classRequestsDesc, classShedDesc, classWaitedDesc, classLimitedDesc, shedLevelDesc, attackDesc, joinsDesc, listenersDesc} {
		ch <- d
	}
}

func (c admissionCollector) Collect(ch chan<- prometheus.Metric) {
	ad := c.a.adm
	jc := ad.Counts()
	for outcome, v := range map[string]uint64{"admitted": jc.Admitted, "queued": jc.Queued, "challenged": jc.Challenged, "refused": jc.Refused} {
		ch <- prometheus.MustNewConstMetric(joinsDesc, prometheus.CounterValue, float64(v), outcome)
	}
	ch <- prometheus.MustNewConstMetric(listenersDesc, prometheus.GaugeValue, float64(ad.Listeners.Total()))
	if ad.Manager == nil {
		return
	}
	st := ad.Manager.Stats()
	for k, cs := range st.Classes {
		name := admission.Class(k).String()
		ch <- prometheus.MustNewConstMetric(classRequestsDesc, prometheus.CounterValue, float64(cs.Requests), name)
		ch <- prometheus.MustNewConstMetric(classShedDesc, prometheus.CounterValue, float64(cs.Shed), name)
		ch <- prometheus.MustNewConstMetric(classWaitedDesc, prometheus.CounterValue, float64(cs.Waited), name)
		ch <- prometheus.MustNewConstMetric(classLimitedDesc, prometheus.CounterValue, float64(cs.Limited), name)
	}
	ch <- prometheus.MustNewConstMetric(shedLevelDesc, prometheus.GaugeValue, float64(st.Level))
	attack := 0.0
	if st.AttackDeclared || st.AttackDetected {
		attack = 1
	}
	ch <- prometheus.MustNewConstMetric(attackDesc, prometheus.GaugeValue, attack)
}
