package app

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRefusalsNameTheField: a real node answers each of these bad inputs
// with a JSON 400 that names the field in plain words (no Go types), and
// keeps nothing of it.
func TestRefusalsNameTheField(t *testing.T) {
	n := startNode(t)
	sp := n.createSpace(t)
	id, host, op := sp.Space.ID, sp.HostToken, n.OperatorToken()
	for _, c := range []struct {
		name, method, path, token, body, says string
	}{
		{"title with NUL", "POST", "/api/spaces", op, `{"title":"a\u0000b"}`, "title contains the control character U+0000"},
		{"title with BEL", "POST", "/api/spaces", op, `{"title":"ring\u0007"}`, "title contains the control character U+0007"},
		{"title with bidi override", "POST", "/api/spaces", op, `{"title":"\u202egnp.exe"}`, "title contains the bidirectional formatting character U+202E"},
		{"description with NUL", "POST", "/api/spaces", op, `{"title":"ok","description":"x\u0000"}`, "description contains the control character"},
		{"invite name with bidi isolate", "POST", "/api/spaces/" + id + "/invites", host, `{"name":"\u2067x"}`, "name contains the bidirectional formatting character U+2067"},
		{"huge ttl", "POST", "/api/spaces/" + id + "/invites", host, `{"name":"x","ttl_seconds":9223372037}`, "ttl_seconds must be between 0 and 31536000"},
		{"largest ttl", "POST", "/api/spaces/" + id + "/invites", host, `{"name":"x","ttl_seconds":9223372036854775807}`, "ttl_seconds must be between 0 and 31536000"},
		{"ttl beyond int64", "POST", "/api/spaces/" + id + "/invites", host, `{"name":"x","ttl_seconds":1e30}`, "ttl_seconds must be a whole number within range"},
		{"ttl as text", "POST", "/api/spaces/" + id + "/invites", host, `{"name":"x","ttl_seconds":"60"}`, "ttl_seconds must be a whole number"},
		{"title as number", "POST", "/api/spaces", op, `{"title":5}`, "title must be text"},
		{"muted as text", "POST", "/api/spaces/" + id + "/speakers/spk_aaaaaaaaaaaa/mute", host, `{"muted":"yes"}`, "muted must be true or false"},
		{"body is a list", "POST", "/api/spaces", op, `[]`, "the body must be a JSON object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, body, h := n.raw(t, c.method, c.path, c.token, "application/json", []byte(c.body))
			var je struct{ Error, Code string }
			if st != http.StatusBadRequest || h.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &je) != nil {
				t.Fatalf("%d %s %q, want a JSON 400", st, h.Get("Content-Type"), body)
			}
			if !strings.Contains(je.Error, c.says) {
				t.Errorf("error %q, want it to say %q", je.Error, c.says)
			}
			for _, leak := range []string{"Go ", "struct", "int64", "json:", "unmarshal"} {
				if strings.Contains(je.Error, leak) {
					t.Errorf("error %q shows Go internals (%q)", je.Error, leak)
				}
			}
		})
	}
	var list struct {
		Spaces []any `json:"spaces"`
	}
	n.api(t, "GET", "/api/spaces", "", nil, &list)
	if len(list.Spaces) != 1 {
		t.Errorf("refused creates left %d spaces, want the one", len(list.Spaces))
	}
	var invs struct {
		Invites []any `json:"invites"`
	}
	n.api(t, "GET", "/api/spaces/"+id+"/invites", host, nil, &invs)
	if len(invs.Invites) != 0 {
		t.Errorf("refused invites left %d", len(invs.Invites))
	}
}

// TestLinksNotFromHostHeader: with public_url unset, a client's Host
// header does not choose where invite, host and listener links point.
func TestLinksNotFromHostHeader(t *testing.T) {
	n := startNode(t)
	do := func(method, path, token, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, n.base+path, strings.NewReader(body))
		req.Host = "evil.example"
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
		if strings.Contains(string(b), "evil.example") {
			t.Errorf("%s %s with Host: evil.example: links on evil.example: %s", method, path, b)
		}
		var out map[string]any
		json.Unmarshal(b, &out)
		return out
	}
	c := do("POST", "/api/spaces", n.OperatorToken(), `{"title":"x"}`)
	sp := c["space"].(map[string]any)
	if hu, _ := c["host_url"].(string); !strings.HasPrefix(hu, n.base+"/studio/") {
		t.Errorf("host_url %q, want it on %s", hu, n.base)
	}
	inv := do("POST", "/api/spaces/"+sp["id"].(string)+"/invites", c["host_token"].(string), `{"name":"x"}`)
	if u, _ := inv["url"].(string); !strings.HasPrefix(u, n.base+"/studio/") {
		t.Errorf("invite url %q, want it on %s", u, n.base)
	}
}
