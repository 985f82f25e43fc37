package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/metrics"
)

// TestPortalCurrentPasswordIsRateLimited: wrong current passwords on
// Change Password count like failed logins: after the account's limit even
// the right one waits, and failures and the lockout are in the audit log.
func TestPortalCurrentPasswordIsRateLimited(t *testing.T) {
	e := newTestEnv(t)
	c := e.client()
	token := e.login(c, "user", "alice", alicePassword)
	hash := e.passwordHash("alice")
	const pw = "a perfectly good passphrase"
	change := func(current string) (int, string) {
		resp, body := e.post(c, "/user/details/password", url.Values{"csrf": {token}, "current": {current}, "password": {pw}, "password2": {pw}}, nil)
		return resp.StatusCode, body
	}
	for i, guess := range []string{"guess-number-one", "guess-number-two", "guess-number-three"} {
		if status, body := change(guess); status != http.StatusBadRequest || !strings.Contains(body, "current password is not right") {
			t.Fatalf("wrong guess %d: status %d\n%s", i+1, status, pageText(body))
		}
	}
	status, body := change(alicePassword)
	if status != http.StatusTooManyRequests || !strings.Contains(body, "Try again in") {
		t.Fatalf("the right password after 3 wrong ones: status %d, want 429\n%s", status, pageText(body))
	}
	if e.passwordHash("alice") != hash {
		t.Fatal("the password changed while locked out")
	}
	// The lockout is the account's: the login waits too.
	if status := e.tryLogin("user", "alice", alicePassword); status != http.StatusTooManyRequests {
		t.Errorf("login while locked out: status %d, want 429", status)
	}
	for _, action := range []string{"user.password.failure", "user.password.lockout", "user.password.refused"} {
		if _, n, err := e.store.AuditLog(context.Background(), action, 0, 10); err != nil || n == 0 {
			t.Errorf("no audit log entry for %s (err %v)", action, err)
		}
	}
}

// TestAdminLoginIsRateLimitedAndAudited: the admin login has the same
// limits and the same answer for an unknown user and a wrong password.
func TestAdminLoginIsRateLimitedAndAudited(t *testing.T) {
	e := newTestEnv(t)
	c := e.client()
	_, _, token := e.get(c, "/admin/login")
	attempt := func(username, password string) (int, string) {
		resp, body := e.post(c, "/admin/login", url.Values{"csrf": {token}, "username": {username}, "password": {password}}, nil)
		return resp.StatusCode, body
	}
	e.login(e.client(), "admin", "admin", adminPassword) // this address is familiar to admin
	unknownStatus, unknownBody := attempt("nobody", "some-password-1")
	wrongStatus, wrongBody := attempt("admin", "not-the-admin-password")
	if unknownStatus != http.StatusUnauthorized || wrongStatus != unknownStatus || unknownBody != wrongBody {
		t.Fatalf("unknown user (%d) and wrong password (%d) answer differently", unknownStatus, wrongStatus)
	}
	attempt("admin", "another-wrong-one")
	attempt("admin", "and-a-third-wrong-one")
	if status, _ := attempt("admin", adminPassword); status != http.StatusTooManyRequests {
		t.Fatalf("admin login after 3 failures: status %d, want 429", status)
	}
	for _, action := range []string{"admin.login.failure", "admin.login.lockout", "admin.login.refused"} {
		if _, n, err := e.store.AuditLog(context.Background(), action, 0, 10); err != nil || n == 0 {
			t.Errorf("no audit log entry for %s (err %v)", action, err)
		}
	}
	// The portal account alice is not locked by the admin's failures.
	if status := e.tryLogin("user", "alice", alicePassword); status != http.StatusSeeOther {
		t.Errorf("alice's login: status %d", status)
	}
}

// TestClientAndGlobalLoginLimits: guesses at many accounts hit the limit
// per client address, or the overall one, although no single account
// reached its own.
func TestClientAndGlobalLoginLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  auth.LimiterConfig
	}{
		{"per client", auth.LimiterConfig{AccountFailures: 100, ClientFailures: 4, GlobalFailures: 10000}},
		{"overall", auth.LimiterConfig{AccountFailures: 100, ClientFailures: 10000, GlobalFailures: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			srv, err := New(Deps{Core: e.core, Store: e.store, Settings: e.core.Settings, Config: e.core.Config, Log: e.core.Log,
				LoginLimiter: auth.NewLimiter(tc.cfg)})
			if err != nil {
				t.Fatal(err)
			}
			e.http.Config.Handler = srv.Handler()
			for i, name := range []string{"u1", "u2", "u3", "u4"} {
				if status := e.tryLogin("user", name, "some-wrong-password"); status != http.StatusUnauthorized {
					t.Fatalf("guess %d: status %d, want 401", i+1, status)
				}
			}
			// alice's account is clean, but the limit is used up.
			if status := e.tryLogin("user", "alice", alicePassword); status != http.StatusTooManyRequests {
				t.Fatalf("login after 4 failures on other accounts: status %d, want 429", status)
			}
			if _, n, err := e.store.AuditLog(context.Background(), "user.login.refused", 0, 10); err != nil || n == 0 {
				t.Errorf("the refusal is not in the audit log (err %v)", err)
			}
		})
	}
}

// clientFrom is a browser-like client whose connections come from the
// loopback address ip (127.0.0.2, say), as a second machine's would.
func (e *testEnv) clientFrom(ip string) *http.Client {
	c := e.client()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.Transport = &http.Transport{DialContext: dialer.DialContext}
	return c
}

// TestSmartLockout: failures from an address the built-in admin never
// logged in from cannot lock the admin out at the address it uses; those
// addresses together get a small budget, then every guess from them is
// refused with the usual message, even the right password.
func TestSmartLockout(t *testing.T) {
	e := newTestEnv(t)
	e.login(e.client(), "admin", "admin", adminPassword) // 127.0.0.1 is familiar now
	attacker := e.clientFrom("127.0.0.2")
	_, _, token := e.get(attacker, "/admin/login")
	attempt := func(password string) (int, string) {
		resp, body := e.post(attacker, "/admin/login", url.Values{"csrf": {token}, "username": {"admin"}, "password": {password}}, nil)
		return resp.StatusCode, body
	}
	_, wrongBody := attempt("wrong-guess-0")
	for i := 1; i < 15; i++ {
		status, body := attempt(fmt.Sprintf("wrong-guess-%d", i))
		if status != http.StatusUnauthorized || body != wrongBody {
			t.Fatalf("guess %d from an unfamiliar address: status %d; want the usual 401 answer", i+1, status)
		}
	}
	// Over the budget the right password is refused too, in the same words.
	if status, body := attempt(adminPassword); status != http.StatusUnauthorized || body != wrongBody {
		t.Fatalf("the right password from the throttled address: status %d, want the usual 401", status)
	}
	// The owner, at the familiar address, is not locked out.
	e.login(e.client(), "admin", "admin", adminPassword)
	if _, n, _ := e.store.AuditLog(context.Background(), "admin.login.throttled", 0, 10); n == 0 {
		t.Error("throttled guesses are not in the audit log")
	}
	if got := metrics.Value(metrics.LoginFailures.WithLabelValues("admin", "throttled-"+auth.ReasonUnfamiliar)); got < 5 {
		t.Errorf("throttled logins counted in metrics: %v", got)
	}
	// A portal user is throttled the same way, and not by the admin's guesses.
	e.login(e.client(), "user", "alice", alicePassword)
}
