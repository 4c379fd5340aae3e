package app

import (
	"context"
	"time"

	"github.com/podium-live/podium/internal/admission"
	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/httpapi"
)

// buildAdmission makes the admission layer from the configuration. Its
// keys live in the store, so every node sharing the store accepts the
// tickets, queue tokens and challenges of the others.
func (a *App) buildAdmission(ctx context.Context) (*httpapi.Admission, error) {
	cfg := a.cfg.Admission
	key := func(name string) ([]byte, error) { return a.store.Secret(ctx, name, auth.NewKey) }
	tk, err := key("ticket-key")
	if err != nil {
		return nil, err
	}
	qk, err := key("queue-key")
	if err != nil {
		return nil, err
	}
	pk, err := key("pow-key")
	if err != nil {
		return nil, err
	}
	ad := &httpapi.Admission{}
	if ad.Tickets, err = admission.NewTickets(tk, time.Duration(cfg.TicketTTLSeconds)*time.Second, nil); err != nil {
		return nil, err
	}
	if ad.Challenger, err = admission.NewChallenger(pk, cfg.PowDifficulty, 2*time.Minute, nil); err != nil {
		return nil, err
	}
	if !cfg.Disabled {
		ad.Manager = admission.NewManager(admission.ManagerConfig{
			MaxHeap:        uint64(cfg.MaxHeapMB) << 20,
			MaxGoroutines:  cfg.MaxGoroutines,
			MaxFDs:         int(a.fdLimit()),
			TargetLatency:  time.Duration(cfg.TargetLatencyMS) * time.Millisecond,
			MaxCPU:         float64(cfg.MaxCPUPercent) / 100,
			AttackJoinRate: 20 * cfg.AdmitRate,
			LatencyExempt:  httpapi.LatencyExempt,
			JoinsWait:      true,
		}, &admission.ProcessSignals{}, nil)
		lc := admission.DefaultLimiterConfig()
		lc.Classes[admission.ClassJoin] = admission.ClassLimits{
			PerIP:  admission.Rate{PerSecond: cfg.JoinsPerIP, Burst: 5 * cfg.JoinsPerIP},
			PerNet: admission.Rate{PerSecond: cfg.JoinsPerNet, Burst: 5 * cfg.JoinsPerNet},
		}
		if ad.Limiter, err = admission.NewLimiter(lc); err != nil {
			return nil, err
		}
	}
	headroom := func() bool {
		if ad.Manager != nil && !ad.Manager.Headroom() {
			return false
		}
		if cfg.MaxListeners == 0 {
			return true
		}
		// The listener estimate lags by a few seconds (it counts playlist
		// requests), so admissions of the last ten seconds are added: a
		// storm cannot overshoot the limit before the estimate catches up.
		recent := int64(ad.Counts().Admitted - a.admittedBefore.Load())
		return a.listeners.Load()+recent < int64(cfg.MaxListeners)
	}
	rate := cfg.AdmitRate
	if cfg.Disabled {
		rate = 1e9 // no waiting room: everyone is let in at once
	}
	if ad.Rooms, err = admission.NewRooms(qk, admission.RoomConfig{AdmitRate: rate, Headroom: headroom}); err != nil {
		return nil, err
	}
	return ad, nil
}

// fdLimit is the open-file limit the overload manager watches: the
// connection cap plus what WebRTC, storage and the debug listener need.
func (a *App) fdLimit() int64 {
	n := a.cfg.MaxConns
	if n == 0 {
		n = defaultMaxConns()
	}
	return int64(n) * 9 / 8
}

// countListeners refreshes the node's listener estimate twice a second,
// and remembers how many joins had been admitted ten seconds ago.
func (a *App) countListeners(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	var hist [20]uint64 // admitted counts, one per tick, oldest at i
	for i := 0; ; i = (i + 1) % len(hist) {
		a.listeners.Store(int64(a.runtime.TotalListeners()))
		a.admittedBefore.Store(hist[i])
		hist[i] = a.adm.Counts().Admitted
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
