package server

import (
	"net/http"
)

// webHandler builds the HTTP handler: admin and user pages, the XML-RPC
// API, health and metrics.
func (a *App) webHandler() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("POST /rpc/api/xmlrpc", a.RPCHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.Store.Ping(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux, nil
}
