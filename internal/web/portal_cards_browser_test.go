package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/tasks"
	"github.com/reamprint/ream/internal/testenv/browser"
	"github.com/reamprint/ream/internal/testenv/slapd"
	"github.com/reamprint/ream/internal/testenv/smtptest"
	"github.com/reamprint/ream/internal/usersync"
)

// TestBrowserPortalCardSelfService drives the self-service Card/ID numbers
// in a real Chromium: with the options on, alice registers a card, sees
// it, generates a new primary number (its notification arrives through a
// real SMTP conversation), and bob trying alice's number gets the neutral
// refusal.
func TestBrowserPortalCardSelfService(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) { testBrowserPortalCardSelfService(t, db == "postgres") })
	}
}

func testBrowserPortalCardSelfService(t *testing.T, postgres bool) {
	srv := smtptest.Start(t)
	e, _ := newSelfServiceEnv(t, postgres, map[string]string{
		settings.UserViewCard: "Y", settings.UserViewCardField: "secondary",
		settings.NotifyCardGenerated: "Y", settings.NotifyCardBody: "Hello %user%, your new number is %card_number%.",
		settings.SMTPHost: srv.Host(), settings.SMTPPort: fmt.Sprint(srv.Port()), settings.SMTPSecurity: "none",
		settings.SMTPFrom: "Print Room <print@example.org>",
	})
	bg := context.Background()
	if err := e.core.SetUserProperties(bg, core.CLI, "alice", []core.UserPropertyChange{{Name: "email", Value: "alice@example.org"}}); err != nil {
		t.Fatal(err)
	}
	worker := e.server.features.Mail

	ctx := browser.New(t)
	err := chromedp.Do(ctx,
		logIn(e.http.URL+"/user/", "alice", alicePassword, "#balance"),
		chromedp.Navigate(e.http.URL+"/user/details"),
		chromedp.WaitVisible("#card_number"),
		chromedp.SendKeys("#card_number", "3344556677"),
		chromedp.Click("#register_card"),
		chromedp.WaitVisible("#registered_card_masked"),
	)
	if err != nil {
		t.Fatalf("register a card: %v", err)
	}
	flash, masked := text(t, ctx, ".flash-ok"), text(t, ctx, "#registered_card_masked")
	if flash != "Your card was registered as your secondary Card/ID number." || masked != "******6677" {
		t.Errorf("after registering: flash %q, number shown as %q", flash, masked)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.http.URL+"/user/"), chromedp.WaitVisible("#card")); err != nil {
		t.Fatalf("summary: %v", err)
	}
	if got := text(t, ctx, "#card"); got != "3344556677" {
		t.Errorf("summary shows the secondary number as %q", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(e.http.URL+"/user/details"),
		chromedp.WaitVisible("#generate_card"),
		chromedp.Click("#generate_card"),
		chromedp.WaitVisible("#new_card_number"),
	)
	if err != nil {
		t.Fatalf("generate a number: %v", err)
	}
	number, note := text(t, ctx, "#new_card_number"), text(t, ctx, "#new_card")
	alice, _ := e.store.UserByName(bg, "alice")
	if alice.PrimaryCard != number || len(number) != 12 || number == "4711" || !strings.Contains(note, "sent to you by email") {
		t.Fatalf("generated %q (page: %q), stored %q", number, note, alice.PrimaryCard)
	}
	if res, err := worker.DeliverDue(bg); err != nil || res.Sent != 1 {
		t.Fatalf("delivery: %+v, %v", res, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "alice@example.org" || !strings.Contains(string(msgs[0].Data), "Hello alice, your new number is "+number+".") {
		t.Errorf("notification: %+v", msgs)
	}

	other := browser.New(t)
	err = chromedp.Do(other,
		logIn(e.http.URL+"/user/", "bob", bobPassword, "#balance"),
		chromedp.Navigate(e.http.URL+"/user/details"),
		chromedp.WaitVisible("#card_number"),
		chromedp.SendKeys("#card_number", "3344556677"),
		chromedp.Click("#register_card"),
		chromedp.WaitVisible(".flash-error"),
	)
	if err != nil {
		t.Fatalf("bob registers alice's number: %v", err)
	}
	if got := text(t, other, ".flash-error"); got != cards.RefusalText {
		t.Errorf("bob is told %q", got)
	}
	if bob, _ := e.store.UserByName(bg, "bob"); bob.SecondaryCard != "" {
		t.Errorf("bob got a secondary number %q", bob.SecondaryCard)
	}
	if owner, _ := e.store.UsernameByCard(bg, "3344556677"); owner != "alice" {
		t.Errorf("3344556677 belongs to %q", owner)
	}
}

// TestBrowserDirectoryUserCannotChangeCard: a user synced from a real
// OpenLDAP, whose primary number comes from its employeeNumber, is told in
// the portal that the directory manages it and is offered no form.
func TestBrowserDirectoryUserCannotChangeCard(t *testing.T) {
	dir := slapd.Start(t, syncDirectoryLDIF)
	e, svc, _ := newCardsEnv(t)
	bg := context.Background()
	err := e.store.InTx(bg, func(tx *store.Tx) error {
		for k, v := range map[string]string{
			settings.UserSyncSource: "ldap", settings.UserSyncLDAPURL: dir.URL, settings.UserSyncLDAPBaseDN: dir.BaseDN,
			settings.UserSyncLDAPBindDN: "cn=reader,dc=example,dc=org", settings.UserSyncLDAPBindPW: "reader-secret",
			settings.UserRegisterCard: "Y", settings.UserRegisterField: "primary", settings.UserGenerateCard: "Y",
		} {
			if err := e.core.Settings.Set(bg, tx, k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	runner := tasks.New(bg, e.store, e.core.Log)
	t.Cleanup(runner.Wait)
	sync := usersync.New(e.core, runner)
	if _, err := sync.Run(bg, core.CLI, sync.OptionsFromSettings(bg), false, nil); err != nil {
		t.Fatalf("user sync: %v", err)
	}
	if dora, err := e.store.UserByName(bg, "dora"); err != nil || dora.PrimaryCard != "700001" {
		t.Fatalf("dora after the sync: %+v, %v", dora, err)
	}
	svc.DirectoryManages = func(ctx context.Context, u *model.User, slot int) bool {
		return usersync.ManagesCard(ctx, e.core.Settings, u, slot)
	}
	srv, err := New(Deps{Core: e.core, Store: e.store, Settings: e.core.Settings, Config: e.core.Config, Log: e.core.Log,
		LoginLimiter: e.limiter, Authenticator: sync, Features: Features{Cards: svc, UserSync: sync}})
	if err != nil {
		t.Fatal(err)
	}
	e.server = srv
	e.http.Config.Handler = srv.Handler()

	ctx := browser.New(t)
	err = chromedp.Do(ctx,
		logIn(e.http.URL+"/user/", "dora", "dora-directory-pass", "#balance"),
		chromedp.Navigate(e.http.URL+"/user/details"),
		chromedp.WaitVisible("#register_managed"),
	)
	if err != nil {
		t.Fatalf("dora's Change Details: %v", err)
	}
	page := text(t, ctx, "main")
	for _, want := range []string{"Your primary Card/ID number is managed by your organisation's directory.", "Register a card", "Generate a new number"} {
		if !strings.Contains(page, want) {
			t.Errorf("dora's page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "Register card") || strings.Contains(page, "Replaces your primary Card/ID number") {
		t.Errorf("dora is offered a form for the directory's number:\n%s", page)
	}

	c := e.client()
	e.login(c, "admin", "admin", adminPassword)
	_, adminPage, _ := e.get(c, "/admin/users/dora")
	if !strings.Contains(adminPage, "(from the directory (user/group sync), ") {
		t.Errorf("the admin's page of dora does not say the number came from the directory")
	}
}
