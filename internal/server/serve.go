package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// serve runs the web, API, scheduler and background loops until ctx ends,
// then shuts down gracefully: in-flight requests and running tasks finish
// (a sync in progress either commits or rolls back as one transaction).
func (a *App) serve(ctx context.Context, stdout io.Writer) error {
	unlock, err := lockDataDir(a.Config.DataDir, a.Config.IsPostgres())
	if err != nil {
		return err
	}
	defer unlock()
	applied, err := a.Store.Migrate(ctx)
	if err != nil {
		return err
	}
	if applied > 0 {
		a.Log.Info("database migrated", "steps", applied, "flavor", a.Store.Flavor().String())
	}
	generated, err := a.Core.EnsureAdminPassword(ctx, a.Config.Admin.Password)
	if err != nil {
		return err
	}
	if generated != "" {
		fmt.Fprintf(stdout, "\n"+
			"  ┌──────────────────────────────────────────────────────────────┐\n"+
			"  │ Ream's built-in admin account was given a password.          │\n"+
			"  │ It is shown this once and stored only as a hash.             │\n"+
			"  │                                                              │\n"+
			"  │   username: admin                                            │\n"+
			"  │   password: %-48s │\n"+
			"  │                                                              │\n"+
			"  │ Change it with `ream admin set-password`.                    │\n"+
			"  └──────────────────────────────────────────────────────────────┘\n\n", generated)
	}
	if n, err := a.Store.RecoverInterruptedRuns(ctx); err != nil {
		return err
	} else if n > 0 {
		a.Log.Warn("sync runs and tasks left running by a stopped server recorded as interrupted", "count", n)
	}
	if err := a.Core.EnsureHealthAPIKey(ctx); err != nil {
		return err
	}
	if err := a.setupFeatures(ctx); err != nil {
		return err
	}
	if err := a.Store.CacheCardLookups(ctx); err != nil {
		a.Log.Warn("card lookups will read the database every time", "err", err)
	}
	handler, err := a.webHandler()
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr: a.Config.Listen, Handler: handler,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Minute, WriteTimeout: 10 * time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: nil,
	}
	ln, err := net.Listen("tcp", a.Config.Listen)
	if err != nil {
		return fmt.Errorf("unable to listen on %s: %w", a.Config.Listen, err)
	}
	errs := make(chan error, 2)
	go func() { errs <- srv.Serve(ln) }()
	a.Log.Info("ream is listening", "http", ln.Addr().String(), "database", a.Store.Flavor().String())

	var tlsSrv *http.Server
	if a.Config.HTTPSEnabled() {
		cert, key, err := a.Config.HTTPSCertificate()
		if err != nil {
			return err
		}
		tlsSrv = &http.Server{Addr: a.Config.HTTPS.Listen, Handler: handler, ReadHeaderTimeout: 10 * time.Second,
			TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}}
		tln, err := net.Listen("tcp", a.Config.HTTPS.Listen)
		if err != nil {
			return fmt.Errorf("unable to listen on %s: %w", a.Config.HTTPS.Listen, err)
		}
		go func() { errs <- tlsSrv.ServeTLS(tln, cert, key) }()
		a.Log.Info("ream is listening", "https", tln.Addr().String())
	}

	bg, stopBG := context.WithCancel(a.ctx)
	a.runScheduler(bg)
	for _, loop := range a.Background {
		go loop(bg)
	}

	select {
	case <-ctx.Done():
		a.Log.Info("shutting down")
	case err := <-errs:
		stopBG()
		return fmt.Errorf("web server stopped: %w", err)
	}
	stopBG()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if tlsSrv != nil {
		_ = tlsSrv.Shutdown(shutdownCtx)
	}
	done := make(chan struct{})
	go func() { a.Tasks.Wait(); close(done) }()
	select {
	case <-done:
	case <-shutdownCtx.Done():
		a.Log.Warn("a background task did not finish in time; its transaction is rolled back")
	}
	return nil
}

// lockDataDir makes sure only one server uses an SQLite data directory
// (several may share PostgreSQL), and lets `ream restore` refuse to run
// under a live server.
func lockDataDir(dir string, postgres bool) (func(), error) {
	if postgres {
		return func() {}, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("unable to create data directory %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "ream.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("unable to open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another Ream server is using the data directory %s", dir)
		}
		return nil, fmt.Errorf("unable to lock data directory: %w", err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
