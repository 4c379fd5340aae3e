package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
