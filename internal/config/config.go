// Package config is podium's one typed configuration tree: defaults, then
// a JSON file, then PODIUM_* environment variables, then flags, validated
// at start with messages that say what to fix.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Config is everything an operator can set.
type Config struct {
	// Addr is where the public HTTP server listens.
	Addr string `json:"addr"`
	// StageAddr, when set, is a second public listener with its own
	// connection cap for hosts and speakers (studio pages, WHIP), so a flood
	// of listeners on Addr can never keep the stage from connecting.
	StageAddr string `json:"stage_addr"`
	// DebugAddr serves /metrics and /debug/pprof; empty disables it.
	DebugAddr string `json:"debug_addr"`
	// DataDir holds the database, secrets and recordings.
	DataDir string `json:"data_dir"`
	// PublicURL is the base URL in links (listener pages, invites);
	// empty = taken from each request's Host header.
	PublicURL string `json:"public_url"`
	// MaxConns caps open connections on the public listener; past it new
	// connections get a fast 503. 0 = four fifths of the open-file limit.
	MaxConns int `json:"max_conns"`
	// TrustedProxies are the networks (CIDR) of the caching proxies or CDN
	// in front of the node. A request from one of them is attributed to
	// the client its X-Forwarded-For names (the nearest address outside
	// these networks), so rate limits, top talkers and the waiting room
	// see listeners, not the proxy. From anywhere else X-Forwarded-For is
	// ignored: a client cannot pick its own address.
	TrustedProxies []string `json:"trusted_proxies"`
	// LogLevel is debug, info, warn or error.
	LogLevel       string         `json:"log_level"`
	ICE            ICE            `json:"ice"`
	Stage          Stage          `json:"stage"`
	HLS            HLS            `json:"hls"`
	Recordings     Recordings     `json:"recordings"`
	Admission      Admission      `json:"admission"`
	Geo            Geo            `json:"geo"`
	TransparencyDB TransparencyDB `json:"transparency_db"`
}

// Admission tunes joining and overload protection.
type Admission struct {
	// Disabled switches every protection above the connection cap off:
	// no shedding, no rate limits, no waiting room (every join gets a
	// ticket at once). For side-by-side measurements only.
	Disabled bool `json:"disabled"`
	// AdmitRate is how many joins per second a space's waiting room lets in
	// while the node has room (a storm enters at this pace); while the node
	// is full nobody is let in until room frees up.
	AdmitRate float64 `json:"admit_rate"`
	// MaxListeners is how many listeners this node takes before joins wait
	// in the waiting room; 0 = no fixed number (the overload manager alone
	// decides when the node is full).
	MaxListeners int `json:"max_listeners"`
	// TicketTTLSeconds is a ticket's lifetime; players renew before it ends.
	TicketTTLSeconds int `json:"ticket_ttl_seconds"`
	// PowDifficulty is the proof of work's leading zero bits in attack mode.
	PowDifficulty int `json:"pow_difficulty"`
	// JoinsPerIP and JoinsPerNet limit joins per second from one address
	// and from one /24 (IPv6: /64 and /48); bursts are five times that.
	JoinsPerIP  float64 `json:"joins_per_ip"`
	JoinsPerNet float64 `json:"joins_per_net"`
	// The overload manager's limits.
	MaxHeapMB       int `json:"max_heap_mb"`
	MaxGoroutines   int `json:"max_goroutines"`
	TargetLatencyMS int `json:"target_latency_ms"`
	// MaxCPUPercent is the share of the process's cores above which the
	// node sheds its least important requests.
	MaxCPUPercent int `json:"max_cpu_percent"`
}

// Recordings says where recordings live and how long they are kept.
type Recordings struct {
	// Dir holds the recordings; empty = <data_dir>/recordings.
	Dir string `json:"dir"`
	// DeleteUnpublishedAfterDays deletes recordings never published, that
	// many days after their space ended; 0 keeps them.
	DeleteUnpublishedAfterDays int `json:"delete_unpublished_after_days"`
	// DeletePublishedAfterDays does the same for published ones; 0 keeps
	// them forever.
	DeletePublishedAfterDays int `json:"delete_published_after_days"`
}

// ICE says how speakers reach this node.
type ICE struct {
	PublicIPs  []string `json:"public_ips"`
	UDPPort    int      `json:"udp_port"`
	UDPPortMin int      `json:"udp_port_min"`
	UDPPortMax int      `json:"udp_port_max"`
	TCPPort    int      `json:"tcp_port"`
	// Loopback offers loopback candidates (local demo and tests) and
	// accepts speakers' loopback candidates.
	Loopback bool `json:"loopback"`
	// AllowPrivateCandidates accepts speakers' ICE candidates on private
	// and link-local addresses (a node serving its own LAN). Off, the
	// node never sends connectivity checks to such addresses, so an offer
	// cannot make it probe the network it sits in; speakers behind NAT
	// still connect through their own checks.
	AllowPrivateCandidates bool `json:"allow_private_candidates"`
}

// Stage limits the speakers of a space.
type Stage struct {
	MaxSpeakers int `json:"max_speakers"`
}

// HLS shapes the live stream.
type HLS struct {
	PartMillis     int `json:"part_ms"`
	SegmentParts   int `json:"segment_parts"`
	WindowSegments int `json:"window_segments"`
}

// PartDuration is HLS.PartMillis as a duration.
func (h HLS) PartDuration() time.Duration { return time.Duration(h.PartMillis) * time.Millisecond }

// MaxRetentionDays bounds the retention settings (a century), so that
// days × 24 h fits a duration.
const MaxRetentionDays = 36500

// Default returns the embedded defaults: one node on loopback, everything
// under ./podium-data.
func Default() Config {
	return Config{
		Addr:      "127.0.0.1:8080",
		DebugAddr: "127.0.0.1:9090",
		DataDir:   "podium-data",
		LogLevel:  "info",
		ICE:       ICE{Loopback: true},
		Stage:     Stage{MaxSpeakers: 10},
		HLS:       HLS{PartMillis: 200, SegmentParts: 10, WindowSegments: 10}, // 20 s listed: deltas skip what is older than CAN-SKIP-UNTIL (12 s)
		Admission: Admission{
			AdmitRate: 200, TicketTTLSeconds: 600, PowDifficulty: 18, JoinsPerIP: 1, JoinsPerNet: 20,
			MaxHeapMB: 4096, MaxGoroutines: 200000, TargetLatencyMS: 250, MaxCPUPercent: 85,
		},
	}
}

// LoadFile merges the JSON file at path into c. Unknown keys are errors.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return c.load(b, path)
}

// load merges the JSON document b (read from name) into c: one object,
// no unknown keys, nothing after it. Errors name the key and the problem
// in an operator's words, not Go's ("cannot unmarshal string into Go
// struct field ICE.ice.udp_port of type int").
func (c *Config) load(b []byte, name string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config: %s: %s", name, describe(err))
	}
	if dec.More() {
		return fmt.Errorf("config: %s: text after the JSON object", name)
	}
	return nil
}

// describe says what is wrong with a JSON document in words.
func describe(err error) string {
	var (
		syn *json.SyntaxError
		ute *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return "the file is empty: want a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early"
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &ute):
		if ute.Field == "" {
			return "want a JSON object"
		}
		want := "an object"
		switch ute.Type.Kind() {
		case reflect.String:
			want = "text (a JSON string)"
		case reflect.Bool:
			want = "true or false"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			want = "a whole number within range"
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			want = "a whole number, not negative"
		case reflect.Float32, reflect.Float64:
			want = "a number"
		case reflect.Slice, reflect.Array:
			want = "a list"
		}
		return fmt.Sprintf("%s must be %s", ute.Field, want)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown key " + f
	}
	return "malformed JSON"
}

// env maps PODIUM_* variables to setters.
var env = map[string]func(c *Config, v string) error{
	"PODIUM_ADDR":       func(c *Config, v string) error { c.Addr = v; return nil },
	"PODIUM_DEBUG_ADDR": func(c *Config, v string) error { c.DebugAddr = v; return nil },
	"PODIUM_STAGE_ADDR": func(c *Config, v string) error { c.StageAddr = v; return nil },
	"PODIUM_DATA":       func(c *Config, v string) error { c.DataDir = v; return nil },
	"PODIUM_PUBLIC_URL": func(c *Config, v string) error { c.PublicURL = v; return nil },
	"PODIUM_LOG_LEVEL":  func(c *Config, v string) error { c.LogLevel = v; return nil },
	"PODIUM_TRUSTED_PROXIES": func(c *Config, v string) error {
		c.TrustedProxies = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
		return nil
	},
	"PODIUM_ICE_PUBLIC_IPS": func(c *Config, v string) error {
		c.ICE.PublicIPs = splitList(v)
		return nil
	},
	"PODIUM_ICE_UDP_PORT": func(c *Config, v string) error { return atoi(v, &c.ICE.UDPPort) },
	"PODIUM_ICE_TCP_PORT": func(c *Config, v string) error { return atoi(v, &c.ICE.TCPPort) },
}

func atoi(v string, dst *int) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("not a number: %q", v)
	}
	*dst = n
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// LoadEnv applies PODIUM_* variables from lookup (os.LookupEnv).
func (c *Config) LoadEnv(lookup func(string) (string, bool)) error {
	for name, set := range env {
		if v, ok := lookup(name); ok {
			if err := set(c, v); err != nil {
				return fmt.Errorf("config: %s: %w", name, err)
			}
		}
	}
	return nil
}

// Flags registers flags that override c on fs. The returned function
// applies list-valued flags after parsing.
func (c *Config) Flags(fs *flag.FlagSet) func() {
	fs.StringVar(&c.Addr, "addr", c.Addr, "public HTTP listen address")
	fs.StringVar(&c.DebugAddr, "debug-addr", c.DebugAddr, "metrics and pprof listen address (empty: off)")
	fs.StringVar(&c.StageAddr, "stage-addr", c.StageAddr, "separate listener for hosts and speakers (empty: off)")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory (database, secrets, recordings)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "base URL used in links, e.g. https://podium.example")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.IntVar(&c.MaxConns, "max-conns", c.MaxConns, "connection cap on the public listener (0: 4/5 of the open-file limit)")
	fs.IntVar(&c.ICE.UDPPort, "ice-udp-port", c.ICE.UDPPort, "single UDP port for all WebRTC speakers (0: ephemeral ports)")
	fs.IntVar(&c.ICE.TCPPort, "ice-tcp-port", c.ICE.TCPPort, "TCP port for ICE-TCP fallback (0: off)")
	ips := fs.String("ice-public-ip", strings.Join(c.ICE.PublicIPs, ","), "public IPs of this node behind 1:1 NAT, comma separated")
	return func() { c.ICE.PublicIPs = splitList(*ips) }
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr %q: want host:port, e.g. 127.0.0.1:8080", c.Addr)
	}
	if c.StageAddr != "" {
		if _, _, err := net.SplitHostPort(c.StageAddr); err != nil {
			bad("stage_addr %q: want host:port or empty", c.StageAddr)
		}
	}
	if c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			bad("debug_addr %q: want host:port or empty", c.DebugAddr)
		}
	}
	if c.MaxConns < 0 {
		bad("max_conns %d: want 0 (automatic) or a positive number", c.MaxConns)
	}
	if c.DataDir == "" {
		bad("data_dir is empty")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("public_url %q: want an absolute http(s) URL", c.PublicURL)
		} else if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			bad("public_url %q: want a base URL without user, query or fragment (links are built by appending paths)", c.PublicURL)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level %q: want debug, info, warn or error", c.LogLevel)
	}
	for _, ip := range c.ICE.PublicIPs {
		if net.ParseIP(ip) == nil {
			bad("ice.public_ips: %q is not an IP address", ip)
		}
	}
	for name, p := range map[string]int{"ice.udp_port": c.ICE.UDPPort, "ice.tcp_port": c.ICE.TCPPort, "ice.udp_port_min": c.ICE.UDPPortMin, "ice.udp_port_max": c.ICE.UDPPortMax} {
		if p < 0 || p > 65535 {
			bad("%s %d: want 0..65535", name, p)
		}
	}
	if c.ICE.UDPPortMin > c.ICE.UDPPortMax {
		bad("ice.udp_port_min %d is above ice.udp_port_max %d", c.ICE.UDPPortMin, c.ICE.UDPPortMax)
	}
	if c.Stage.MaxSpeakers < 1 || c.Stage.MaxSpeakers > 50 {
		bad("stage.max_speakers %d: want 1..50", c.Stage.MaxSpeakers)
	}
	if c.HLS.PartMillis < 100 || c.HLS.PartMillis > 1000 || c.HLS.PartMillis%20 != 0 {
		bad("hls.part_ms %d: want a multiple of 20 between 100 and 1000", c.HLS.PartMillis)
	}
	if c.HLS.SegmentParts < 1 || c.HLS.SegmentParts > 30 {
		bad("hls.segment_parts %d: want 1..30", c.HLS.SegmentParts)
	}
	for name, d := range map[string]int{"recordings.delete_unpublished_after_days": c.Recordings.DeleteUnpublishedAfterDays,
		"recordings.delete_published_after_days": c.Recordings.DeletePublishedAfterDays} {
		if d < 0 || d > MaxRetentionDays {
			bad("%s %d: want 0 (keep) .. %d", name, d, MaxRetentionDays)
		}
	}
	ad := c.Admission
	// Upper bounds keep every conversion to a duration or byte count
	// from overflowing.
	if ad.TicketTTLSeconds > 86400 {
		bad("admission.ticket_ttl_seconds %d: want 30..86400", ad.TicketTTLSeconds)
	}
	if ad.TargetLatencyMS > 60000 {
		bad("admission.target_latency_ms %d: want 1..60000", ad.TargetLatencyMS)
	}
	if ad.MaxHeapMB > 1<<24 || ad.MaxGoroutines > 1<<30 || ad.MaxListeners > 1<<30 {
		bad("admission: want max_heap_mb ≤ %d, max_goroutines and max_listeners ≤ %d", 1<<24, 1<<30)
	}
	if ad.AdmitRate > 1e6 || ad.JoinsPerIP > 1e6 || ad.JoinsPerNet > 1e6 {
		bad("admission: want admit_rate, joins_per_ip and joins_per_net ≤ 1000000")
	}
	if c.MaxConns > 1<<24 {
		bad("max_conns %d: want at most %d", c.MaxConns, 1<<24)
	}
	if ad.AdmitRate <= 0 || ad.MaxListeners < 0 || ad.JoinsPerIP <= 0 || ad.JoinsPerNet <= 0 || ad.TicketTTLSeconds < 30 || ad.PowDifficulty < 1 || ad.PowDifficulty > 32 ||
		ad.MaxHeapMB < 16 || ad.MaxGoroutines < 100 || ad.TargetLatencyMS < 1 || ad.MaxCPUPercent < 10 || ad.MaxCPUPercent > 100 {
		bad("admission: want admit_rate > 0, max_listeners ≥ 0, joins_per_ip and joins_per_net > 0, ticket_ttl_seconds ≥ 30, pow_difficulty 1..32, max_heap_mb ≥ 16, max_goroutines ≥ 100, target_latency_ms ≥ 1, max_cpu_percent 10..100")
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			bad("trusted_proxies: %q is not a network like 10.0.0.0/8 or 2001:db8::/32", p)
		}
	}
	if c.HLS.WindowSegments < 3 || c.HLS.WindowSegments > 60 {
		bad("hls.window_segments %d: want 3..60", c.HLS.WindowSegments)
	}
	errs = append(errs, c.Geo.validate()...)
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}
