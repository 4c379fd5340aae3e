// Package app builds every podium component by hand from the configuration
// and owns start-up and shutdown order. Nothing else imports everything.
package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/podium-live/podium/internal/policy"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podium-live/podium/internal/admission"
	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/config"
	"github.com/podium-live/podium/internal/dsa"
	"github.com/podium-live/podium/internal/geo"
	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/httpapi"
	"github.com/podium-live/podium/internal/ingest"
	"github.com/podium-live/podium/internal/live"
	"github.com/podium-live/podium/internal/moderation"
	"github.com/podium-live/podium/internal/obs"
	"github.com/podium-live/podium/internal/record"
	"github.com/podium-live/podium/internal/space"
	"github.com/podium-live/podium/internal/store"
	"github.com/podium-live/podium/internal/web"
)

// App is one running podium node.
type App struct {
	cfg config.Config
	// policies owns the moderation restrictions in force (policy.Source).
	policies *moderation.Policies
	log      *slog.Logger
	store    *store.SQLite
	engine   *ingest.Engine
	geo      *geo.Resolver // a listener's territory at join
	// dsa submits statements of reasons; nil when disabled (see dsa.go).
	dsa *dsa.Submitter
	// The three parts of live: who may do what, the spaces, the spaces
	// open here (venues) and the recordings.
	access  *live.Access
	spaces  *live.Spaces
	runtime *live.Runtime
	library *live.Library
	hls     *hls.Server
	reg     *prometheus.Registry
	adm     *httpapi.Admission

	ln, stageLn   *admission.ConnCap
	debugLn       net.Listener
	srv, debugSrv *http.Server
	stageSrv      *http.Server

	creds *credentials
	// reqCtx is the base context of every request; cancelRequests ends it
	// at shutdown.
	reqCtx         context.Context
	cancelRequests context.CancelFunc
	closeOnce      sync.Once

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
	if err := checkDataDir(cfg.DataDir, log); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log}
	a.reqCtx, a.cancelRequests = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	var err error
	if a.store, err = store.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "podium.db")); err != nil {
		return nil, err
	}
	signer, err := auth.Open(ctx, a.store, nil)
	if err != nil {
		return nil, err
	}
	a.OperatorTokenPath = filepath.Join(cfg.DataDir, "operator.token")
	a.creds = &credentials{signer: signer, path: a.OperatorTokenPath, log: log}
	if err := a.creds.loadOperator(ctx); err != nil {
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
	listeners := admission.NewListeners(nil)
	recDir := cfg.Recordings.Dir
	if recDir == "" {
		recDir = filepath.Join(cfg.DataDir, "recordings")
	}
	recStore, err := record.NewDirStorage(recDir)
	if err != nil {
		return nil, err
	}
	// In dependency order: who may do what, the replay server (asking
	// it), the runtime; then what reports events to them: the spaces and
	// the recordings library. Events reach the runtime first (it closes a
	// space's tape), then the replay server's caches.
	a.access = live.NewAccess(a.store, signer)
	// What moderation has put in force per space, and the views it
	// makes: read by the replay server, the live streams and join.
	unknown, err := policy.ParseUnknownRule(cfg.Geo.UnknownTerritory)
	if err != nil {
		return nil, err
	}
	if a.policies, err = moderation.NewPolicies(ctx, a.store, unknown, nil); err != nil {
		return nil, err
	}
	var policies policy.Source = a.policies
	if testPolicies != nil {
		policies = testPolicies
	}
	modLog := moderation.NewLog(a.store, nil)
	if a.dsa, err = newSubmitter(cfg.TransparencyDB, a.store, a, modLog); err != nil {
		return nil, err
	}
	st := a.store
	if a.geo, err = buildGeo(cfg); err != nil {
		return nil, err
	}
	replay := record.NewServer(recStore, httpapi.ReplayPolicy(a.access, a.creds), record.Views{
		Policies: policies, Territory: a.geo.Territory, Original: httpapi.ReplayOriginal(a.access, a.creds),
	}, func(id string) bool {
		sp, err := st.Space(context.Background(), id)
		return err == nil && sp.State == space.Ended
	}, log)
	hcfg := hls.Config{PartDuration: cfg.HLS.PartDuration(), SegmentParts: cfg.HLS.SegmentParts, WindowSegments: cfg.HLS.WindowSegments}
	a.runtime = live.NewRuntime(live.RuntimeConfig{MaxSpeakers: cfg.Stage.MaxSpeakers, HLS: hcfg, Listeners: listeners, Policies: policies}, a.engine, a.hls, recStore, log)
	adm, err := a.buildAdmission(ctx, signer, listeners)
	if err != nil {
		return nil, err
	}
	events := live.Fanout{a.runtime, a.access, replayEvents{replay}, lineEvents{lines: adm.Lines}}
	a.spaces = live.NewSpaces(live.SpacesConfig{}, a.store, signer, events, log)
	a.library = live.NewLibrary(a.store, recStore, replay, a.runtime, events, log)
	a.reg = obs.NewRegistry()
	a.registerMetrics()
	api := httpapi.New(httpapi.Services{Access: a.access, Spaces: a.spaces, Stage: a.runtime, Recordings: a.library, Replay: replay,
		Policies: policies, Territories: a.geo},
		a.hls, pages{}, adm, httpapi.Options{
			PublicURL: cfg.PublicURL, AdmitRate: cfg.Admission.AdmitRate, Credentials: a.creds,
			Moderators: moderation.NewModerators(a.store, signer, nil),
			Flaggers:   moderation.NewFlaggers(a.store, signer, nil),
			Notices:    moderation.NewNotices(a.store, modLog, nil),
			Cases:      moderation.NewCases(a.store, modLog, nil),
			Decisions:  moderation.NewDecisions(a.store, a.store, a.policies, modLog, nil),
			Conns:      func() (int, int, uint64) { return a.ln.Open(), a.ln.Max(), a.ln.Rejected() },
		}, log)
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
	a.ln = admission.NewConnCap(ln, a.maxConns())
	a.srv.ConnState = a.ln.ConnState
	if cfg.StageAddr != "" {
		sln, err := net.Listen("tcp", cfg.StageAddr)
		if err != nil {
			return nil, fmt.Errorf("app: listen stage %s: %w", cfg.StageAddr, err)
		}
		// A few hundred hosts and speakers at most: a small cap of its own.
		a.stageLn = admission.NewConnCap(sln, 1024)
		a.stageSrv = &http.Server{
			Handler: a.srv.Handler, ReadHeaderTimeout: a.srv.ReadHeaderTimeout, ReadTimeout: a.srv.ReadTimeout,
			WriteTimeout: a.srv.WriteTimeout, IdleTimeout: a.srv.IdleTimeout, MaxHeaderBytes: a.srv.MaxHeaderBytes, ErrorLog: a.srv.ErrorLog,
			ConnState: a.stageLn.ConnState,
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

// OperatorToken is the operator credential (re-issued by a key rotation).
func (a *App) OperatorToken() string { return a.creds.Operator() }

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

// Runtime is the node's live runtime, for in-process callers (tests).
func (a *App) Runtime() *live.Runtime { return a.runtime }

// Library is the node's recordings library, for in-process callers (tests).
func (a *App) Library() *live.Library { return a.library }

// replayEvents keeps the replay server's caches true: a recording changes
// when its space changes state and when its publication changes.
type replayEvents struct{ s *record.Server }

func (e replayEvents) StateChanged(sp space.Space) {
	e.s.Forget(sp.ID)
	if sp.State == space.Ended {
		e.s.SetComplete(sp.ID, true)
	}
}

func (e replayEvents) StageChanged(string, live.StageChange) {}

func (e replayEvents) PublicationChanged(id string) { e.s.Forget(id) }

// lineEvents drops a space's waiting line when the space ends: nobody
// waits to join an ended space.
type lineEvents struct {
	live.NoEvents
	lines *admission.Lines
}

func (e lineEvents) StateChanged(sp space.Space) {
	if sp.State == space.Ended {
		e.lines.Remove(sp.ID)
	}
}

// Run serves until ctx ends, then shuts down in order (see shutdown). It
// returns only when every goroutine it started has ended, with the first
// error any of them (or the shutdown) met.
func (a *App) Run(ctx context.Context) error {
	// The running marker is removed by a clean shutdown: finding it at start
	// means the last run crashed (or was killed).
	marker := filepath.Join(a.cfg.DataDir, "running")
	_, statErr := os.Stat(marker)
	crashed := statErr == nil
	if err := os.WriteFile(marker, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		a.Close()
		return fmt.Errorf("app: %w", err)
	}
	if err := a.library.Reconcile(ctx); err != nil {
		a.Close()
		return fmt.Errorf("app: reconcile deleted recordings: %w", err)
	}
	if err := a.spaces.Recover(ctx, crashed); err != nil {
		a.Close()
		return fmt.Errorf("app: recover live spaces: %w", err)
	}
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		if err == nil || errors.Is(err, http.ErrServerClosed) {
			return
		}
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	// Background work ends when bgCtx does, after HTTP has drained.
	bgCtx, stopBackground := context.WithCancel(context.Background())
	defer stopBackground()
	background := func(f func(context.Context)) { wg.Go(func() { f(bgCtx) }) }
	background(func(ctx context.Context) { fail(a.hls.Run(ctx)) }) // heartbeat: bounds how long a blocked playlist request waits on a stalled stream
	background(a.retention)
	background(func(ctx context.Context) { fail(a.policies.Run(ctx)) }) // rebuilds the policies when a restriction lapses
	if a.dsa != nil {
		background(a.dsa.Run)
	}
	if a.adm.Manager != nil {
		background(func(ctx context.Context) { a.adm.Manager.Run(ctx) })
	}
	background(func(ctx context.Context) { fail(a.ln.Reap(ctx)) })
	// servers stops Run early when a server fails.
	served, serverFailed := context.WithCancel(ctx)
	defer serverFailed()
	serve := func(srv *http.Server, ln net.Listener) {
		srv.BaseContext = a.requestContext
		wg.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fail(fmt.Errorf("app: serve %s: %w", ln.Addr(), err))
				serverFailed()
			}
		})
	}
	serve(a.srv, a.ln)
	if a.stageSrv != nil {
		background(func(ctx context.Context) { fail(a.stageLn.Reap(ctx)) })
		serve(a.stageSrv, a.stageLn)
	}
	if a.debugSrv != nil {
		serve(a.debugSrv, a.debugLn)
	}
	a.log.Info("podium listening", "addr", a.Addr(), "debug", a.cfg.DebugAddr)
	<-served.Done()
	fail(a.shutdown(stopBackground, &wg))
	if err := os.Remove(marker); err != nil {
		fail(fmt.Errorf("app: %w", err))
	}
	return firstErr
}

// retention applies the recordings retention policy now and then every hour.
func (a *App) retention(ctx context.Context) {
	p := live.Retention{
		Unpublished: time.Duration(a.cfg.Recordings.DeleteUnpublishedAfterDays) * 24 * time.Hour,
		Published:   time.Duration(a.cfg.Recordings.DeletePublishedAfterDays) * 24 * time.Hour,
	}
	for {
		if n, err := a.library.ApplyRetention(ctx, p); err != nil {
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

// shutdownGrace is how long requests in flight at shutdown may finish
// before their contexts are canceled: that releases blocking playlist
// reloads (which wait up to 6 s) and other long waits promptly.
const shutdownGrace = 500 * time.Millisecond

// requestContext is the base of every request's context: canceled
// shutdownGrace after shutdown begins.
func (a *App) requestContext(net.Listener) context.Context { return a.reqCtx }

// shutdown stops the node in order: drain HTTP (stop accepting, let
// requests finish, cancel the stragglers' contexts after shutdownGrace),
// then close every venue (the spaces stay live in the store and resume on
// the next start), then stop the background goroutines and wait for all
// of Run's goroutines, then close the engine, the store and the
// listeners. Safe to call once per Run; Close is safe any number of times.
func (a *App) shutdown(stopBackground context.CancelFunc, wg *sync.WaitGroup) error {
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	release := time.AfterFunc(shutdownGrace, a.cancelRequests)
	defer release.Stop()
	var errs []error
	var drain sync.WaitGroup
	var errMu sync.Mutex
	for _, srv := range []*http.Server{a.srv, a.stageSrv, a.debugSrv} {
		if srv == nil {
			continue
		}
		drain.Go(func() {
			if err := srv.Shutdown(sctx); err != nil {
				errMu.Lock()
				errs = append(errs, fmt.Errorf("app: drain http: %w", err))
				errMu.Unlock()
			}
		})
	}
	drain.Wait()
	a.cancelRequests()
	a.runtime.Close()
	stopBackground()
	wg.Wait()
	if err := a.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Close releases everything New built. Run calls it; call it yourself
// only for a node that never ran. Safe to call twice.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() { err = a.closeAll() })
	return err
}

func (a *App) closeAll() error {
	if a.cancelRequests != nil {
		a.cancelRequests()
	}
	if a.runtime != nil {
		a.runtime.Close()
	}
	if a.engine != nil {
		a.engine.Close()
	}
	var err error
	if a.geo != nil {
		a.geo.Close()
	}
	if a.store != nil {
		err = a.store.Close()
	}
	if a.ln != nil {
		a.ln.Close()
	}
	if a.stageLn != nil {
		a.stageLn.Close()
	}
	if a.debugLn != nil {
		a.debugLn.Close()
	}
	return err
}
