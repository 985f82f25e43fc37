package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/metrics"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// loginFailed is the one message for an unknown user and a wrong password.
const loginFailed = "Unknown username or wrong password."

type loginData struct {
	Action    string
	Heading   string
	LoginCSRF string
	Error     string
	// Forgot offers "Forgot your password?" (user login, when switched on).
	Forgot bool
}

func (s *Server) adminLoginPage(w http.ResponseWriter, r *http.Request) error {
	if se, err := s.loadSession(r.Context(), r, kindAdmin); err == nil && se != nil {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return nil
	}
	return s.Render(w, r, http.StatusOK, "login.html", "Log in to Ream admin",
		loginData{Action: "/admin/login", Heading: "Ream administration", LoginCSRF: s.loginCSRF(w, r)})
}

func (s *Server) userLoginPage(w http.ResponseWriter, r *http.Request) error {
	if se, err := s.loadSession(r.Context(), r, kindUser); err == nil && se != nil {
		http.Redirect(w, r, "/user/", http.StatusSeeOther)
		return nil
	}
	return s.Render(w, r, http.StatusOK, "login.html", "Log in",
		loginData{Action: "/user/login", Heading: "Log in to your print account", LoginCSRF: s.loginCSRF(w, r), Forgot: s.resetOffered(r)})
}

func (s *Server) adminLogin(w http.ResponseWriter, r *http.Request) error {
	return s.login(w, r, kindAdmin)
}

func (s *Server) userLogin(w http.ResponseWriter, r *http.Request) error {
	return s.login(w, r, kindUser)
}

// login checks a login form and starts a session. Every refusal for bad
// credentials says the same and costs one password hash, so an unknown user
// and a wrong password cannot be told apart (SPEC §10).
func (s *Server) login(w http.ResponseWriter, r *http.Request, kind string) error {
	ctx := r.Context()
	if msg := s.checkLoginCSRF(r); msg != "" {
		return Errorf(http.StatusForbidden, "%s", msg)
	}
	username := store.NormalizeUsername(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	client := clientAddress(r)
	data := loginData{Action: "/" + kind + "/login", Heading: "Ream administration", LoginCSRF: s.loginCSRF(w, r)}
	if kind == kindUser {
		data.Heading, data.Forgot = "Log in to your print account", s.resetOffered(r)
	}
	now := time.Now()
	key := limiterKey(kind, username)
	familiar := s.familiarAddress(ctx, key, client, now)
	if ok, wait, reason := s.limiter.AllowFrom(key, client, familiar, now); !ok {
		metrics.LoginFailures.WithLabelValues(kind, "throttled-"+reason).Inc()
		if reason == auth.ReasonUnfamiliar {
			// Guesses from addresses this account never logged in from are
			// over their budget: answer as for a wrong password, in the
			// same time, without checking it, so guessing learns nothing.
			s.core.Hasher.VerifyDummy(ctx, password)
			s.padFailedLogin(ctx, now)
			s.auditLogin(ctx, kind+".login.throttled", username, client, "too many failed logins for this account from unfamiliar addresses")
			data.Error = loginFailed
			return s.Render(w, r, http.StatusUnauthorized, "login.html", "Log in", data)
		}
		s.auditLogin(ctx, kind+".login.refused", username, client, "too many failed logins ("+reason+")")
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		data.Error = fmt.Sprintf("Too many failed logins. Try again in %s.", humanWait(wait))
		return s.Render(w, r, http.StatusTooManyRequests, "login.html", "Too many attempts", data)
	}
	u, ok, err := s.checkCredentials(ctx, kind, username, password)
	if err != nil {
		// The directory did not answer: say so, without telling whether the
		// user exists, after the same wait as any failure.
		s.log.ErrorContext(ctx, "web: login could not be checked", "user", username, "err", err)
		s.padFailedLogin(ctx, now)
		data.Error = "Your password could not be checked right now because the directory did not answer. Please try again in a few minutes."
		return s.Render(w, r, http.StatusServiceUnavailable, "login.html", "Log in", data)
	}
	if !ok {
		s.padFailedLogin(ctx, now)
		s.limiter.FailureFrom(key, client, familiar, now)
		metrics.LoginFailures.WithLabelValues(kind, "wrong-password").Inc()
		s.auditLogin(ctx, kind+".login.failure", username, client, "wrong username or password")
		if allowed, wait, reason := s.limiter.AllowFrom(key, client, familiar, now); !allowed && reason != auth.ReasonUnfamiliar {
			s.auditLogin(ctx, kind+".login.lockout", username, client, fmt.Sprintf("locked out for %s (%s)", humanWait(wait), reason))
		}
		data.Error = loginFailed
		return s.Render(w, r, http.StatusUnauthorized, "login.html", "Log in", data)
	}
	s.limiter.SuccessFrom(key, client, now)
	if err := s.store.RecordFamiliarAddress(ctx, key, client); err != nil {
		s.log.ErrorContext(ctx, "web: unable to remember a login address", "err", err)
	}
	if err := s.startSession(w, r, kind, u); err != nil {
		return err
	}
	target := "/" + kind + "/"
	if kind == kindAdmin {
		s.auditLogin(ctx, "admin.login", username, client, "logged in")
		if u != nil {
			target = s.adminLanding(ctx, u)
		}
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// familiarFor is how long a successful login makes its address familiar.
const familiarFor = 30 * 24 * time.Hour

// limiterKey is the account a login counts against: the built-in admin
// apart from any user of the same name (a name no user can have).
func limiterKey(kind, username string) string {
	if kind == kindAdmin && username == auth.BuiltInAdmin {
		// No username may hold "/" or "@"; and no NUL, which PostgreSQL
		// refuses in text.
		return "@/built-in admin"
	}
	// "CORP\alice" and "alice@corp.example" are alice as Active Directory
	// spells her (no username holds "\" or "@"): every spelling draws on
	// one budget, or each domain or UPN suffix typed would be a fresh one.
	// (A UPN whose name part is not the username still counts apart.)
	if i := strings.LastIndexByte(username, '\\'); i >= 0 {
		username = username[i+1:]
	}
	if i := strings.IndexByte(username, '@'); i >= 0 {
		username = username[:i]
	}
	return username
}

// familiarAddress reports whether the account logged in from client within
// familiarFor. When the database cannot say, the address counts as
// unfamiliar: the stricter budget.
func (s *Server) familiarAddress(ctx context.Context, key, client string, now time.Time) bool {
	if key == "" || client == "" {
		return false
	}
	ok, err := s.store.FamiliarAddress(ctx, key, client, now.Add(-familiarFor))
	if err != nil {
		s.log.ErrorContext(ctx, "web: unable to check a login address", "err", err)
	}
	return ok
}

// checkCredentials verifies a username and password for an area and returns
// the user (nil for the built-in admin). Each path through it verifies
// exactly one hash (real or dummy) or asks the directory.
func (s *Server) checkCredentials(ctx context.Context, kind, username, password string) (*model.User, bool, error) {
	h := s.core.Hasher
	if password == "" || username == "" || len(password) > 1024 {
		h.VerifyDummy(ctx, password)
		return nil, false, nil
	}
	if kind == kindAdmin && username == auth.BuiltInAdmin {
		ok, err := s.core.CheckAdminPassword(ctx, password)
		return nil, ok, err
	}
	u, err := s.store.UserByName(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		if s.authn == nil {
			h.VerifyDummy(ctx, password)
			return nil, false, nil
		}
		// A directory user who logs in before the first sync: the
		// authenticator checks the password and creates the user.
		name, ok, err := s.directoryLogin(ctx, username, password)
		if err != nil || !ok {
			return nil, false, err
		}
		if u, err = s.store.UserByName(ctx, name); err != nil {
			return nil, false, err
		}
		return s.mayEnter(ctx, kind, u)
	}
	if err != nil {
		return nil, false, err
	}
	ok, err := s.checkUserPassword(ctx, u, password)
	if err != nil || !ok {
		return nil, false, err
	}
	return s.mayEnter(ctx, kind, u)
}

// directoryLogin asks the directory about a name Ream does not know and
// returns the username it belongs to: the name typed, or the user an
// Active Directory UPN names when the authenticator can tell.
func (s *Server) directoryLogin(ctx context.Context, username, password string) (string, bool, error) {
	if dl, ok := s.authn.(DirectoryLogin); ok {
		return dl.LoginName(ctx, username, password)
	}
	ok, err := s.authn.Authenticate(ctx, username, password)
	return username, ok, err
}

// mayEnter reports whether a user whose password was right may log in to
// the area: the admin area needs admin access.
func (s *Server) mayEnter(ctx context.Context, kind string, u *model.User) (*model.User, bool, error) {
	if kind != kindAdmin {
		return u, true, nil
	}
	grant, err := s.store.AdminGrantOf(ctx, u.Username)
	if err != nil || len(grant.Rights) == 0 {
		return nil, false, err
	}
	return u, true, nil
}

// failedLoginFloor is the least time a failed login takes to answer, so that
// an unknown user, a wrong internal password and a wrong directory password
// (each a different amount of work) cannot be told apart by timing.
const failedLoginFloor = 400 * time.Millisecond

// padFailedLogin waits until failedLoginFloor has passed since start.
func (s *Server) padFailedLogin(ctx context.Context, start time.Time) {
	padUntil(ctx, start, s.loginFloor)
}

// checkUserPassword verifies an internal user's hash or asks the directory.
func (s *Server) checkUserPassword(ctx context.Context, u *model.User, password string) (bool, error) {
	if u.Internal {
		if u.PasswordHash == "" {
			s.core.Hasher.VerifyDummy(ctx, password)
			return false, nil
		}
		return s.core.Hasher.Verify(ctx, u.PasswordHash, password)
	}
	if s.authn == nil {
		s.core.Hasher.VerifyDummy(ctx, password)
		return false, nil
	}
	ok, err := s.authn.Authenticate(ctx, u.Username, password)
	if err != nil {
		return false, fmt.Errorf("web: directory login of %q: %w", u.Username, err)
	}
	return ok, nil
}

// auditLogin records a login event; a failure to write it is logged, not
// shown, so the answer stays the same.
func (s *Server) auditLogin(ctx context.Context, action, username, client, detail string) {
	err := s.store.Audit(ctx, model.AuditEntry{Actor: "web", Address: client, Action: action, Target: username, Detail: detail})
	if err != nil {
		s.log.ErrorContext(ctx, "web: unable to write login audit entry", "err", err)
	}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	se := SessionOf(r)
	if err := s.endSession(w, r, se); err != nil {
		return err
	}
	http.Redirect(w, r, "/"+se.Kind+"/login", http.StatusSeeOther)
	return nil
}

// humanWait says a wait in words, rounded up.
func humanWait(d time.Duration) string {
	switch {
	case d < time.Minute:
		n := int((d + time.Second - 1) / time.Second)
		return plural(max(n, 1), "second")
	case d < time.Hour:
		return plural(int((d+time.Minute-1)/time.Minute), "minute")
	default:
		return plural(int((d+time.Hour-1)/time.Hour), "hour")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, strings.TrimSpace(unit))
}
