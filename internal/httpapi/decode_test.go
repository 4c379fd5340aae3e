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
		if st, _, _ := classify(err); st != http.StatusBadRequest {
			t.Fatalf("decode error maps to %d, want 400: %v", st, err)
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
