package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/browser"
)

// TestBrowserBulkUserActions drives Groups > Bulk User Actions in a real
// browser: choose a group, preview ("N users will be changed"), OK.
func TestBrowserBulkUserActions(t *testing.T) {
	e, _, _ := newCardsEnv(t)
	bg := context.Background()
	err := e.store.InTx(bg, func(tx *store.Tx) error {
		g := &model.Group{Name: "Physics"}
		if err := tx.CreateGroup(bg, g); err != nil {
			return err
		}
		for _, u := range []*model.User{{Username: "p1"}, {Username: "p2", PrimaryCard: "2222"}, {Username: "p3"}} {
			if err := tx.CreateUser(bg, u); err != nil {
				return err
			}
			if err := tx.AddGroupMember(bg, g.ID, u.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := browser.New(t)
	err = chromedp.Do(ctx,
		logIn(e.http.URL+"/admin/", "admin", adminPassword, ".counts"),
		chromedp.Navigate(e.http.URL+"/admin/groups/bulk"),
		chromedp.WaitVisible("#group"),
		chromedp.SendKeys("#group", "Physics"),
		chromedp.Click("#scope_blank"),
		chromedp.Click("#bulk_preview_button"),
		chromedp.WaitVisible("#bulk_count"),
	)
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	if got := text(t, ctx, "#bulk_count"); got != "2 users will be changed" {
		t.Errorf("preview says %q", got)
	}
	if u, _ := e.store.UserByName(bg, "p1"); u.PrimaryCard != "" {
		t.Fatal("the preview changed a user")
	}
	err = chromedp.Do(ctx, chromedp.Click("#bulk_ok"), chromedp.WaitVisible("#bulk_result"))
	if err != nil {
		t.Fatalf("OK: %v", err)
	}
	if got := text(t, ctx, "#bulk_result"); !strings.Contains(got, "Generated 2 primary Card/ID numbers for 3 selected users.") {
		t.Errorf("result says %q", got)
	}
	p1, _ := e.store.UserByName(bg, "p1")
	p2, _ := e.store.UserByName(bg, "p2")
	if len(p1.PrimaryCard) != 12 || p2.PrimaryCard != "2222" {
		t.Errorf("after the action p1 has %q, p2 %q", p1.PrimaryCard, p2.PrimaryCard)
	}
	if entries, _, _ := e.store.AuditLog(bg, "cards.bulk-generate", 0, 10); len(entries) != 1 || entries[0].Actor != "admin" {
		t.Errorf("audit: %+v", entries)
	}
}

// TestBrowserPortalCardView logs a user in to the portal: the Summary shows
// the chosen Card/ID number only while the option allows it.
func TestBrowserPortalCardView(t *testing.T) {
	e, _, _ := newCardsEnv(t)
	bg := context.Background()
	if err := e.core.SetCard(bg, core.CLI, "alice", store.SecondaryCard, "AB12"); err != nil {
		t.Fatal(err)
	}
	ctx := browser.New(t)
	err := chromedp.Do(ctx,
		logIn(e.http.URL+"/user/", "alice", alicePassword, "#balance"),
	)
	if err != nil {
		t.Fatalf("portal login: %v", err)
	}
	if body := text(t, ctx, "main"); strings.Contains(body, "4711") {
		t.Errorf("the card is shown while the option is off:\n%s", body)
	}
	for _, tc := range []struct{ field, want string }{{"primary", "4711"}, {"secondary", "AB12"}} {
		values := map[string]string{settings.UserViewCard: "Y", settings.UserViewCardField: tc.field}
		if err := e.core.SetConfigValues(bg, core.CLI, values); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(e.http.URL+"/user/"), chromedp.WaitVisible("#card")); err != nil {
			t.Fatalf("%s card: %v", tc.field, err)
		}
		if got := text(t, ctx, "#card"); got != tc.want {
			t.Errorf("%s card shown as %q, want %q", tc.field, got, tc.want)
		}
	}
}
