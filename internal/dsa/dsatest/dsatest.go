// Package dsatest is a local Transparency Database implementing the
// documented submission contract (POST /api/v1/statements), for tests.
package dsatest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"

	"github.com/podium-live/podium/internal/dsa"
)

// Server stores statements by puid. Set its fields under Mu to make it misbehave.
type Server struct {
	*httptest.Server
	Token string

	Mu          sync.Mutex
	Stored      map[string]int // puid → times stored (must stay 1)
	Batches     []int          // size of each request
	Throttle    int            // answer this many requests 429 with Retry-After: 1
	Fail        int            // answer this many requests 500
	DropAfter   int            // store this many requests' batches, then drop the connection
	Unauthorize bool           // answer 401
}

// New starts a server accepting token.
func New(token string) *Server {
	s := &Server{Token: token, Stored: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/statements" {
		http.NotFound(w, r)
		return
	}
	if s.Unauthorize || r.Header.Get("Authorization") != "Bearer "+s.Token {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var body struct {
		Statements []dsa.Statement `json:"statements"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Statements) < 1 || len(body.Statements) > 100 {
		w.WriteHeader(http.StatusUnprocessableEntity)
		json.NewEncoder(w).Encode(map[string]any{"message": "statements: 1 to 100"})
		return
	}
	s.Batches = append(s.Batches, len(body.Statements))
	if s.Throttle > 0 {
		s.Throttle--
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if s.Fail > 0 {
		s.Fail--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	errs := map[string]any{}
	for i, st := range body.Statements {
		key := "statement_" + strconv.Itoa(i)
		if err := st.Validate(); err != nil {
			errs[key] = map[string]any{"message": err.Error()}
		} else if s.Stored[st.PUID] > 0 {
			errs[key] = map[string]any{"puid": []string{"The identifier given is not unique within this platform."}, "existing": map[string]string{"puid": st.PUID}}
		}
	}
	if len(errs) > 0 { // all-or-nothing
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		json.NewEncoder(w).Encode(map[string]any{"message": "invalid", "errors": errs})
		return
	}
	for _, st := range body.Statements {
		s.Stored[st.PUID]++
	}
	if s.DropAfter > 0 {
		s.DropAfter--
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
	}
	w.WriteHeader(http.StatusCreated)
	w.Write([]byte(`{"statements":[]}`))
}
