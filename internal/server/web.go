package server

import (
	"net/http"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/metrics"
	"github.com/reamprint/ream/internal/web"
)

// webHandler builds the HTTP handler: admin and user pages, the XML-RPC
// API, health and metrics.
func (a *App) webHandler() (http.Handler, error) {
	metrics.SetBuildInfo(version())
	deps := web.Deps{
		Core: a.Core, Store: a.Store, Settings: a.Settings, Config: a.Config, Log: a.Log,
		Metrics: metrics.Default, LoginLimiter: auth.NewLimiter(auth.DefaultLimiterConfig),
		RPC: a.RPCHandler(), Features: a.Features, Version: version(),
	}
	if a.Authenticator != nil {
		deps.Authenticator = a.Authenticator
	}
	srv, err := web.New(deps)
	if err != nil {
		return nil, err
	}
	return srv.Handler(), nil
}
