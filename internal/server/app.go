// Package server wires Ream together: it opens the store, builds the shared
// core, the command table, the background tasks and the feature services,
// and runs `ream serve` and the command line.
//
// A feature (shared account sync, user sync, cards and mail…) plugs in from
// its own file with register(Feature{…}) in an init function: it sets up
// its service on the App, may add scheduled jobs, CLI subcommands and
// services for the command table (App.Features), without editing this file.
package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/tasks"
	"github.com/reamprint/ream/internal/web"
)

// App is one running Ream: everything a door (web, API, CLI) needs.
type App struct {
	Config   *config.Config
	Log      *slog.Logger
	Store    *store.Store
	Settings *settings.Settings
	Hasher   *auth.Hasher
	Core     *core.Core
	Tasks    *tasks.Runner
	Table    *commands.Table
	// Features are the feature services, set up by each feature.
	Features Features
	// Jobs are the named scheduled jobs (see schedule.go).
	Jobs []Job
	// Authenticator checks directory users' passwords (set by user sync).
	Authenticator UserAuthenticator
	// Background are long-running loops started by serve (mail delivery).
	Background []func(ctx context.Context)

	ctx    context.Context
	cancel context.CancelFunc
}

// UserAuthenticator checks a directory user's password by a live bind.
type UserAuthenticator interface {
	Authenticate(ctx context.Context, username, password string) (bool, error)
}

// Feature is a part of Ream set up after the core exists.
type Feature struct {
	Name string
	// Setup builds the feature's services on the App.
	Setup func(ctx context.Context, app *App) error
	// CLI adds top-level subcommands: "accounts" → `ream accounts …`.
	CLI map[string]CLICommand
}

// CLICommand is a top-level subcommand added by a feature.
type CLICommand struct {
	Help string
	Run  func(ctx context.Context, app *App, args []string, stdout, stderr io.Writer) int
}

var features []Feature

// register adds a feature; called from init functions of feature files.
func register(f Feature) { features = append(features, f) }

// Open builds the App over an opened store. It does not migrate.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	s, err := store.Open(ctx, cfg.Database.URL, cfg.SQLitePath())
	if err != nil {
		return nil, err
	}
	return newApp(ctx, cfg, log, s, auth.DefaultHashParams)
}

func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger, s *store.Store, params auth.HashParams) (*App, error) {
	hasher, err := auth.NewHasher(params, 4)
	if err != nil {
		s.Close()
		return nil, err
	}
	set := settings.New(s, 2*time.Second)
	appCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	app := &App{
		Config: cfg, Log: log, Store: s, Settings: set, Hasher: hasher,
		Core:  core.New(s, set, hasher, cfg, log),
		Tasks: tasks.New(appCtx, s, log),
		Table: commands.NewTable(),
		ctx:   appCtx, cancel: cancel,
	}
	app.Jobs = builtinJobs(app)
	return app, nil
}

// setupFeatures runs every registered feature's Setup, in name order.
func (a *App) setupFeatures(ctx context.Context) error {
	sorted := append([]Feature(nil), features...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, f := range sorted {
		if f.Setup == nil {
			continue
		}
		if err := f.Setup(ctx, a); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return nil
}

// CommandEnv is the environment commands run in.
func (a *App) CommandEnv() commands.Env {
	f := &commands.Features{Cards: a.Features.Cards, AccountSync: a.Features.AccountSync}
	if a.Features.UserSync != nil { // a nil *usersync.Service in the interface would not be nil
		f.UserSync = a.Features.UserSync
	}
	return commands.Env{Core: a.Core, Store: a.Store, Settings: a.Settings, Tasks: a.Tasks, Features: f}
}

// Features are the services of the optional features, one typed field
// each: the web pages, the command table (CommandEnv) and the CLI read
// them from here.
type Features = web.Features

// RPCHandler is the XML-RPC endpoint.
func (a *App) RPCHandler() http.Handler {
	return &commands.XMLRPCHandler{Table: a.Table, Env: a.CommandEnv(), Config: a.Config, Log: a.Log}
}

// Close stops background work and closes the store.
func (a *App) Close() error {
	a.cancel()
	a.Tasks.Wait()
	if a.Features.PasswordLinks != nil {
		// Reset requests already answered still send their mail.
		a.Features.PasswordLinks.Wait()
	}
	return a.Store.Close()
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
