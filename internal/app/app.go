// Package app builds every podium component by hand from the configuration
// and owns start-up and shutdown order. Nothing else imports everything.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/config"
	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/httpapi"
	"github.com/podium-live/podium/internal/ingest"
	"github.com/podium-live/podium/internal/live"
	"github.com/podium-live/podium/internal/obs"
	"github.com/podium-live/podium/internal/record"
	"github.com/podium-live/podium/internal/space"
	"github.com/podium-live/podium/internal/store"
	"github.com/podium-live/podium/internal/web"
)

// App is one running podium node.
type App struct {
	cfg    config.Config
	log    *slog.Logger
	store  *store.SQLite
	engine *ingest.Engine
	svc    *live.Service
	hls    *hls.Server
	reg    *prometheus.Registry
	adm    *httpapi.Admission
	// listeners is the node's listener estimate, refreshed twice a second
	// for the waiting rooms' headroom check.
	listeners atomic.Int64
	// admittedBefore is the join counter's value about ten seconds ago.
	admittedBefore atomic.Uint64

	ln, stageLn   *capListener
	debugLn       net.Listener
	srv, debugSrv *http.Server
	stageSrv      *http.Server

	operatorToken string
	// OperatorTokenPath is where the operator credential is kept.
	OperatorTokenPath string
}

// New builds a node from cfg and binds its listeners, so Addr is known
// before Run.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("app: data dir: %w", err)
	}
	a := &App{cfg: cfg, log: log}
	ok := false
	defer func() {
		if !ok {
			a.closeAll()
		}
	}()
	var err error
	if a.store, err = store.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "podium.db")); err != nil {
		return nil, err
	}
	key, err := a.store.Secret(ctx, "token-key", auth.NewKey)
	if err != nil {
		return nil, err
	}
	signer, err := auth.NewSigner(key, nil)
	if err != nil {
		return nil, err
	}
	if err := a.loadOperatorToken(signer); err != nil {
		return nil, err
	}
	a.engine, err = ingest.NewEngine(ingest.Config{
		PublicIPs: cfg.ICE.PublicIPs, UDPPort: cfg.ICE.UDPPort,
		UDPPortMin: uint16(cfg.ICE.UDPPortMin), UDPPortMax: uint16(cfg.ICE.UDPPortMax),
		TCPPort: cfg.ICE.TCPPort, Loopback: cfg.ICE.Loopback, AllowPrivateCandidates: cfg.ICE.AllowPrivateCandidates,
	}, log)
	if err != nil {
		return nil, err
	}
	a.hls = hls.NewServer(log)
	hcfg := hls.Config{PartDuration: cfg.HLS.PartDuration(), SegmentParts: cfg.HLS.SegmentParts, WindowSegments: cfg.HLS.WindowSegments}
	a.svc = live.New(live.Config{MaxSpeakers: cfg.Stage.MaxSpeakers, HLS: hcfg}, a.store, signer, a.engine, a.hls, log)
	a.reg = obs.NewRegistry()
	a.registerMetrics()
	recDir := cfg.Recordings.Dir
	if recDir == "" {
		recDir = filepath.Join(cfg.DataDir, "recordings")
	}
	recStore, err := record.NewDirStorage(recDir)
	if err != nil {
		return nil, err
	}
	adm, err := a.buildAdmission(ctx)
	if err != nil {
		return nil, err
	}
	api := httpapi.New(a.svc, a.hls, pages{}, adm, httpapi.Options{
		PublicURL: cfg.PublicURL, AdmitRate: cfg.Admission.AdmitRate,
		Conns: func() (int, int, uint64) { return int(a.ln.open.Load()), int(a.ln.max), a.ln.rejected.Load() },
	}, log)
	replay := record.NewServer(recStore, api.ReplayPolicy, log)
	api.SetReplay(replay)
	replay.SetCompleteFunc(func(id string) bool {
		sp, err := a.svc.Space(context.Background(), id)
		return err == nil && sp.State == space.Ended
	})
	a.svc.SetRecording(recStore, replay)
	var handler http.Handler = api
	if adm.Manager != nil {
		handler = adm.Manager.Middleware(api.Classify, adm.Limiter, api)
	}
	var trusted []netip.Prefix
	for _, p := range cfg.TrustedProxies {
		trusted = append(trusted, netip.MustParsePrefix(p)) // validated with the config
	}
	handler = httpapi.RealIP(trusted, handler)
	a.adm = adm
	a.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Writing an answer may take this long, counted from the end of
		// its request's headers: a blocking reload waits at most three
		// target durations (6 s) before it writes, so 20 s lets every
		// player through and cuts off a slow reader (a connection whose
		// answers have not drained for 20 s is reset, see capConn).
		// Recording downloads extend it for themselves.
		WriteTimeout: 20 * time.Second,
		IdleTimeout:  60 * time.Second,
		// A player's or studio's headers fit in 2 KiB; net/http parses
		// up to this plus 4 KiB before answering 431, and that parse is
		// what an oversized-header flood costs (nginx's default line
		// limit is 8 KiB too).
		MaxHeaderBytes: 8 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("app: listen %s: %w", cfg.Addr, err)
	}
	maxConns := cfg.MaxConns
	if maxConns == 0 {
		maxConns = defaultMaxConns()
	}
	a.ln = newCapListener(ln, maxConns)
	a.srv.ConnState = a.ln.connState
	if cfg.StageAddr != "" {
		sln, err := net.Listen("tcp", cfg.StageAddr)
		if err != nil {
			return nil, fmt.Errorf("app: listen stage %s: %w", cfg.StageAddr, err)
		}
		// A few hundred hosts and speakers at most: a small cap of its own.
		a.stageLn = newCapListener(sln, 1024)
		a.stageSrv = &http.Server{
			Handler: a.srv.Handler, ReadHeaderTimeout: a.srv.ReadHeaderTimeout, ReadTimeout: a.srv.ReadTimeout,
			WriteTimeout: a.srv.WriteTimeout, IdleTimeout: a.srv.IdleTimeout, MaxHeaderBytes: a.srv.MaxHeaderBytes, ErrorLog: a.srv.ErrorLog,
			ConnState: a.stageLn.connState,
		}
	}
	if cfg.DebugAddr != "" {
		if a.debugLn, err = net.Listen("tcp", cfg.DebugAddr); err != nil {
			return nil, fmt.Errorf("app: listen debug %s: %w", cfg.DebugAddr, err)
		}
		a.debugSrv = &http.Server{Handler: obs.DebugHandler(a.reg), ReadHeaderTimeout: 5 * time.Second}
	}
	ok = true
	return a, nil
}

// pages adapts the embedded UI to httpapi.Pages.
type pages struct{}

func (pages) Handler() http.Handler { return web.Handler() }
func (pages) ServePage(w http.ResponseWriter, r *http.Request, name string) {
	web.ServePage(w, r, name)
}

// loadOperatorToken reads the operator credential, creating it on first
// start. It is a signed token, so only this node's key makes it valid.
func (a *App) loadOperatorToken(signer *auth.Signer) error {
	a.OperatorTokenPath = filepath.Join(a.cfg.DataDir, "operator.token")
	b, err := os.ReadFile(a.OperatorTokenPath)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if c, err := signer.Verify(tok); err == nil && c.Role == auth.RoleOperator {
			a.operatorToken = tok
			return nil
		}
		a.log.Warn("operator token file is not valid for this node's key; writing a new one", "path", a.OperatorTokenPath)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("app: read operator token: %w", err)
	}
	tok := signer.Sign(auth.Claims{Role: auth.RoleOperator})
	if err := os.WriteFile(a.OperatorTokenPath, []byte(tok+"\n"), 0o600); err != nil {
		return fmt.Errorf("app: write operator token: %w", err)
	}
	a.operatorToken = tok
	a.log.Info("created operator credential", "path", a.OperatorTokenPath)
	return nil
}

// OperatorToken is the operator credential.
func (a *App) OperatorToken() string { return a.operatorToken }

// Addr is the public listener's address.
func (a *App) Addr() string { return a.ln.Addr().String() }

// StageURL is the URL of the stage listener, "" when there is none.
func (a *App) StageURL() string {
	if a.stageLn == nil {
		return ""
	}
	return "http://" + a.stageLn.Addr().String()
}

// BaseURL is the URL of the public listener.
func (a *App) BaseURL() string {
	if a.cfg.PublicURL != "" {
		return strings.TrimSuffix(a.cfg.PublicURL, "/")
	}
	return "http://" + a.Addr()
}

// Service is the space service, for in-process callers (demo, tests).
func (a *App) Service() *live.Service { return a.svc }

// Run serves until ctx ends, then shuts down in order: stop accepting
// requests, end every stage and mixer, drain HTTP, close storage.
func (a *App) Run(ctx context.Context) error {
	// The running marker is removed by a clean shutdown: finding it at start
	// means the last run crashed (or was killed).
	marker := filepath.Join(a.cfg.DataDir, "running")
	_, statErr := os.Stat(marker)
	crashed := statErr == nil
	if err := os.WriteFile(marker, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		a.closeAll()
		return fmt.Errorf("app: %w", err)
	}
	if err := a.svc.Recover(ctx, crashed); err != nil {
		a.closeAll()
		return fmt.Errorf("app: recover live spaces: %w", err)
	}
	errc := make(chan error, 3)
	hctx, stopHLS := context.WithCancel(context.Background())
	defer stopHLS()
	go a.hls.Run(hctx) // heartbeat: bounds how long a blocked playlist request waits on a stalled stream
	go a.retention(hctx)
	go a.countListeners(hctx)
	if a.adm.Manager != nil {
		go a.adm.Manager.Run(hctx)
	}
	go a.ln.reap(hctx.Done())
	go func() { errc <- a.srv.Serve(a.ln) }()
	if a.stageSrv != nil {
		go a.stageLn.reap(hctx.Done())
		go func() { errc <- a.stageSrv.Serve(a.stageLn) }()
	}
	if a.debugSrv != nil {
		go func() { errc <- a.debugSrv.Serve(a.debugLn) }()
	}
	a.log.Info("podium listening", "addr", a.Addr(), "debug", a.cfg.DebugAddr)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	}
	a.shutdown()
	if rmErr := os.Remove(marker); rmErr != nil && err == nil {
		err = fmt.Errorf("app: %w", rmErr)
	}
	return err
}

// retention applies the recordings retention policy now and then every hour.
func (a *App) retention(ctx context.Context) {
	p := live.Retention{
		Unpublished: time.Duration(a.cfg.Recordings.DeleteUnpublishedAfterDays) * 24 * time.Hour,
		Published:   time.Duration(a.cfg.Recordings.DeletePublishedAfterDays) * 24 * time.Hour,
	}
	for {
		if n, err := a.svc.ApplyRetention(ctx, p); err != nil {
			a.log.Error("retention", "err", err)
		} else if n > 0 {
			a.log.Info("retention deleted recordings", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}

func (a *App) shutdown() {
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.svc.Close() // wakes blocked playlist requests via stream Close
	a.srv.Shutdown(sctx)
	if a.stageSrv != nil {
		a.stageSrv.Shutdown(sctx)
	}
	if a.debugSrv != nil {
		a.debugSrv.Shutdown(sctx)
	}
	a.closeAll()
}

func (a *App) closeAll() {
	if a.svc != nil {
		a.svc.Close()
	}
	if a.engine != nil {
		a.engine.Close()
	}
	if a.store != nil {
		a.store.Close()
	}
	if a.ln != nil {
		a.ln.Close()
	}
	if a.debugLn != nil {
		a.debugLn.Close()
	}
	if a.stageLn != nil {
		a.stageLn.Close()
	}
}
