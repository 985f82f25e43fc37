package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/testenv/browser"
	"github.com/reamprint/ream/internal/testenv/slapd"
)

// TestBrowserDelegatedAdmins: dora, a directory user whose group Staff has
// only Shared accounts: adjust balances on Physics, logs in at /admin with
// her directory password, sees Physics and its sub-account only, adjusts
// a balance, is told why Shared Account Sync is closed to her, and a
// guessed address of another account answers 404. An internal user with
// only Users: internal users resets another internal user's password.
func TestBrowserDelegatedAdmins(t *testing.T) {
	dir := slapd.Start(t, syncDirectoryLDIF)
	h, st, svc := newUserSyncEnv(t)
	c, bg := svc.Core, context.Background()
	admin := browser.New(t)
	err := chromedp.Do(admin,
		logIn(h.URL+"/admin/", "admin", adminPassword, ".counts"),
		chromedp.Navigate(h.URL+"/admin/options/user-sync"),
		chromedp.WaitVisible("#source_ldap"),
		chromedp.Click("#source_ldap"),
		chromedp.SetValue("#url", dir.URL),
		chromedp.SetValue("#bind_dn", "cn=reader,dc=example,dc=org"),
		chromedp.SendKeys("#bind_password", "reader-secret"),
		chromedp.SetValue("#base_dn", dir.BaseDN),
		chromedp.Click("#test"),
		chromedp.WaitVisible("#plan"),
		// The typed password is not sent back; type it again to save and run.
		chromedp.SendKeys("#bind_password", "reader-secret"),
		chromedp.Click("#sync"),
		chromedp.WaitVisible("#sync-outcome"),
		chromedp.Navigate(h.URL+"/admin/groups/directory"),
		chromedp.WaitVisible("table"),
		chromedp.Click(`button[value="track"]`),
		chromedp.WaitVisible(`button[value="untrack"]`),
	)
	if err != nil {
		t.Fatalf("sync of the directory: %v", err)
	}
	ids := map[string]int64{}
	for _, name := range []string{"Physics", `Physics\Lab`, "Chemistry"} {
		a, err := c.CreateAccount(bg, core.CLI, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = a.ID
	}
	if err := c.ChangeAdminAccess(bg, core.CLI, "group", "Staff", true); err != nil {
		t.Fatal(err)
	}
	setRole(t, c, "group", "Staff", adminRole{rights: []model.AdminRight{model.RightAccountsBalance}, scope: model.ScopeAccounts})

	dora := browser.New(t)
	if err := chromedp.Do(dora, logIn(h.URL+"/admin/", "dora", "dora-directory-pass", "table")); err != nil {
		t.Fatalf("dora's admin login: %v", err)
	}
	if list := text(t, dora, "main"); !strings.Contains(list, "Physics") || !strings.Contains(list, `Physics\Lab`) || strings.Contains(list, "Chemistry") {
		t.Errorf("dora's account list:\n%s", list)
	}
	if menu := text(t, dora, "header"); strings.Contains(menu, "Users") || strings.Contains(menu, "Options") {
		t.Errorf("dora's menu shows areas she may not open:\n%s", menu)
	}
	err = chromedp.Do(dora,
		chromedp.Navigate(fmt.Sprintf("%s/admin/accounts/%d", h.URL, ids[`Physics\Lab`])),
		chromedp.WaitVisible("#adjust-balance"),
		chromedp.SendKeys(`#adjust-balance input[name="adjust"]`, "12.50"),
		chromedp.SendKeys(`#adjust-balance input[name="comment"]`, "term top-up"),
		chromedp.Click(`#adjust-balance button[type="submit"]`),
		chromedp.WaitVisible(".flash"),
	)
	if err != nil {
		t.Fatalf("dora adjusts Lab: %v", err)
	}
	if got := text(t, dora, "#account-balance"); !strings.Contains(got, "12.50") {
		t.Errorf("Lab's balance on the page: %q", got)
	}
	if lab, err := st.AccountByID(bg, ids[`Physics\Lab`]); err != nil || lab.Balance.String() != "12.50" {
		t.Fatalf("Lab in the store: %v, %v", lab, err)
	}
	if err := chromedp.Do(dora, chromedp.Navigate(h.URL+"/admin/accounts/sync"), chromedp.WaitVisible("main")); err != nil {
		t.Fatal(err)
	}
	if reason := text(t, dora, "main"); !strings.Contains(reason, "Your admin rights do not include this page") && !strings.Contains(reason, refusedScope) {
		t.Errorf("Shared Account Sync for dora: %q", reason)
	}
	if err := chromedp.Do(dora, chromedp.Navigate(fmt.Sprintf("%s/admin/accounts/%d", h.URL, ids["Chemistry"])), chromedp.WaitVisible("main")); err != nil {
		t.Fatal(err)
	}
	if got := text(t, dora, "main"); !strings.Contains(got, fmt.Sprintf("There is no shared account #%d.", ids["Chemistry"])) {
		t.Errorf("a guessed address of Chemistry: %q", got)
	}

	// An internal user with only Users: internal users resets a password.
	for _, u := range []string{"helpdesk", "carol"} {
		if _, err := c.CreateInternalUser(bg, core.CLI, core.NewInternalUser{Username: u, Password: alicePassword}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.ChangeAdminAccess(bg, core.CLI, "user", "helpdesk", true); err != nil {
		t.Fatal(err)
	}
	setRole(t, c, "user", "helpdesk", adminRole{rights: []model.AdminRight{model.RightUsersInternal}, scope: model.ScopeAll})
	helpdesk := browser.New(t)
	const reset = "set by the help desk for carol"
	err = chromedp.Do(helpdesk,
		logIn(h.URL+"/admin/", "helpdesk", alicePassword, "main table"),
		chromedp.Navigate(h.URL+"/admin/users/carol/password"),
		chromedp.WaitVisible("#password"),
		chromedp.SendKeys("#password", reset),
		chromedp.SendKeys("#password2", reset),
		chromedp.Click(`form[action="/admin/users/carol/password"] button[type="submit"]`),
		chromedp.WaitVisible(".flash"),
	)
	if err != nil {
		t.Fatalf("helpdesk resets carol's password: %v", err)
	}
	if msg := text(t, helpdesk, ".flash"); !strings.Contains(msg, "Password of carol changed") {
		t.Errorf("after the reset the page says %q", msg)
	}
	carol, err := st.UserByName(bg, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := c.Hasher.Verify(bg, carol.PasswordHash, reset); err != nil || !ok {
		t.Errorf("carol's new password does not verify: %v", err)
	}
	entries, _, err := st.AuditLog(bg, "carol", 0, 5)
	if err != nil || len(entries) == 0 || entries[0].Actor != "helpdesk" {
		t.Errorf("audit of the reset: %+v, %v", entries, err)
	}
}
