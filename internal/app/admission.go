package app

import (
	"context"
	"strconv"
	"time"

	"github.com/podium-live/podium/internal/admission"
	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/httpapi"
)

// attackSetting is the store setting that keeps the operator's attack
// declaration across restarts.
const attackSetting = "attack_declared"

// buildAdmission wires the admission layer from the configuration; the
// policy is admission's. Its keys live in the store, so every node sharing
// the store accepts the tickets, queue tokens and challenges of the others.
// listeners is the node's ticket-based listener count, also read by live.
func (a *App) buildAdmission(ctx context.Context, creds httpapi.Verifier, listeners *admission.Listeners) (*httpapi.Admission, error) {
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
	ad := &httpapi.Admission{Credentials: creds, Listeners: listeners}
	if ad.Tickets, err = admission.NewTickets(tk, time.Duration(cfg.TicketTTLSeconds)*time.Second, nil); err != nil {
		return nil, err
	}
	if ad.Challenger, err = admission.NewChallenger(pk, cfg.PowDifficulty, 2*time.Minute, nil); err != nil {
		return nil, err
	}
	if !cfg.Disabled {
		declared, _, err := a.store.Setting(ctx, attackSetting)
		if err != nil {
			return nil, err
		}
		ad.Manager = admission.NewManager(admission.ManagerConfig{
			MaxHeap:        uint64(cfg.MaxHeapMB) << 20,
			MaxGoroutines:  cfg.MaxGoroutines,
			MaxFDs:         admission.FDLimit(a.maxConns()),
			TargetLatency:  time.Duration(cfg.TargetLatencyMS) * time.Millisecond,
			MaxCPU:         float64(cfg.MaxCPUPercent) / 100,
			AttackJoinRate: 20 * cfg.AdmitRate,
			AttackDeclared: declared == "true",
			SaveAttack: func(on bool) error {
				return a.store.SetSetting(context.Background(), attackSetting, strconv.FormatBool(on))
			},
			LatencyExempt: httpapi.LatencyExempt,
			JoinsWait:     true,
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
	rate := cfg.AdmitRate
	if cfg.Disabled {
		rate = 1e9 // no waiting line: everyone is let in at once
	}
	lcfg := admission.LineConfig{AdmitRate: rate, Headroom: admission.Headroom(ad.Manager, listeners, cfg.MaxListeners)}
	if m := ad.Manager; m != nil {
		lcfg.ProofNeeded = m.Attack
	}
	if ad.Lines, err = admission.NewLines(qk, lcfg, nil); err != nil {
		return nil, err
	}
	return ad, nil
}

// maxConns is the public listener's connection cap.
func (a *App) maxConns() int {
	if a.cfg.MaxConns > 0 {
		return a.cfg.MaxConns
	}
	return admission.DefaultMaxConns()
}
