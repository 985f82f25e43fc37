package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/testenv/browser"
)

// TestBrowserAdminCreatesAndEditsAccount drives the admin pages in a real
// Chromium: log in as the built-in admin, create a shared account through
// the form, edit its notes and PIN, and read the change on its details page.
func TestBrowserAdminCreatesAndEditsAccount(t *testing.T) {
	e := newTestEnv(t)
	ctx := browser.New(t)
	err := chromedp.Do(ctx,
		logIn(e.http.URL+"/admin/", "admin", adminPassword, ".counts"),
		chromedp.Navigate(e.http.URL+"/admin/accounts/new"),
		chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", "Physics"),
		chromedp.SendKeys("#pin", "1234"),
		chromedp.SendKeys("#notes", "first notes"),
		chromedp.SendKeys("#balance", "25.50"),
		chromedp.Click("#create"),
		chromedp.WaitVisible("#edit"),
	)
	if err != nil {
		t.Fatalf("admin login and account creation: %v", err)
	}
	heading, balance := text(t, ctx, "h1"), text(t, ctx, "#account-balance")
	err = chromedp.Do(ctx,
		chromedp.Click("#edit"),
		chromedp.WaitVisible("#save"),
		chromedp.Clear("#pin"),
		chromedp.SendKeys("#pin", "98765"),
		chromedp.Clear("#notes"),
		chromedp.SendKeys("#notes", "room 2.14, Prof. Curie"),
		chromedp.Click("#save"),
		chromedp.WaitVisible("#account-pin"),
	)
	if err != nil {
		t.Fatalf("admin account edit: %v", err)
	}
	pin, notes := text(t, ctx, "#account-pin"), text(t, ctx, "#account-notes")
	if heading != "Shared account Physics" || balance != "$25.50" {
		t.Errorf("after create: heading %q, balance %q", heading, balance)
	}
	if pin != "set (stored hashed)" || notes != "room 2.14, Prof. Curie" {
		t.Errorf("after edit: pin %q, notes %q", pin, notes)
	}
	acc, err := e.store.AccountByName(context.Background(), "Physics")
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.store.HashAccountPIN(context.Background(), "98765")
	if err != nil {
		t.Fatal(err)
	}
	if acc.PINHash != want || acc.Notes != "room 2.14, Prof. Curie" {
		t.Errorf("stored account: pin %q (want the hash of 98765), notes %q", acc.PINHash, acc.Notes)
	}
}

// TestBrowserPortalLoginAndSummary: alice logs in to the user portal and
// sees her balance, her card number (allowed by the option) and the shared
// accounts open to everyone.
func TestBrowserPortalLoginAndSummary(t *testing.T) {
	e := newTestEnv(t)
	bg := context.Background()
	if err := e.core.SetConfigValues(bg, core.CLI, map[string]string{"user.allow-view-card": "Y"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.core.CreateAccount(bg, core.CLI, "Chemistry", nil); err != nil {
		t.Fatal(err)
	}
	acc, _ := e.store.AccountByName(bg, "Chemistry")
	acc.AccessGroups = []string{"[All Users]"}
	if err := e.core.UpdateAccount(bg, core.CLI, acc); err != nil {
		t.Fatal(err)
	}
	ctx := browser.New(t)
	err := chromedp.Do(ctx,
		logIn(e.http.URL+"/user/", "Alice", alicePassword, "#balance"),
	)
	if err != nil {
		t.Fatalf("portal login: %v", err)
	}
	balance, card, accounts := text(t, ctx, "#balance"), text(t, ctx, "#card"), text(t, ctx, "#accounts")
	if err := chromedp.Do(ctx, chromedp.Navigate(e.http.URL+"/user/details"), chromedp.WaitVisible("#current")); err != nil {
		t.Fatalf("portal Change Details: %v", err)
	}
	details := text(t, ctx, "main")
	if balance != "$0.00" || card != "4711" || !strings.Contains(accounts, "Chemistry") {
		t.Errorf("summary: balance %q, card %q, accounts %q", balance, card, accounts)
	}
	if !strings.Contains(details, "Change Password") {
		t.Errorf("Change Details of an internal user has no Change Password form:\n%s", details)
	}
}

// text reads the visible text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}
