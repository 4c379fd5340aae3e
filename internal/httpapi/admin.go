package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/podium-live/podium/internal/admission"
	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/obs"
	"github.com/podium-live/podium/internal/space"
)

// adminState caches the operator status document for a second.
type adminState struct {
	mu    sync.Mutex // guards the fields below
	doc   []byte
	at    time.Time
	proc  obs.Process
	proc0 obs.Process
}

type classNumbers map[string]uint64

func perClass(f func(c admission.Class) uint64) classNumbers {
	out := classNumbers{}
	for c := admission.Class(0); c < admission.NumClasses; c++ {
		out[c.String()] = f(c)
	}
	return out
}

func (a *API) adminStatus(w http.ResponseWriter, r *http.Request) {
	if _, err := a.authorize(r, "", auth.RoleOperator); err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeStatus(w, r)
}

func (a *API) writeStatus(w http.ResponseWriter, r *http.Request) {
	st := &a.admin
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.doc == nil || time.Since(st.at) >= time.Second {
		doc, err := a.buildStatus(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		st.doc, st.at = doc, time.Now()
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.Write(st.doc)
}

// buildStatus assembles the operator view; a.admin.mu is held.
func (a *API) buildStatus(r *http.Request) ([]byte, error) {
	st := &a.admin
	prev := st.proc
	st.proc = obs.ReadProcess()
	if prev.At.IsZero() {
		prev = st.proc0
	}
	doc := map[string]any{"time": time.Now().UTC().Format(time.RFC3339)}
	var ms admission.Stats
	if m := a.adm.Manager; m != nil {
		ms = m.Stats()
	}
	doc["attack_mode"] = ms.AttackDeclared || ms.AttackDetected
	doc["attack_auto"] = ms.AttackDetected && !ms.AttackDeclared
	doc["attack_declared"] = ms.AttackDeclared
	doc["shed_level"] = ms.Level
	doc["pressure"] = ms.Pressure
	doc["protections"] = a.adm.Manager != nil
	if a.opts.Conns != nil {
		open, limit, rejected := a.opts.Conns()
		doc["conns_open"], doc["conns_max"], doc["conns_rejected"] = open, limit, rejected
	}
	spaces := []map[string]any{}
	total := 0
	list, err := a.svc.Spaces(r.Context())
	if err != nil {
		return nil, err
	}
	for _, sp := range list {
		if sp.State != space.Live {
			continue
		}
		ls := a.stage.LiveFigures(sp.ID)
		total += ls.Listeners
		queue := a.adm.Lines.Waiting(sp.ID)
		spaces = append(spaces, map[string]any{"id": sp.ID, "title": sp.Title, "listeners": ls.Listeners, "speakers": ls.Speakers, "queue": queue, "admit_rate": a.opts.AdmitRate})
	}
	doc["spaces"], doc["listeners"] = spaces, total
	c := a.adm.Counts()
	doc["admissions"] = map[string]uint64{"admitted": c.Admitted, "queued": c.Queued, "challenged": c.Challenged, "rejected": c.Refused}
	doc["requests"] = perClass(func(k admission.Class) uint64 { return ms.Classes[k].Requests })
	doc["shed"] = perClass(func(k admission.Class) uint64 { return ms.Classes[k].Shed })
	doc["shed_waited"] = perClass(func(k admission.Class) uint64 { return ms.Classes[k].Waited })
	doc["limited"] = perClass(func(k admission.Class) uint64 { return ms.Classes[k].Limited })
	talkers := []map[string]any{}
	if a.adm.Limiter != nil {
		for _, t := range a.adm.Limiter.Top(10) {
			talkers = append(talkers, map[string]any{"prefix": t.Prefix, "requests": t.Requests, "rejected": t.Rejected})
		}
	}
	doc["top_talkers"] = talkers
	doc["process"] = map[string]any{
		"cpu_percent": obs.CPUPercent(prev, st.proc), "rss_bytes": st.proc.RSS,
		"goroutines": st.proc.Goroutines, "open_files": st.proc.OpenFiles,
	}
	return json.Marshal(doc)
}

func (a *API) adminAttack(w http.ResponseWriter, r *http.Request) {
	if _, err := a.authorize(r, "", auth.RoleOperator); err != nil {
		a.fail(w, r, err)
		return
	}
	var req struct {
		On *bool `json:"on"`
	}
	if err := decode(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.On == nil {
		a.fail(w, r, newError(http.StatusBadRequest, "invalid", `body must be {"on": true|false}`))
		return
	}
	if a.adm.Manager == nil {
		a.fail(w, r, newError(http.StatusConflict, "protections_off", "protections are switched off on this node (admission.disabled)"))
		return
	}
	if err := a.adm.Manager.DeclareAttack(*req.On); err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.Warn("attack mode declared by the operator", "on", strconv.FormatBool(*req.On))
	a.admin.mu.Lock()
	a.admin.doc = nil
	a.admin.mu.Unlock()
	a.writeStatus(w, r)
}
