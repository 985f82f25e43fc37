package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// Session kinds and their cookies: the admin and portal sessions are kept
// apart, each cookie sent only to its own area.
const (
	kindAdmin       = "admin"
	kindUser        = "user"
	adminCookie     = "ream_admin"
	userCookie      = "ream_user"
	loginCSRFCookie = "ream_login_csrf"
	touchInterval   = time.Minute
)

// Session is the logged-in person of a request.
type Session struct {
	Kind        string // "admin" or "user"
	Username    string
	BuiltIn     bool // the built-in admin account
	AllAccounts bool // admin access covers every shared account
	// Rights are an admin session's rights, read again on every request.
	Rights     map[model.AdminRight]bool
	User       *model.User // nil for the built-in admin
	CSRF       string      // the token forms must carry
	tokenHash  string
	csrfSecret string
	// scope caches the shared accounts of a scoped admin for the request
	// (Server.accountScope reads it once).
	scope     *store.AccountScope
	scopeRead bool
}

type sessionKey struct{}

// SessionOf returns the session of a request served under /admin or /user, or nil.
func SessionOf(r *http.Request) *Session {
	se, _ := r.Context().Value(sessionKey{}).(*Session)
	return se
}

// refusedBuiltInOnly is why a delegated admin may not open a built-in-only page.
const refusedBuiltInOnly = "it rewrites users, balances, shared accounts and admin access all at once"

// Actor is who a request acts as, for core calls and the audit log.
func (s *Server) Actor(r *http.Request) core.Actor {
	a := core.Actor{Address: clientAddress(r)}
	if se := SessionOf(r); se != nil {
		a.Name, a.AllAccounts = se.Username, se.AllAccounts
		if se.BuiltIn {
			a.Kind = model.ActorBuiltInAdmin
		} else {
			a.Kind, a.UserID = model.ActorUser, se.User.ID
			a.Delegated = true // a portal user holds no admin right
			for _, r := range model.AllAdminRights() {
				if se.Rights[r] {
					a.Rights = append(a.Rights, r)
				}
			}
			if se.Kind == kindAdmin && !se.AllAccounts {
				// Fails closed: without its scope the actor changes no account.
				if sc, err := s.accountScope(r); err == nil {
					a.Scope = sc
				} else {
					s.log.WarnContext(r.Context(), "web: unable to read the admin's shared-account scope", "user", se.Username, "err", err)
				}
			}
		}
	}
	return a
}

// clientAddress is the caller's IP address, without the port.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func cookieFor(kind string) (name, path string) {
	if kind == kindAdmin {
		return adminCookie, "/admin"
	}
	return userCookie, "/user"
}

// loadSession finds the live session of kind for a request, re-checking the
// person behind it every time: a deleted user or revoked admin access ends it.
func (s *Server) loadSession(ctx context.Context, r *http.Request, kind string) (*Session, error) {
	name, _ := cookieFor(kind)
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	hash := auth.TokenHash(c.Value)
	rec, err := s.store.SessionByTokenHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if rec.Kind != kind {
		return nil, nil
	}
	se := &Session{Kind: kind, Username: rec.Username, CSRF: auth.CSRFToken(rec.CSRFSecret, hash),
		tokenHash: hash, csrfSecret: rec.CSRFSecret}
	if kind == kindAdmin && rec.UserID == 0 {
		se.Username, se.BuiltIn, se.AllAccounts = auth.BuiltInAdmin, true, true
		se.Rights = map[model.AdminRight]bool{}
		for _, r := range model.AllAdminRights() {
			se.Rights[r] = true
		}
	} else {
		// By id: a rename keeps the session, a deleted user's ends, and a
		// user who is called "admin" is never the built-in admin.
		u, err := s.store.UserByID(ctx, rec.UserID)
		if errors.Is(err, store.ErrNotFound) || err == nil && u.DeletedAt != nil {
			return nil, s.store.DeleteSession(ctx, hash)
		}
		if err != nil {
			return nil, err
		}
		se.User, se.Username = u, u.Username
		if kind == kindAdmin {
			grant, err := s.store.AdminGrantOf(ctx, u.Username)
			if err != nil {
				return nil, err
			}
			if len(grant.Rights) == 0 {
				return nil, s.store.DeleteSession(ctx, hash)
			}
			se.AllAccounts, se.Rights = grant.AllAccounts, grantRights(grant)
		}
	}
	if time.Since(rec.LastSeenAt) >= touchInterval {
		if err := s.store.TouchSession(ctx, hash); err != nil {
			return nil, err
		}
	}
	return se, nil
}

// startSession stores a new session of user (nil: the built-in admin) and
// sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, kind string, user *model.User) error {
	token := auth.NewToken()
	hash := auth.TokenHash(token)
	lifetime := s.cfg.Session.Lifetime
	if lifetime <= 0 {
		lifetime = 12 * time.Hour
	}
	rec := &store.Session{TokenHash: hash, Kind: kind, Username: auth.BuiltInAdmin,
		CSRFSecret: auth.NewToken(), Address: clientAddress(r), ExpiresAt: time.Now().Add(lifetime)}
	if user != nil {
		rec.UserID, rec.Username = user.ID, user.Username
	}
	err := s.store.CreateSession(r.Context(), rec)
	if err != nil {
		return err
	}
	name, path := cookieFor(kind)
	http.SetCookie(w, &http.Cookie{Name: name, Value: token, Path: path, MaxAge: int(lifetime.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookie(r.TLS != nil)})
	return nil
}

// endSession deletes the request's session and its cookie.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, se *Session) error {
	name, path := cookieFor(se.Kind)
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookie(r.TLS != nil)})
	return s.store.DeleteSession(r.Context(), se.tokenHash)
}

// serveRoute wraps a page handler with its body limit, access check and CSRF check.
func (s *Server) serveRoute(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, rt.bodyLimit)
		}
		if rt.access.area != "" {
			kind := rt.access.area
			se, err := s.loadSession(r.Context(), r, kind)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if se == nil {
				s.refuseAnonymous(w, r, kind)
				return
			}
			if kind == kindAdmin && rt.access.builtInOnly && !se.BuiltIn {
				s.renderError(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, se)), http.StatusForbidden,
					"Your admin rights do not include this page: it is for the built-in admin account only, because "+refusedBuiltInOnly+".")
				return
			}
			if kind == kindAdmin && !rt.access.allows(se) {
				s.renderError(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, se)), http.StatusForbidden,
					"Your admin rights do not include this page ("+rightLabels(rt.access.rights)+"). Ask an administrator who has that right.")
				return
			}
			if rt.access.allAccounts && !se.AllAccounts {
				s.renderError(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, se)), http.StatusForbidden, scopeRefusal)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, se))
			if changesState(r.Method) {
				if msg := s.checkOrigin(r); msg != "" {
					s.renderError(w, r, http.StatusForbidden, msg)
					return
				}
				if limit, big := formTooLarge(r); big {
					s.renderError(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request is larger than the %d bytes this page accepts.", limit))
					return
				}
				if !auth.CheckCSRF(se.csrfSecret, se.tokenHash, r.PostFormValue("csrf")) {
					s.renderError(w, r, http.StatusForbidden,
						"This form has expired or did not come from Ream (missing or wrong security token). Go back, reload the page and try again.")
					return
				}
			}
		}
		if err := rt.h(w, r); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				err = Errorf(http.StatusRequestEntityTooLarge, "The request is larger than the %d bytes this page accepts.", tooBig.Limit)
			}
			s.writeError(w, r, err)
		}
	})
}

func changesState(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch:
		return true
	}
	return false
}

// checkOrigin refuses a state change whose Origin (or, without one, Referer)
// names another origin than this server as the browser reached it: scheme,
// host and port must all match (an http:// page must not post to the https://
// site, nor another port's service to this one). It returns the refusal
// message or "".
func (s *Server) checkOrigin(r *http.Request) string {
	from := r.Header.Get("Origin")
	if from == "" {
		from = r.Header.Get("Referer")
	}
	if from == "" {
		return ""
	}
	u, err := url.Parse(from)
	scheme := s.requestScheme(r)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, scheme) ||
		!strings.EqualFold(hostWithPort(u.Host, scheme), hostWithPort(r.Host, scheme)) {
		return "This request came from another web site (its Origin does not match this server), so it was refused to protect you from cross-site request forgery."
	}
	return ""
}

// requestScheme is the scheme the browser used to reach this server: https
// over TLS, or behind a TLS-terminating proxy when secure cookies are forced.
func (s *Server) requestScheme(r *http.Request) string {
	if r.TLS != nil || s.cfg.SecureCookies == "always" {
		return "https"
	}
	return "http"
}

// hostWithPort spells a host with its port, the scheme's default one when
// none is given, so that "example.org" and "example.org:443" compare equal.
func hostWithPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if scheme == "https" {
		return net.JoinHostPort(strings.Trim(host, "[]"), "443")
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), "80")
}

// refuseAnonymous sends a caller without a session to the login page (for
// a page view) or answers 401 (for anything else).
func (s *Server) refuseAnonymous(w http.ResponseWriter, r *http.Request, kind string) {
	login := "/" + kind + "/login"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, login, http.StatusSeeOther)
		return
	}
	s.renderError(w, r, http.StatusUnauthorized, "Your session has ended. Log in again and repeat the change.")
}

// loginCSRF returns the pre-session CSRF value of the login form, setting
// its cookie when the browser has none (double-submit).
func (s *Server) loginCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	v := auth.NewToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: v, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.SecureCookie(r.TLS != nil)})
	return v
}

// checkLoginCSRF verifies a login post: same origin, and the form's csrf
// field equals the login CSRF cookie.
func (s *Server) checkLoginCSRF(r *http.Request) string {
	if msg := s.checkOrigin(r); msg != "" {
		return msg
	}
	c, err := r.Cookie(loginCSRFCookie)
	got := r.PostFormValue("csrf")
	if err != nil || c.Value == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) != 1 {
		return "The login form has expired or did not come from Ream. Reload the page and try again."
	}
	return ""
}

// rightLabels names rights in the admin page's words.
func rightLabels(rights []model.AdminRight) string {
	var out []string
	for _, r := range rights {
		for _, k := range model.AdminRights {
			if k.Right == r {
				out = append(out, k.Label)
			}
		}
	}
	return strings.Join(out, "; ")
}

// grantRights is the set of rights of an admin grant, with the view rights
// they imply.
func grantRights(g store.AdminGrant) map[model.AdminRight]bool {
	set := map[model.AdminRight]bool{}
	for _, r := range model.WithImpliedAdminRights(g.Rights) {
		set[r] = true
	}
	return set
}

// adminLanding is where a delegated admin lands after logging in: the
// dashboard, or the first area of the menu they may open.
func (s *Server) adminLanding(ctx context.Context, u *model.User) string {
	grant, err := s.store.AdminGrantOf(ctx, u.Username)
	if err != nil {
		return "/admin/"
	}
	se := &Session{Kind: kindAdmin, Username: u.Username, User: u, AllAccounts: grant.AllAccounts, Rights: grantRights(grant)}
	if s.mayOpen(se, "/admin/") {
		return "/admin/"
	}
	if tabs, _ := s.navFor("/admin/", se); len(tabs) > 0 {
		return tabs[0].Path
	}
	return "/admin/"
}
