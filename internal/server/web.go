package server

import (
	"context"
	"net/http"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/metrics"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/web"
)

// webHandler builds the HTTP handler: admin and user pages, the XML-RPC
// API, health and metrics.
func (a *App) webHandler() (http.Handler, error) {
	metrics.SetBuildInfo(version())
	metrics.SyncLastSuccess.Set(a.lastSuccessfulSyncs)
	limiter := auth.NewLimiter(auth.DefaultLimiterConfig)
	if a.Store.Flavor() == store.Postgres {
		// Several servers may share this database: they count logins
		// together. (SQLite has one server per data directory.)
		j, err := store.NewLoginJournal(context.Background(), a.Store, a.Log)
		if err != nil {
			return nil, err
		}
		limiter.SetJournal(j)
	}
	deps := web.Deps{
		Core: a.Core, Store: a.Store, Settings: a.Settings, Config: a.Config, Log: a.Log,
		Metrics: metrics.Handler(), LoginLimiter: limiter,
		RPC: a.RPCHandler(), Features: a.Features, Version: version(),
	}
	// Import from PaperCut runs as a task of the runner the API's imports use.
	deps.Features.Tasks = a.Tasks
	if a.Authenticator != nil {
		deps.Authenticator = a.Authenticator
	}
	srv, err := web.New(deps)
	if err != nil {
		return nil, err
	}
	return srv.Handler(), nil
}

// lastSuccessfulSyncs feeds ream_sync_last_success_timestamp_seconds from
// the shared sync-run records; a scrape must stay quick, so the query has
// a short deadline and a failure reports no samples (and is logged).
func (a *App) lastSuccessfulSyncs() map[string]time.Time {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	last, err := a.Store.LastSuccessfulSyncs(ctx)
	if err != nil {
		a.Log.Warn("metrics: unable to read the last sync runs", "err", err)
		return nil
	}
	return last
}
