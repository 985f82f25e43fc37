package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
)

// badPasswords are new passwords every form must refuse, with a word the
// refusal must contain.
var badPasswords = []struct {
	name, pw, says string
}{
	{"empty", "", "at least 8"},
	{"whitespace", "          ", "only spaces"},
	{"257 characters", strings.Repeat("p", 257), "longer than 256"},
	{"1 MB", strings.Repeat("p", 1<<20), "larger than"},
	{"NUL", "abcd\x00efghijk", "NUL"},
	{"not UTF-8", "abcd\xff\xfeefghijk", "UTF-8"},
	{"common", "password", "common"},
}

// answer is what a refused form post must look like: a 4xx page that says why.
func checkRefusal(t *testing.T, what string, resp *http.Response, body, says string) {
	t.Helper()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("%s: status %d, want a 4xx refusal", what, resp.StatusCode)
	}
	if !strings.Contains(html.UnescapeString(body), says) {
		t.Errorf("%s: the page does not say %q:\n%s", what, says, pageText(body))
	}
}

// pageText is the main part of a page, for failure messages.
func pageText(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if i := strings.Index(body, "</main>"); i >= 0 {
		body = body[:i]
	}
	if len(body) > 2000 {
		body = body[:2000]
	}
	return body
}

func (e *testEnv) passwordHash(name string) string {
	e.t.Helper()
	u, err := e.store.UserByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.PasswordHash
}

// TestPasswordFormsRefuseBadInput sends every bad password to the admin's
// Change Password, the portal's Change Password and Create internal user;
// each is refused with a message and nothing changes.
func TestPasswordFormsRefuseBadInput(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	admin := e.client()
	adminToken := e.login(admin, "admin", "admin", adminPassword)
	portal := e.client()
	portalToken := e.login(portal, "user", "alice", alicePassword)
	hash := e.passwordHash("alice")

	for _, bad := range badPasswords {
		resp, body := e.post(admin, "/admin/users/alice/password", url.Values{"csrf": {adminToken}, "password": {bad.pw}, "password2": {bad.pw}}, nil)
		checkRefusal(t, "admin reset, "+bad.name, resp, body, bad.says)
		resp, body = e.post(portal, "/user/details/password", url.Values{"csrf": {portalToken}, "current": {alicePassword}, "password": {bad.pw}, "password2": {bad.pw}}, nil)
		checkRefusal(t, "portal change, "+bad.name, resp, body, bad.says)
		resp, body = e.post(admin, "/admin/internal-users/new", url.Values{"csrf": {adminToken}, "username": {"newbie"}, "password": {bad.pw}, "password2": {bad.pw}}, nil)
		checkRefusal(t, "create internal user, "+bad.name, resp, body, bad.says)
	}
	const good = "a perfectly good passphrase"
	resp, body := e.post(admin, "/admin/users/alice/password", url.Values{"csrf": {adminToken}, "password": {good}, "password2": {good + "!"}}, nil)
	checkRefusal(t, "admin reset, mismatched", resp, body, "not the same")
	resp, body = e.post(portal, "/user/details/password", url.Values{"csrf": {portalToken}, "current": {alicePassword}, "password": {good}, "password2": {good + "!"}}, nil)
	checkRefusal(t, "portal change, mismatched", resp, body, "not the same")
	for _, current := range []string{"", "not-alices-password", strings.Repeat("x", 1<<19)} {
		resp, body = e.post(portal, "/user/details/password", url.Values{"csrf": {portalToken}, "current": {current}, "password": {good}, "password2": {good}}, nil)
		checkRefusal(t, "portal change, wrong current password", resp, body, "current password")
	}

	if e.passwordHash("alice") != hash {
		t.Fatal("a refused password changed alice's")
	}
	if _, err := e.store.UserByName(ctx, "newbie"); err == nil {
		t.Fatal("a user was created with a refused password")
	}
	// The portal session is still there: no refusal ended it.
	if status, _, _ := e.get(portal, "/user/details"); status != http.StatusOK {
		t.Fatalf("portal session after refusals: status %d", status)
	}
}

// TestCreateInternalUserRefusesBadUsernames: each username of SPEC §6's
// rule is refused with a message naming the problem; no user is created.
func TestCreateInternalUserRefusesBadUsernames(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	before, _ := e.store.CountUsers(ctx)
	const pw = "a perfectly good passphrase"
	for _, tc := range []struct{ name, username, says string }{
		{"slash", "a/b", "must not contain '/'"},
		{"backslash", `a\b`, `must not contain '\\'`},
		{"at", "a@b", "must not contain '@'"},
		{"control", "a\x07b", "control character"},
		{"tab", "a\tb", "tab"},
		{"51 characters", strings.Repeat("u", 51), "longer than 50"},
		{"empty", "", "must not be empty"},
		{"not UTF-8", "a\xffb", "UTF-8"},
	} {
		resp, body := e.post(c, "/admin/internal-users/new", url.Values{"csrf": {token}, "username": {tc.username}, "password": {pw}, "password2": {pw}}, nil)
		checkRefusal(t, "username with "+tc.name, resp, body, tc.says)
	}
	if after, _ := e.store.CountUsers(ctx); after != before {
		t.Fatalf("%d users after refused creations, want %d", after, before)
	}
}

// TestDirectoryUserHasNoPasswordToChange: a directory user (Internal false)
// gets the admin-set help text in the portal and no form; posting to the
// form anyway is refused, and the admin cannot set one either.
func TestDirectoryUserHasNoPasswordToChange(t *testing.T) {
	e := newDirectoryEnv(t)
	ctx := context.Background()
	if err := e.core.SetConfigValues(ctx, core.CLI, map[string]string{"user.password-help-text": "Ask the Help Desk on extension 4357."}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	token := e.login(c, "user", "dora", doraPassword)
	status, body, _ := e.get(c, "/user/details")
	if status != http.StatusOK || !strings.Contains(body, "Ask the Help Desk on extension 4357.") || strings.Contains(body, `name="current"`) {
		t.Fatalf("Change Details of a directory user: status %d\n%s", status, pageText(body))
	}
	resp, body := e.post(c, "/user/details/password", url.Values{"csrf": {token}, "current": {doraPassword}, "password": {"a new passphrase here"}, "password2": {"a new passphrase here"}}, nil)
	checkRefusal(t, "portal password post by a directory user", resp, body, "directory")

	admin := e.client()
	adminToken := e.login(admin, "admin", "admin", adminPassword)
	resp, body = e.post(admin, "/admin/users/dora/password", url.Values{"csrf": {adminToken}, "password": {"a new passphrase here"}, "password2": {"a new passphrase here"}}, nil)
	checkRefusal(t, "admin reset of a directory user", resp, body, "directory")
	if e.passwordHash("dora") != "" {
		t.Fatal("a directory user got a password hash")
	}
}

// CSRF: a cross-origin post to change a password is refused, and so is
// one without the form's token; the password stays.
func TestPasswordChangeCSRF(t *testing.T) {
	e := newTestEnv(t)
	admin, portal := e.client(), e.client()
	adminToken := e.login(admin, "admin", "admin", adminPassword)
	portalToken := e.login(portal, "user", "alice", alicePassword)
	hash := e.passwordHash("alice")
	const pw = "an attacker's chosen passphrase"
	evil := map[string]string{"Origin": "http://evil.example"}
	for _, tc := range []struct {
		name    string
		c       *http.Client
		path    string
		form    url.Values
		headers map[string]string
	}{
		{"portal, other origin", portal, "/user/details/password", url.Values{"csrf": {portalToken}, "current": {alicePassword}, "password": {pw}, "password2": {pw}}, evil},
		{"portal, no token", portal, "/user/details/password", url.Values{"current": {alicePassword}, "password": {pw}, "password2": {pw}}, nil},
		{"admin, other origin", admin, "/admin/users/alice/password", url.Values{"csrf": {adminToken}, "password": {pw}, "password2": {pw}}, evil},
		{"admin, other referer", admin, "/admin/users/alice/password", url.Values{"csrf": {adminToken}, "password": {pw}, "password2": {pw}}, map[string]string{"Referer": "http://evil.example/x"}},
		{"admin, portal token", admin, "/admin/users/alice/password", url.Values{"csrf": {portalToken}, "password": {pw}, "password2": {pw}}, nil},
	} {
		resp, body := e.post(tc.c, tc.path, tc.form, tc.headers)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403\n%s", tc.name, resp.StatusCode, pageText(body))
		}
	}
	if e.passwordHash("alice") != hash {
		t.Fatal("a forged request changed alice's password")
	}
}

// TestPortalCardPIN: Change card PIN appears only when the admin allows
// it; bad PINs are refused with a message and the PIN stays.
func TestPortalCardPIN(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	c := e.client()
	token := e.login(c, "user", "alice", alicePassword)
	pin := func(p, again string) (*http.Response, string) {
		return e.post(c, "/user/details/pin", url.Values{"csrf": {token}, "pin": {p}, "pin2": {again}}, nil)
	}
	if _, body, _ := e.get(c, "/user/details"); strings.Contains(body, "Change card PIN") {
		t.Fatal("Change card PIN is offered although the admin did not allow it")
	}
	if resp, _ := pin("4321", "4321"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("PIN change while not allowed: status %d, want 403", resp.StatusCode)
	}
	if err := e.core.SetConfigValues(ctx, core.CLI, map[string]string{"user.allow-change-pin": "Y"}); err != nil {
		t.Fatal(err)
	}
	e.core.Settings.Invalidate()
	if _, body, _ := e.get(c, "/user/details"); !strings.Contains(body, "Change card PIN") {
		t.Fatal("Change card PIN is not offered although allowed")
	}
	for _, tc := range []struct{ name, pin, again, says string }{
		{"mismatched", "4321", "4322", "same both times"},
		{"too short", "12", "12", "4 to 32"},
		{"too long", strings.Repeat("1", 33), strings.Repeat("1", 33), "4 to 32"},
		{"control character", "12\x0734", "12\x0734", "printable"},
		{"not ASCII", "12é34", "12é34", "printable"},
	} {
		resp, body := pin(tc.pin, tc.again)
		checkRefusal(t, "PIN "+tc.name, resp, body, tc.says)
	}
	if u, _ := e.store.UserByName(ctx, "alice"); u.HasPIN() {
		t.Fatal("a refused PIN was stored")
	}
	if resp, body := pin("4321", "4321"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("PIN change: status %d\n%s", resp.StatusCode, pageText(body))
	}
	u, _ := e.store.UserByName(ctx, "alice")
	if ok, _ := e.core.Hasher.Verify(ctx, u.PINHash, "4321"); !ok {
		t.Fatal("the new PIN does not verify")
	}
}
