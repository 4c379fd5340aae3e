package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestClassifyUnknownIsGeneric(t *testing.T) {
	st, code, msg := classify(errors.New("db exploded at /var/lib/secret"))
	if st != http.StatusInternalServerError || code != "internal" || msg != "internal error" {
		t.Fatalf("classify = %d %s %q; want a generic 500 that hides the cause", st, code, msg)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"title":"x","description":"y","scheduled_start":"2026-12-01T18:00:00Z"}`))
	f.Add([]byte(`{"title":`))
	f.Add([]byte(`{"muted":true}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"title":5}`))
	f.Add([]byte(`{"scheduled_start":"soon"}`))
	f.Add([]byte(`{"scheduled_start":5}`))
	f.Add([]byte(`{"bogus":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var req struct {
			Title          string    `json:"title"`
			Description    string    `json:"description"`
			ScheduledStart time.Time `json:"scheduled_start"`
		}
		err := decodeJSON(b, &req)
		if err == nil {
			return
		}
		st, _, msg := classify(err)
		if st != http.StatusBadRequest {
			t.Fatalf("decode error maps to %d, want 400: %v", st, err)
		}
		if leaksGo(msg) {
			t.Fatalf("decode error for %q shows Go internals: %q", b, msg)
		}
	})
}

func TestPreflightForMedia(t *testing.T) {
	a := &API{mux: http.NewServeMux()}
	for _, p := range []string{"/hls/sp_aaaaaaaaaaaa/index.m3u8", "/replay/sp_aaaaaaaaaaaa/index.m3u8", "/api/spaces"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodOptions, p, nil)
		req.Header.Set("Access-Control-Request-Headers", "x-podium-ticket")
		a.ServeHTTP(rec, req)
		h := rec.Result().Header
		if rec.Code != http.StatusNoContent || !strings.Contains(h.Get("Access-Control-Allow-Headers"), TicketHeader) || h.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("OPTIONS %s: %d %v; want 204 allowing %s from anywhere", p, rec.Code, h, TicketHeader)
		}
	}
}

// leaksGo reports whether a message shown to users names Go types or the
// decoder's internals.
func leaksGo(msg string) bool {
	for _, w := range []string{"Go ", "struct", "int64", "json:", "unmarshal", "UnmarshalJSON", "2006-01-02"} {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// TestDecodeJSONPlainMessages: every kind of bad body gets a 400 whose
// message names the field and the problem without Go types.
func TestDecodeJSONPlainMessages(t *testing.T) {
	type pow struct {
		Nonce string `json:"nonce"`
	}
	type body struct {
		Name           string    `json:"name"`
		TTLSeconds     int64     `json:"ttl_seconds"`
		Muted          *bool     `json:"muted"`
		ScheduledStart time.Time `json:"scheduled_start"`
		PoW            *pow      `json:"pow"`
	}
	for _, c := range []struct{ in, want string }{
		{`{"ttl_seconds":1e30}`, "ttl_seconds must be a whole number within range"},
		{`{"ttl_seconds":99999999999999999999}`, "ttl_seconds must be a whole number within range"},
		{`{"ttl_seconds":"60"}`, "ttl_seconds must be a whole number"},
		{`{"name":5}`, "name must be text"},
		{`{"muted":"yes"}`, "muted must be true or false"},
		{`{"pow":{"nonce":3}}`, "pow.nonce must be text"},
		{`{"pow":[]}`, "pow must be an object"},
		{`{"scheduled_start":"tomorrow"}`, "scheduled_start must be a time"},
		{`{"scheduled_start":5}`, "scheduled_start must be a time"},
		{`{"bogus":1}`, `unknown field "bogus"`},
		{`[]`, "the body must be a JSON object"},
		{``, "the body is empty"},
		{`{"name":`, "ends too early"},
		{`{"name" 1}`, "malformed JSON body at byte"},
		{`{} {}`, "trailing data"},
	} {
		var v body
		err := decodeJSON([]byte(c.in), &v)
		st, code, msg := classify(err)
		if st != http.StatusBadRequest || code != "bad_json" || !strings.Contains(msg, c.want) || leaksGo(msg) {
			t.Errorf("decode %s: %d %s %q; want 400 bad_json saying %q in plain words", c.in, st, code, msg, c.want)
		}
	}
}
