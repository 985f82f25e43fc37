package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/reamprint/ream/internal/testenv/browser"
)

// loginInBrowser logs in to an area through its login page.
func loginInBrowser(t *testing.T, ctx context.Context, base, area, username, password, then string) {
	t.Helper()
	err := chromedp.Do(ctx,
		logIn(base+"/"+area+"/login", username, password, then),
	)
	if err != nil {
		t.Fatalf("%s logs in to /%s: %v", username, area, err)
	}
}

// tryLogin posts a login form with a fresh client and returns the status:
// 303 for a login, 401 for a refusal.
func (e *testEnv) tryLogin(area, username, password string) int {
	e.t.Helper()
	c := e.client()
	_, _, token := e.get(c, "/"+area+"/login")
	resp, _ := e.post(c, "/"+area+"/login", url.Values{"csrf": {token}, "username": {username}, "password": {password}}, nil)
	return resp.StatusCode
}

// TestBrowserUserChangesPasswordInPortal: alice logs in to the portal in
// Chromium and changes her password under Change Details; the old password
// stops working, her other open session ends, the browser's stays.
func TestBrowserUserChangesPasswordInPortal(t *testing.T) {
	e := newTestEnv(t)
	other := e.client()
	e.login(other, "user", "alice", alicePassword)

	ctx := browser.New(t)
	loginInBrowser(t, ctx, e.http.URL, "user", "alice", alicePassword, "#balance")
	const newPassword = "alice chose a fresh passphrase"
	err := chromedp.Do(ctx,
		chromedp.Click(`a[href="/user/details"]`),
		chromedp.WaitVisible("#current"),
		chromedp.SendKeys("#current", alicePassword),
		chromedp.SendKeys("#password", newPassword),
		chromedp.SendKeys("#password2", newPassword),
		chromedp.Click(`form[action="/user/details/password"] button[type="submit"]`),
		chromedp.WaitVisible(".flash"),
	)
	if err != nil {
		t.Fatalf("Change Details > Change Password: %v", err)
	}
	if msg := text(t, ctx, ".flash"); !strings.Contains(msg, "Your password was changed") {
		t.Fatalf("after the change the page says %q", msg)
	}
	if status, _, _ := e.get(other, "/user/"); status != http.StatusSeeOther {
		t.Errorf("alice's other session after the change: status %d, want a redirect to the login page", status)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.http.URL+"/user/"), chromedp.WaitVisible("#balance")); err != nil {
		t.Errorf("the browser's own session ended with the change: %v", err)
	}
	if status := e.tryLogin("user", "alice", alicePassword); status != http.StatusUnauthorized {
		t.Errorf("the old password: login status %d, want 401", status)
	}
	if status := e.tryLogin("user", "alice", newPassword); status != http.StatusSeeOther {
		t.Errorf("the new password: login status %d, want 303", status)
	}
}

// TestBrowserAdminResetsPassword: the admin opens alice under Users, sees
// the banner, follows Internal User Settings > Change Password and sets a
// new one (twice, no old password); alice's open session ends and the new
// password works.
func TestBrowserAdminResetsPassword(t *testing.T) {
	e := newTestEnv(t)
	alice := e.client()
	e.login(alice, "user", "alice", alicePassword)

	ctx := browser.New(t)
	loginInBrowser(t, ctx, e.http.URL, "admin", "admin", adminPassword, ".counts")
	if err := chromedp.Do(ctx, chromedp.Navigate(e.http.URL+"/admin/users/alice"), chromedp.WaitVisible("#ius")); err != nil {
		t.Fatalf("alice's details page has no Internal User Settings: %v", err)
	}
	if banner := text(t, ctx, ".banner"); banner != "This is an internally managed user" {
		t.Errorf("banner = %q", banner)
	}
	const reset = "set by the admin for alice"
	err := chromedp.Do(ctx,
		chromedp.Click(`section[aria-labelledby="ius"] a`),
		chromedp.WaitVisible("#password"),
		chromedp.SendKeys("#password", reset),
		chromedp.SendKeys("#password2", reset),
		chromedp.Click(`form[action="/admin/users/alice/password"] button[type="submit"]`),
		chromedp.WaitVisible(".flash"),
	)
	if err != nil {
		t.Fatalf("Internal User Settings > Change Password: %v", err)
	}
	if msg := text(t, ctx, ".flash"); !strings.Contains(msg, "Password of alice changed") {
		t.Errorf("after the reset the page says %q", msg)
	}
	if status, _, _ := e.get(alice, "/user/"); status != http.StatusSeeOther {
		t.Errorf("alice's session after the reset: status %d, want a redirect to the login page", status)
	}
	if status := e.tryLogin("user", "alice", alicePassword); status != http.StatusUnauthorized {
		t.Errorf("the old password: login status %d, want 401", status)
	}
	if status := e.tryLogin("user", "alice", reset); status != http.StatusSeeOther {
		t.Errorf("the reset password: login status %d, want 303", status)
	}
}

// TestBrowserDirectoryUserSeesNoChangePassword: dora, a directory user,
// logs in to the portal and is told where her password is managed; the
// admin's page for her has neither banner nor Change Password link.
func TestBrowserDirectoryUserSeesNoChangePassword(t *testing.T) {
	e := newDirectoryEnv(t)
	ctx := browser.New(t)
	loginInBrowser(t, ctx, e.http.URL, "user", "dora", doraPassword, "#balance")
	if err := chromedp.Do(ctx, chromedp.Navigate(e.http.URL+"/user/details"), chromedp.WaitVisible("#pw-h")); err != nil {
		t.Fatalf("Change Details: %v", err)
	}
	main := text(t, ctx, "main")
	if !strings.Contains(main, "managed by your organisation's directory") {
		t.Errorf("dora is not told where her password is managed:\n%s", main)
	}
	forms, err := chromedp.Run(ctx, chromedp.Nodes(`#current`, chromedp.AtLeast(0)))
	if err != nil || len(forms) != 0 {
		t.Errorf("dora sees a Change Password form (%d fields, err %v)", len(forms), err)
	}

	admin := browser.New(t)
	loginInBrowser(t, admin, e.http.URL, "admin", "admin", adminPassword, ".counts")
	if err := chromedp.Do(admin, chromedp.Navigate(e.http.URL+"/admin/users/dora"), chromedp.WaitVisible("h1")); err != nil {
		t.Fatal(err)
	}
	page := text(t, admin, "main")
	if strings.Contains(page, "This is an internally managed user") || strings.Contains(page, "Internal User Settings") || strings.Contains(page, "Change Password") {
		t.Errorf("dora's admin page offers an internal user's settings:\n%s", page)
	}
	if !strings.Contains(page, "password is managed in the directory") {
		t.Errorf("dora's admin page does not say where her password is managed:\n%s", page)
	}
}
