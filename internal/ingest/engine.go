// Package ingest brings speakers onto a space's stage over WebRTC (WHIP):
// it answers their offers, reads their Opus packets into the mixer, and
// forwards each speaker's audio to the other speakers (SFU style) so they
// hear each other with low latency and never hear themselves.
package ingest

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// Config says how speakers reach this node over ICE.
type Config struct {
	// PublicIPs are the node's public addresses when it sits behind 1:1 NAT
	// (cloud VMs); they replace host candidates in answers.
	PublicIPs []string
	// UDPPort, when set, multiplexes all speakers on this one UDP port (one
	// firewall rule). Otherwise ports come from UDPPortMin..UDPPortMax, or
	// the OS picks.
	UDPPort                int
	UDPPortMin, UDPPortMax uint16
	// TCPPort, when set, also accepts ICE over TCP on this port, for
	// speakers whose networks block UDP.
	TCPPort int
	// Loopback includes loopback candidates (tests, a demo on one machine),
	// in answers and among the candidates kept from offers.
	Loopback bool
	// AllowPrivateCandidates keeps private and link-local candidates of
	// offers (a node serving speakers on its own LAN); by default the node
	// never probes such addresses (see candidatePolicy).
	AllowPrivateCandidates bool
	// DisconnectTimeout is how long a silent ICE connection lasts before the
	// speaker is removed from the stage (0 = 5 s).
	DisconnectTimeout time.Duration
}

// Engine holds the WebRTC machinery shared by every stage on a node.
type Engine struct {
	api    *webrtc.API
	cands  candidatePolicy
	log    *slog.Logger
	closer []func() error
}

// NewEngine builds the WebRTC API: Opus only, RTCP reports, and the ICE
// settings from cfg.
func NewEngine(cfg Config, log *slog.Logger) (*Engine, error) {
	e := &Engine{log: log, cands: candidatePolicy{loopback: cfg.Loopback, private: cfg.AllowPrivateCandidates}}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1",
		},
		PayloadType: 111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("ingest: register opus: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("ingest: rtcp reports: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.LoggerFactory = quietLogger{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(cfg.Loopback)
	dt := cfg.DisconnectTimeout
	if dt <= 0 {
		dt = 5 * time.Second
	}
	se.SetICETimeouts(dt/2, dt, time.Second)
	if len(cfg.PublicIPs) > 0 {
		// Host candidates name the public addresses instead of the
		// node's own (a node behind 1:1 NAT).
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: cfg.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return nil, fmt.Errorf("ingest: public ips: %w", err)
		}
	}
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	switch {
	case cfg.UDPPort > 0:
		mux, err := ice.NewMultiUDPMuxFromPort(cfg.UDPPort, ice.UDPMuxFromPortWithLoopback())
		if err != nil {
			return nil, fmt.Errorf("ingest: udp port %d: %w", cfg.UDPPort, err)
		}
		se.SetICEUDPMux(mux)
		e.closer = append(e.closer, mux.Close)
	case cfg.UDPPortMin > 0 || cfg.UDPPortMax > 0:
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return nil, fmt.Errorf("ingest: udp port range: %w", err)
		}
	}
	if cfg.TCPPort > 0 {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{Port: cfg.TCPPort})
		if err != nil {
			return nil, fmt.Errorf("ingest: ice tcp port %d: %w", cfg.TCPPort, err)
		}
		se.SetICETCPMux(webrtc.NewICETCPMux(quietLeveled{}, ln, 8))
		e.closer = append(e.closer, ln.Close)
		types = append(types, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(types)
	e.api = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return e, nil
}

// Close releases shared sockets. Stages must be closed first.
func (e *Engine) Close() error {
	for _, c := range e.closer {
		c()
	}
	return nil
}

// quietLogger drops pion's internal logging: its warnings are per-packet
// noise; what matters is logged by this package with slog.
type quietLogger struct{}

func (quietLogger) NewLogger(string) logging.LeveledLogger { return quietLeveled{} }

type quietLeveled struct{}

func (quietLeveled) Trace(string)          {}
func (quietLeveled) Tracef(string, ...any) {}
func (quietLeveled) Debug(string)          {}
func (quietLeveled) Debugf(string, ...any) {}
func (quietLeveled) Info(string)           {}
func (quietLeveled) Infof(string, ...any)  {}
func (quietLeveled) Warn(string)           {}
func (quietLeveled) Warnf(string, ...any)  {}
func (quietLeveled) Error(string)          {}
func (quietLeveled) Errorf(string, ...any) {}
