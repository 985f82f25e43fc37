// Package web serves Ream's admin interface (/admin), user portal (/user),
// the XML-RPC mount point (/rpc/api/xmlrpc) and the health and metrics
// endpoints (SPEC §1, §8, §10).
//
// # Adding a page
//
// A feature adds its pages from its own file in this package, without
// touching server.go, by registering a function in an init block:
//
//	func init() {
//		addFeature(func(s *Server) {
//			s.Handle("GET /admin/accounts/sync", AdminAllAccounts(model.RightAccountsSync), s.accountSyncPage)
//			s.Handle("POST /admin/accounts/sync", AdminAllAccounts(model.RightAccountsSync), s.accountSyncRun, WithBodyLimit(8<<20))
//			s.AddNav(NavLink{Section: "Accounts", Label: "Shared Account Sync", Path: "/admin/accounts/sync", Order: 40})
//		})
//	}
//
// Handlers have the shape func(w, r) error: return an *Error (Errorf) or a
// core.Error for a safe message with its status; anything else becomes a
// 500 without details. Every pattern under /admin and /user is refused to
// callers without a session of the right kind (Access), and every POST
// there must carry the session's CSRF token in a hidden field named "csrf"
// ({{template "csrf" .}} in a form). Pages are html/template files in
// templates/ that {{define "content"}}; they are parsed once at start with
// the layout and the shared partials (templates/_*.html), and rendered with s.Render(w, r, status, "file.html", title,
// data), where the template sees the Page (.Data is the handler's data).
// Use s.Redirect to answer a POST with a flash message (POST-redirect-GET),
// SessionOf(r) for the logged-in person and s.Actor(r) for core calls.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/reamprint/ream/internal/accounts"
	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/mail"
	"github.com/reamprint/ream/internal/metrics"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/passwordlink"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/tasks"
	"github.com/reamprint/ream/internal/usersync"
)

// UserAuthenticator checks a directory user's password against the
// directory, live; Ream never stores it.
type UserAuthenticator interface {
	Authenticate(ctx context.Context, username, password string) (ok bool, err error)
}

// DirectoryLogin is an authenticator that also tells which user a login
// name belongs to, for directories where a person has more than one (an
// Active Directory UPN beside the sAMAccountName).
type DirectoryLogin interface {
	LoginName(ctx context.Context, username, password string) (name string, ok bool, err error)
}

// Deps are the parts the web layer serves.
type Deps struct {
	Core     *core.Core
	Store    *store.Store
	Settings *settings.Settings
	Config   *config.Config
	Log      *slog.Logger
	// Metrics writes /metrics; nil means metrics.Handler().
	Metrics      http.Handler
	LoginLimiter *auth.Limiter
	// RPC is the XML-RPC handler, mounted at POST /rpc/api/xmlrpc; it checks
	// its own token. Nil leaves the route out.
	RPC http.Handler
	// Authenticator checks directory users' passwords; nil means only
	// internal users and the built-in admin can log in.
	Authenticator UserAuthenticator
	// Features are the services of optional features, for their pages; a
	// nil one makes its pages answer 404.
	Features Features
	// Version is the server's version, for the health API.
	Version string
}

// Access says who may open a route: nobody in particular (Public), a
// user-portal session (UserOnly), or an admin session holding the rights
// the route declares (Admin, AdminAllAccounts, AnyAdmin). Every route under
// /admin declares its rights here, in the route table; handlers never
// re-check them.
type Access struct {
	area        string             // "", kindAdmin or kindUser
	rights      []model.AdminRight // all of them are needed
	allAccounts bool               // the person's scope must be all shared accounts
	anyAdmin    bool               // any admin session, whatever its rights
	builtInOnly bool               // the built-in admin account only, whatever a delegate holds
}

// Route access levels without rights.
var (
	// Public routes need no session (login pages, health, static files).
	Public = Access{}
	// UserOnly routes need a user-portal session.
	UserOnly = Access{area: kindUser}
	// AnyAdmin routes need an admin session and no right: logging out and
	// the admin area's page-not-found answer.
	AnyAdmin = Access{area: kindAdmin, anyAdmin: true}
)

// Admin is the access of an admin route that needs every one of rights.
func Admin(rights ...model.AdminRight) Access {
	return Access{area: kindAdmin, rights: rights}
}

// AdminAllAccounts is Admin for a route that also needs admin access to
// every shared account (shared account sync, batch import, account changes).
func AdminAllAccounts(rights ...model.AdminRight) Access {
	return Access{area: kindAdmin, rights: rights, allAccounts: true}
}

// BuiltInAdminOnly is the access of a route only the built-in admin
// account may use, however many rights a delegated admin holds (Import
// from PaperCut, which rewrites users, balances and admin access at once).
// It declares every right, so a delegate is refused even with all of them.
func BuiltInAdminOnly() Access {
	return Access{area: kindAdmin, rights: model.AllAdminRights(), allAccounts: true, builtInOnly: true}
}

// allows reports whether an admin session may use a route of this access.
func (a Access) allows(se *Session) bool {
	if a.anyAdmin || se.BuiltIn {
		return true
	}
	if a.builtInOnly {
		return false
	}
	for _, r := range a.rights {
		if !se.Rights[r] {
			return false
		}
	}
	return true
}

// HandlerFunc is a page handler: it writes a response or returns an error
// that the server turns into a status and a safe message.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// DefaultBodyLimit bounds the request body of a form post.
const DefaultBodyLimit = 1 << 20

// RouteOption changes how one route is served.
type RouteOption func(*route)

// WithBodyLimit raises (or lowers) the request body limit of a route, for uploads.
func WithBodyLimit(n int64) RouteOption { return func(rt *route) { rt.bodyLimit = n } }

type route struct {
	pattern   string
	access    Access
	bodyLimit int64
	h         HandlerFunc
}

// Server is Ream's web front: admin pages, user portal, API mount and health.
type Server struct {
	core     *core.Core
	store    *store.Store
	settings *settings.Settings
	cfg      *config.Config
	log      *slog.Logger
	metrics  http.Handler
	limiter  *auth.Limiter
	rpc      http.Handler
	authn    UserAuthenticator
	features Features
	// loginFloor is how long a failed login takes at least (failedLoginFloor).
	loginFloor time.Duration

	mux      *http.ServeMux
	patterns []string
	access   map[string]Access // by pattern, for the route-matrix test
	pages    *pageSet

	navMu sync.Mutex
	nav   []NavLink

	version string    // for the health API
	started time.Time // for the health API's uptime
}

// features are the page groups registered by this package's files (addFeature).
var features []func(*Server)

// addFeature registers a function that adds routes and nav links to every new Server.
func addFeature(f func(*Server)) { features = append(features, f) }

// New builds the server: parses the templates and registers every route.
func New(deps Deps) (*Server, error) {
	if deps.Core == nil || deps.Store == nil || deps.Settings == nil {
		return nil, errors.New("web: Core, Store and Settings are required")
	}
	s := &Server{
		core: deps.Core, store: deps.Store, settings: deps.Settings, cfg: deps.Config,
		log: deps.Log, metrics: deps.Metrics, limiter: deps.LoginLimiter, rpc: deps.RPC,
		authn: deps.Authenticator, mux: http.NewServeMux(), access: map[string]Access{}, features: deps.Features,
		loginFloor: failedLoginFloor, version: deps.Version, started: time.Now(),
	}
	if s.cfg == nil {
		s.cfg = config.Default()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.metrics == nil {
		s.metrics = metrics.Handler()
	}
	if s.limiter == nil {
		s.limiter = auth.NewLimiter(auth.DefaultLimiterConfig)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s.pages = pages
	s.nav = append(s.nav, baseNav...)
	s.registerBase()
	for _, f := range features {
		f(s)
	}
	return s, nil
}

// Handle registers a page handler for a ServeMux pattern ("GET /admin/users/{name}").
// It panics on a pattern under /admin or /user that is Public other than the
// login pages, since that would open a hole in SPEC §10's guarantee.
func (s *Server) Handle(pattern string, access Access, h HandlerFunc, opts ...RouteOption) {
	rt := &route{pattern: pattern, access: access, bodyLimit: DefaultBodyLimit, h: h}
	for _, o := range opts {
		o(rt)
	}
	path := patternPath(pattern)
	if access.area == "" && (inArea(path, "/admin") || inArea(path, "/user")) && !publicUnderArea[path] {
		panic(fmt.Sprintf("web: route %q under /admin or /user cannot be public", pattern))
	}
	if access.area == kindAdmin && len(access.rights) == 0 && !access.anyAdmin {
		panic(fmt.Sprintf("web: admin route %q declares no right", pattern))
	}
	for _, r := range access.rights {
		if !model.KnownAdminRight(r) {
			panic(fmt.Sprintf("web: admin route %q declares the unknown right %q", pattern, r))
		}
	}
	if access.area == kindAdmin && !inArea(path, "/admin") || access.area == kindUser && !inArea(path, "/user") {
		panic(fmt.Sprintf("web: route %q is outside the area of its access", pattern))
	}
	s.access[pattern] = access
	s.mux.Handle(pattern, s.serveRoute(rt))
	s.patterns = append(s.patterns, pattern)
}

// publicUnderArea are the only paths under /admin and /user that need no session.
// "Forgot your password?" and the page an emailed link opens belong to the
// user login page: their visitors have no session by definition.
var publicUnderArea = map[string]bool{"/admin/login": true, "/user/login": true,
	"/user/login/forgot": true, "/user/login/reset": true}

// Features are the services behind some pages, one typed field each, so
// that wiring a missing one is a compile error, not a failed assertion.
type Features struct {
	Cards       *cards.Service
	Mail        *mail.Worker
	AccountSync *accounts.Service
	UserSync    *usersync.Service
	// PasswordLinks sets and resets internal users' passwords by email.
	PasswordLinks *passwordlink.Service
	// Tasks runs Import from PaperCut in the background, as the API's
	// batch imports run, so the page can follow it.
	Tasks *tasks.Runner
}

// Routes lists every registered pattern, in registration order.
func (s *Server) Routes() []string { return slices.Clone(s.patterns) }

// Handler returns the whole web front, with path checks, security headers,
// request logging and metrics in front of the routes.
func (s *Server) Handler() http.Handler {
	return s.observe(securityHeaders(guardPath(s.mux)))
}

// patternPath returns the path part of a ServeMux pattern ("GET host/p" → "/p").
func patternPath(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimSpace(pattern[i+1:])
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:]
	}
	return pattern
}

// inArea reports whether path is area itself or below it.
func inArea(path, area string) bool {
	return path == area || strings.HasPrefix(path, area+"/")
}
