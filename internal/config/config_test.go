package config

import (
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	c := Default()
	if err := c.LoadFile("../../deploy/podium.example.json"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("example config invalid: %v", err)
	}
	if c.PublicURL == "" || len(c.ICE.PublicIPs) == 0 {
		t.Fatalf("example config did not set public_url and ice.public_ips: %+v", c)
	}
}

func TestUnknownKeyRejected(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(p, []byte(`{"adr": "x"}`), 0o600)
	c := Default()
	err := c.LoadFile(p)
	if err == nil || !strings.Contains(err.Error(), "adr") {
		t.Fatalf("LoadFile error = %v, want unknown field adr", err)
	}
}

func TestPrecedence(t *testing.T) {
	c := Default()
	env := map[string]string{"PODIUM_ADDR": "127.0.0.1:1", "PODIUM_DATA": "/env", "PODIUM_ICE_PUBLIC_IPS": "192.0.2.1, 192.0.2.2",
		"PODIUM_TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::/32"}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	apply := c.Flags(fs)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:2"}); err != nil {
		t.Fatal(err)
	}
	apply()
	if c.Addr != "127.0.0.1:2" || c.DataDir != "/env" || len(c.ICE.PublicIPs) != 2 {
		t.Fatalf("got addr %q data %q ips %v; want flag addr, env data, 2 env ips", c.Addr, c.DataDir, c.ICE.PublicIPs)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1] != "2001:db8::/32" || c.Validate() != nil {
		t.Fatalf("trusted proxies from the environment: %q (%v)", c.TrustedProxies, c.Validate())
	}
	bad := func(k string) (string, bool) {
		if k == "PODIUM_ICE_UDP_PORT" {
			return "x", true
		}
		return "", false
	}
	if err := c.LoadEnv(bad); err == nil {
		t.Fatal("bad PODIUM_ICE_UDP_PORT accepted")
	}
}

func TestValidateReportsAll(t *testing.T) {
	c := Default()
	c.Addr = "nope"
	c.HLS.PartMillis = 33
	c.ICE.PublicIPs = []string{"not-ip"}
	c.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.1"} // a bare address is not a network
	err := c.Validate()
	for _, want := range []string{"addr", "part_ms", "not-ip", `"10.0.0.1"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want mention of %q", err, want)
		}
	}
}

// TestLoadErrorsInWords: a config file with a value of the wrong type, an
// unknown key, broken JSON or trailing text is refused naming the key,
// without Go types.
func TestLoadErrorsInWords(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"ice":{"udp_port":"x"}}`, "ice.udp_port must be a whole number"},
		{`{"ice":{"loopback":1}}`, "ice.loopback must be true or false"},
		{`{"trusted_proxies":"10.0.0.0/8"}`, "trusted_proxies must be a list"},
		{`{"addr":5}`, "addr must be text"},
		{`{"admission":{"admit_rate":"fast"}}`, "admission.admit_rate must be a number"},
		{`{"ice":{"udp_port":1e30}}`, "ice.udp_port must be a whole number within range"},
		{`{"adr":1}`, `unknown key "adr"`},
		{`{"addr":`, "ends too early"},
		{`{} {}`, "text after the JSON object"},
		{``, "empty"},
		{`[]`, "want a JSON object"},
	} {
		cfg := Default()
		err := cfg.load([]byte(c.in), "c.json")
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "Go ") || strings.Contains(err.Error(), "unmarshal") {
			t.Errorf("load %s: %v, want an error saying %q in plain words", c.in, err, c.want)
		}
	}
}

// TestValidateBoundsConversions: values whose conversion to a duration
// or count would overflow are refused naming the key.
func TestValidateBoundsConversions(t *testing.T) {
	for _, c := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.Recordings.DeletePublishedAfterDays = 106752 }, "recordings.delete_published_after_days"},
		{func(c *Config) { c.Recordings.DeleteUnpublishedAfterDays = -1 }, "recordings.delete_unpublished_after_days"},
		{func(c *Config) { c.Admission.TicketTTLSeconds = 9223372037 }, "admission.ticket_ttl_seconds"},
		{func(c *Config) { c.Admission.TargetLatencyMS = 9223372036855 }, "admission.target_latency_ms"},
		{func(c *Config) { c.PublicURL = "https://podium.example/?x=1" }, "public_url"},
		{func(c *Config) { c.PublicURL = "https://u:p@podium.example" }, "public_url"},
	} {
		cfg := Default()
		c.set(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate = %v, want an error naming %s", err, c.want)
		}
	}
}

// FuzzLoad: any config file either fails to load or validate with a
// message in words, or gives a configuration whose every conversion the
// node makes (durations, ports, byte counts) is in range.
func FuzzLoad(f *testing.F) {
	b, err := os.ReadFile("../../deploy/podium.example.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, s := range []string{`{}`, `{"ice":{"udp_port":70000}}`, `{"recordings":{"delete_published_after_days":106752}}`,
		`{"admission":{"ticket_ttl_seconds":9223372037}}`, `{"hls":{"part_ms":0}}`, `{"public_url":"http://x/#y"}`, `{"adr":1}`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := Default()
		if err := c.load(b, "fuzz.json"); err != nil {
			if strings.Contains(err.Error(), "Go struct") || strings.Contains(err.Error(), "unmarshal") {
				t.Fatalf("load error shows Go internals: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			return
		}
		day := 24 * time.Hour
		if d := time.Duration(c.Recordings.DeletePublishedAfterDays) * day; d < 0 {
			t.Fatalf("retention %d days overflows", c.Recordings.DeletePublishedAfterDays)
		}
		if d := time.Duration(c.Recordings.DeleteUnpublishedAfterDays) * day; d < 0 {
			t.Fatalf("retention %d days overflows", c.Recordings.DeleteUnpublishedAfterDays)
		}
		if d := time.Duration(c.Admission.TicketTTLSeconds) * time.Second; d < 30*time.Second {
			t.Fatalf("ticket ttl %d s gives %v", c.Admission.TicketTTLSeconds, d)
		}
		if d := time.Duration(c.Admission.TargetLatencyMS) * time.Millisecond; d <= 0 {
			t.Fatalf("target latency %d ms gives %v", c.Admission.TargetLatencyMS, d)
		}
		if c.HLS.PartDuration() <= 0 || c.ICE.UDPPortMin > 65535 || c.ICE.UDPPortMax > 65535 || c.Stage.MaxSpeakers < 1 {
			t.Fatalf("validated config out of range: %+v", c)
		}
		if c.PublicURL != "" {
			if u, err := url.Parse(c.PublicURL); err != nil || u.RawQuery != "" || u.Fragment != "" {
				t.Fatalf("public_url %q accepted", c.PublicURL)
			}
		}
	})
}

func TestGeoConfig(t *testing.T) {
	c := Default()
	c.Geo = Geo{CountryHeader: "CF-IPCountry", UnknownTerritory: "permissive"}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid geo refused: %v", err)
	}
	c.Geo = Geo{CountryHeader: "CF IPCountry:", Database: "/nonexistent/country.mmdb", UnknownTerritory: "lenient"}
	err := c.Validate()
	for _, want := range []string{"geo.country_header", "geo.database", "geo.unknown_territory"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to name %s", err, want)
		}
	}
}
