package web

import (
	"crypto/subtle"
	"io/fs"
	"net/http"
	"net/netip"
	"strings"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/xmlrpc"
)

// registerBase registers the routes of the core pages, the health
// endpoints, static files and the API mount.
func (s *Server) registerBase() {
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	s.Handle("GET /static/", Public, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.StripPrefix("/static/", files).ServeHTTP(w, r)
		return nil
	})
	s.Handle("GET /{$}", Public, func(w http.ResponseWriter, r *http.Request) error {
		http.Redirect(w, r, "/user/", http.StatusSeeOther)
		return nil
	})
	s.Handle("GET /healthz", Public, s.healthz)
	s.Handle("GET /readyz", Public, s.readyz)
	s.Handle("GET /metrics", Public, s.metricsPage)
	if s.rpc != nil {
		rpc := s.rpc
		// The XML-RPC handler bounds its own body (xmlrpc.MaxRequestBytes) and
		// answers an oversized one with 413 after reading a bounded rest of it.
		s.Handle("POST /rpc/api/xmlrpc", Public, func(w http.ResponseWriter, r *http.Request) error {
			rpc.ServeHTTP(w, r)
			return nil
		}, WithBodyLimit(xmlrpc.MaxRequestBytes+xmlrpc.DrainAllowance))
	}

	// Admin: login and dashboard.
	s.Handle("GET /admin/login", Public, s.adminLoginPage)
	s.Handle("POST /admin/login", Public, s.adminLogin)
	s.Handle("POST /admin/logout", AnyAdmin, s.logout)
	s.Handle("GET /admin/{$}", Admin(model.RightDashboard), s.dashboard)
	// Unknown pages inside an area get the area's own page, after the same
	// session check as any other page there (so they reveal nothing).
	s.Handle("GET /admin/", AnyAdmin, notFoundPage)

	// Users.
	s.Handle("GET /admin/users", Admin(model.RightUsersView), s.userList)
	s.Handle("GET /admin/internal-users/new", Admin(model.RightUsersInternal, model.RightUsersCards), s.newInternalUserPage)
	s.Handle("POST /admin/internal-users/new", Admin(model.RightUsersInternal, model.RightUsersCards), s.newInternalUser)
	s.Handle("GET /admin/users/{name}", Admin(model.RightUsersView), s.userDetails)
	// The edit form holds the card numbers and the balance adjustment only
	// for those with users.cards and users.balance (core checks each too);
	// a balance-only admin adjusts with the user page's own form.
	s.Handle("GET /admin/users/{name}/edit", Admin(model.RightUsersView, model.RightUsersEdit), s.userEditPage)
	s.Handle("POST /admin/users/{name}/edit", Admin(model.RightUsersView, model.RightUsersEdit), s.userEdit)
	s.Handle("POST /admin/users/{name}/adjust", Admin(model.RightUsersView, model.RightUsersBalance), s.userAdjust)
	s.Handle("POST /admin/users/{name}/cards", Admin(model.RightUsersView, model.RightUsersCards), s.userCards)
	s.Handle("GET /admin/users/{name}/delete", Admin(model.RightUsersView, model.RightUsersEdit, model.RightUsersInternal), s.userDeletePage)
	s.Handle("POST /admin/users/{name}/delete", Admin(model.RightUsersView, model.RightUsersEdit, model.RightUsersInternal), s.userDelete)
	s.Handle("GET /admin/users/{name}/password", Admin(model.RightUsersInternal), s.userPasswordPage)
	s.Handle("POST /admin/users/{name}/password", Admin(model.RightUsersInternal), s.userPassword)

	// Groups.
	s.Handle("GET /admin/groups", Admin(model.RightGroups), s.groupList)
	s.Handle("GET /admin/groups/{name}", Admin(model.RightGroups), s.groupMembers)

	// Shared accounts. An admin scoped to some accounts changes those (out
	// of scope answers 404, in accountByPathID and again in core); the
	// balance part of a form needs accounts.balance, checked in core.
	s.Handle("GET /admin/accounts", Admin(model.RightAccountsView), s.accountList)
	s.Handle("GET /admin/accounts/deleted", Admin(model.RightAccountsView), s.deletedAccountList)
	s.Handle("GET /admin/accounts/new", Admin(model.RightAccountsView, model.RightAccountsEdit), s.accountNewPage)
	s.Handle("POST /admin/accounts/new", Admin(model.RightAccountsView, model.RightAccountsEdit), s.accountNew)
	s.Handle("GET /admin/accounts/{id}", Admin(model.RightAccountsView), s.accountDetails)
	s.Handle("GET /admin/accounts/{id}/edit", Admin(model.RightAccountsView, model.RightAccountsEdit), s.accountEditPage)
	s.Handle("POST /admin/accounts/{id}/edit", Admin(model.RightAccountsView, model.RightAccountsEdit), s.accountEdit)
	s.Handle("GET /admin/accounts/{id}/delete", Admin(model.RightAccountsView, model.RightAccountsEdit), s.accountDeletePage)
	s.Handle("POST /admin/accounts/{id}/delete", Admin(model.RightAccountsView, model.RightAccountsEdit), s.accountDelete)
	s.Handle("POST /admin/accounts/{id}/restore", Admin(model.RightAccountsView, model.RightAccountsEdit), s.accountRestore)

	// Options and logs.
	s.Handle("GET /admin/options", Admin(model.RightOptions), s.optionsPage)
	s.Handle("POST /admin/options", Admin(model.RightOptions), s.optionsSave)
	s.Handle("GET /admin/logs", Admin(model.RightLogs), s.auditLog)
	s.Handle("GET /admin/logs/sync-runs", Admin(model.RightLogs), s.syncRunList)
	s.Handle("GET /admin/logs/sync-runs/{id}", Admin(model.RightLogs), s.syncRunDetails)

	// User portal.
	s.Handle("GET /user/login", Public, s.userLoginPage)
	s.Handle("POST /user/login", Public, s.userLogin)
	s.Handle("POST /user/logout", UserOnly, s.logout)
	s.Handle("GET /user/{$}", UserOnly, s.portalSummary)
	s.Handle("GET /user/", UserOnly, notFoundPage)
	s.Handle("GET /user/details", UserOnly, s.portalDetails)
	s.Handle("POST /user/details/password", UserOnly, s.portalPassword)
	s.Handle("POST /user/details/pin", UserOnly, s.portalPIN)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte("ok\n"))
	return err
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "web: not ready: database unreachable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, err = w.Write([]byte("database unavailable\n"))
		return err
	}
	_, err := w.Write([]byte("ready\n"))
	return err
}

// metricsPage serves Prometheus metrics to metrics.allowed-addresses
// (default loopback) and to a scraper with metrics.bearer-token: they name
// routes and counts that are no business of the whole network.
func (s *Server) metricsPage(w http.ResponseWriter, r *http.Request) error {
	ip, err := netip.ParseAddr(clientAddress(r))
	allowed := err == nil && s.cfg.MetricsAddress(ip)
	if token := s.cfg.Metrics.BearerToken; !allowed && token != "" {
		got, ok := bearerToken(r)
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ream-metrics"`)
			return Errorf(http.StatusUnauthorized, "Metrics need the bearer token (metrics.bearer-token) from this address.")
		}
		allowed = true
	}
	if !allowed {
		return Errorf(http.StatusForbidden, "Metrics are available only from metrics.allowed-addresses.")
	}
	s.metrics.ServeHTTP(w, r)
	return nil
}

// bearerToken is the token of an "Authorization: Bearer …" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// notFoundPage answers an unknown page inside /admin or /user.
func notFoundPage(w http.ResponseWriter, r *http.Request) error {
	return Errorf(http.StatusNotFound, "There is no page at %s. Use the menu above to find what you are looking for.", r.URL.Path)
}
