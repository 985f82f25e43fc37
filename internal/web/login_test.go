package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
)

// TestLoginAnswersAlikeAndIsRateLimited: an unknown user and a wrong
// password get the same answer; repeated failures lock the account out with
// a 429 and the lockout is in the audit log.
func TestLoginAnswersAlikeAndIsRateLimited(t *testing.T) {
	e := newTestEnv(t)
	c := e.client()
	_, _, loginToken := e.get(c, "/user/login")
	attempt := func(username, password string) (int, string) {
		resp, body := e.post(c, "/user/login", url.Values{"csrf": {loginToken}, "username": {username}, "password": {password}}, nil)
		return resp.StatusCode, body
	}
	// Alice has logged in from this address before: it is familiar to her,
	// so failures here lock her out here (from elsewhere see TestSmartLockout).
	e.login(e.client(), "user", "alice", alicePassword)
	unknownStatus, unknownBody := attempt("nobody", "some-password-1")
	wrongStatus, wrongBody := attempt("alice", "not-her-password")
	if unknownStatus != http.StatusUnauthorized || wrongStatus != unknownStatus {
		t.Fatalf("statuses: unknown user %d, wrong password %d; want both 401", unknownStatus, wrongStatus)
	}
	if unknownBody != wrongBody {
		t.Fatalf("unknown user and wrong password answer differently:\n%s\n----\n%s", unknownBody, wrongBody)
	}
	if !strings.Contains(wrongBody, loginFailed) {
		t.Fatalf("the refusal does not say %q", loginFailed)
	}
	if status, _ := attempt("alice", ""); status != http.StatusUnauthorized {
		t.Fatalf("empty password: status %d, want 401", status)
	}
	if status, _ := attempt("alice", "another-wrong-guess"); status != http.StatusUnauthorized {
		t.Fatalf("third wrong password: status %d, want 401", status)
	}
	// Three failures for alice (the limit) lock her out: even the right password waits.
	status, body := attempt("alice", alicePassword)
	if status != http.StatusTooManyRequests {
		t.Fatalf("login after 3 failures: status %d, want 429\n%s", status, body)
	}
	if !strings.Contains(body, "Try again in") {
		t.Fatalf("the 429 page does not say when to retry:\n%s", body)
	}
	for action, want := range map[string]bool{"user.login.failure": true, "user.login.lockout": true, "user.login.refused": true} {
		entries, n, err := e.store.AuditLog(context.Background(), action, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if (n > 0) != want {
			t.Errorf("audit log entries for %s: %d (%v)", action, n, entries)
		}
	}
	// Another account is not affected.
	e.login(e.client(), "admin", "admin", adminPassword)
}

// TestAdminLoginNeedsAdminAccess: a user with a right password but no
// admin access cannot log in to /admin; with access granted, they can.
func TestAdminLoginNeedsAdminAccess(t *testing.T) {
	e := newTestEnv(t)
	c := e.client()
	_, _, loginToken := e.get(c, "/admin/login")
	resp, body := e.post(c, "/admin/login", url.Values{"csrf": {loginToken}, "username": {"alice"}, "password": {alicePassword}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, loginFailed) {
		t.Fatalf("alice without admin access: status %d", resp.StatusCode)
	}
	if err := e.core.ChangeAdminAccess(context.Background(), core.CLI, "user", "alice", true); err != nil {
		t.Fatal(err)
	}
	e.login(e.client(), "admin", "alice", alicePassword)
}

// TestPortalPasswordChangeKeepsThisSession: changing the password in the
// portal keeps the session used and ends the others.
func TestPortalPasswordChangeKeepsThisSession(t *testing.T) {
	e := newTestEnv(t)
	first, second := e.client(), e.client()
	token := e.login(first, "user", "alice", alicePassword)
	e.login(second, "user", "alice", alicePassword)
	const newPassword = "a-brand-new-secret-5521"
	resp, body := e.post(first, "/user/details/password", url.Values{"csrf": {token}, "current": {alicePassword},
		"password": {newPassword}, "password2": {newPassword}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: status %d\n%s", resp.StatusCode, body)
	}
	if status, _, _ := e.get(first, "/user/"); status != http.StatusOK {
		t.Errorf("the session that changed the password: status %d, want 200", status)
	}
	if status, _, _ := e.get(second, "/user/"); status != http.StatusSeeOther {
		t.Errorf("another session after the password change: status %d, want a redirect to login", status)
	}
	e.login(e.client(), "user", "alice", newPassword)
}

// TestLoginSpellingsShareOneBudget: "CORP\alice" and "alice@corp.example"
// are alice to the directory, so failures under any spelling lock out all.
func TestLoginSpellingsShareOneBudget(t *testing.T) {
	e := newTestEnv(t)
	c := e.client()
	e.login(e.client(), "user", "alice", alicePassword) // the address is familiar to her
	_, _, loginToken := e.get(c, "/user/login")
	attempt := func(username, password string) int {
		resp, _ := e.post(c, "/user/login", url.Values{"csrf": {loginToken}, "username": {username}, "password": {password}}, nil)
		return resp.StatusCode
	}
	for _, name := range []string{"alice", `CORP\alice`, "Alice@corp.example"} {
		if status := attempt(name, "wrong-guess-"+name); status != http.StatusUnauthorized {
			t.Fatalf("%s: status %d, want 401", name, status)
		}
	}
	for _, name := range []string{"alice", `OTHER\alice`, "alice@elsewhere.example"} {
		if status := attempt(name, alicePassword); status != http.StatusTooManyRequests {
			t.Fatalf("%s after three failures under other spellings: status %d, want 429", name, status)
		}
	}
	for name, want := range map[string]string{"alice": "alice", `corp\alice`: "alice", "alice@corp.example": "alice",
		`a\b\carol`: "carol", "@corp": "", "admin": "admin"} {
		if got := limiterKey(kindUser, name); got != want {
			t.Errorf("limiterKey(%q) = %q, want %q", name, got, want)
		}
	}
	if limiterKey(kindAdmin, "admin") == limiterKey(kindUser, "admin") {
		t.Error("the built-in admin shares a budget with users")
	}
}
