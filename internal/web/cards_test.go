package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/mail"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/smtptest"
)

// newCardsEnv is the test server with the card service, its new-user hook
// and an outbox worker (driven by the test, not running on its own).
func newCardsEnv(t *testing.T) (*testEnv, *cards.Service, *mail.Worker) {
	t.Helper()
	e := newTestEnv(t)
	worker := mail.NewWorker(e.store, cards.SMTPConfig(e.core.Settings), e.core.Log)
	svc := cards.NewService(e.core, worker.Wake)
	e.core.NewUserHooks = append(e.core.NewUserHooks, svc.Hook())
	e.server.features = Features{Cards: svc, Mail: worker}
	return e, svc, worker
}

func TestCardOptionsPage(t *testing.T) {
	e, _, _ := newCardsEnv(t)
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	status, body, _ := e.get(c, "/admin/options/cards")
	if status != 200 || !strings.Contains(body, "1 in ") || !strings.Contains(body, "1 user, ") || !strings.Contains(body, "/admin/options/user-sync") {
		t.Fatalf("page %d:\n%s", status, body)
	}
	form := url.Values{"csrf": {token}, "length": {"8"}, "prefix": {"S"}, "luhn": {"on"}, "auto_generate": {"on"}, "converters": {"ascii-enc|hex2dec"}}
	if resp, body := e.post(c, "/admin/options/cards", form, nil); resp.StatusCode != 303 {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	ctx := context.Background()
	if got := e.core.Settings.Get(ctx, settings.CardConverters); got != "ascii-enc|hex2dec" || !e.core.Settings.Bool(ctx, settings.CardAutoGenerate) {
		t.Errorf("saved converters %q", got)
	}
	_, body, _ = e.get(c, "/admin/options/cards")
	if !strings.Contains(body, `id="card_example">S`) {
		t.Errorf("no example with the prefix:\n%s", body)
	}
	for _, bad := range []url.Values{
		{"csrf": {token}, "length": {"8"}, "converters": {"hex2oct"}},
		{"csrf": {token}, "length": {"5"}},
		{"csrf": {token}, "length": {"8"}, "prefix": {"a b"}},
	} {
		resp, body := e.post(c, "/admin/options/cards", bad, nil)
		if resp.StatusCode != 400 || !strings.Contains(body, "flash-error") {
			t.Errorf("%v: %d", bad, resp.StatusCode)
		}
	}
}

func TestNotificationsPageAndTestEmail(t *testing.T) {
	e, _, worker := newCardsEnv(t)
	srv := smtptest.StartWith(t, smtptest.Options{Auth: true})
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	status, body, _ := e.get(c, "/admin/options/notifications")
	if status != 200 || !strings.Contains(body, "%card_number%") || !strings.Contains(body, "Hello jsmith,") {
		t.Fatalf("page %d:\n%s", status, body)
	}
	form := url.Values{"csrf": {token}, "notify": {"on"}, "subject": {"Card for %full_name%"}, "body": {"Your number: %card_number%"},
		"host": {srv.Host()}, "port": {fmt.Sprint(srv.Port())}, "security": {"none"}, "username": {srv.Username()},
		"password": {srv.Password()}, "from": {"Print Room <print@example.org>"}}
	form.Set("action", "preview")
	resp, body := e.post(c, "/admin/options/notifications", form, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Card for Jane Smith") || !strings.Contains(body, "Your number: 482913375510") {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
	}
	if e.core.Settings.Bool(context.Background(), settings.NotifyCardGenerated) {
		t.Fatal("the preview saved the settings")
	}
	form.Set("action", "save")
	if resp, body := e.post(c, "/admin/options/notifications", form, nil); resp.StatusCode != 303 {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	_, body, _ = e.get(c, "/admin/options/notifications")
	if strings.Contains(body, srv.Password()) || !strings.Contains(body, "leave empty to keep") {
		t.Error("the SMTP password is shown back")
	}
	// Saving without typing the password keeps it.
	form.Set("password", "")
	e.post(c, "/admin/options/notifications", form, nil)
	if e.core.Settings.Get(context.Background(), settings.SMTPPassword) != srv.Password() {
		t.Error("an empty password field removed the password")
	}

	form = url.Values{"csrf": {token}, "action": {"test"}, "test_address": {"it@example.org"}}
	if resp, body := e.post(c, "/admin/options/notifications", form, nil); resp.StatusCode != 303 || resp.Header.Get("Location") != "/admin/logs/mail" {
		t.Fatalf("test email: %d\n%s", resp.StatusCode, body)
	}
	_, body, _ = e.get(c, "/admin/logs/mail")
	if !strings.Contains(body, "it@example.org") || !strings.Contains(body, "Ream test email") || !strings.Contains(body, "waiting") {
		t.Errorf("outbox page before delivery:\n%s", body)
	}
	if res, err := worker.DeliverDue(context.Background()); err != nil || res.Sent != 1 {
		t.Fatalf("delivery: %+v, %v", res, err)
	}
	if got := srv.WaitFor(1, 10*time.Second); got[0].To[0] != "it@example.org" || got[0].AuthUser != srv.Username() {
		t.Errorf("arrived: %+v", got[0])
	}
	_, body, _ = e.get(c, "/admin/logs/mail?q=sent")
	if !strings.Contains(body, "it@example.org") || !strings.Contains(body, `class="state-sent"`) {
		t.Errorf("outbox page after delivery:\n%s", body)
	}
	resp, body = e.post(c, "/admin/options/notifications", url.Values{"csrf": {token}, "action": {"test"}, "test_address": {"nobody"}}, nil)
	if resp.StatusCode != 400 || !strings.Contains(body, "not an email address") {
		t.Errorf("bad test address: %d", resp.StatusCode)
	}
}

func TestMailOutboxRetry(t *testing.T) {
	e, _, worker := newCardsEnv(t)
	srv := smtptest.Start(t)
	srv.FailNext(1, 550)
	set := map[string]string{settings.SMTPHost: srv.Host(), settings.SMTPPort: fmt.Sprint(srv.Port()), settings.SMTPSecurity: "none", settings.SMTPFrom: "ream@example.org"}
	if err := e.core.SetConfigValues(context.Background(), core.CLI, set); err != nil {
		t.Fatal(err)
	}
	err := e.store.InTx(context.Background(), func(tx *store.Tx) error {
		return mail.Queue(context.Background(), tx, "ream@example.org", mail.Outgoing{Kind: "test", To: "x@example.org", Subject: "Hi", Body: "x"})
	})
	if err != nil {
		t.Fatal(err)
	}
	worker.DeliverDue(context.Background())
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	_, body, _ := e.get(c, "/admin/logs/mail?q=failed")
	if !strings.Contains(body, "550") || !strings.Contains(body, "Retry") {
		t.Fatalf("failed message not shown with its reason:\n%s", body)
	}
	if _, body, _ := e.get(c, "/admin/logs/mail?q=bogus"); !strings.Contains(body, "unknown mail state") {
		t.Error("a bogus state filter was accepted")
	}
	list, _, _ := e.store.ListOutbox(context.Background(), "failed", 0, 1)
	resp, _ := e.post(c, fmt.Sprintf("/admin/logs/mail/%d/retry", list[0].ID), url.Values{"csrf": {token}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("retry: %d", resp.StatusCode)
	}
	if res, _ := worker.DeliverDue(context.Background()); res.Sent != 1 {
		t.Errorf("after retry: %+v", res)
	}
}

func TestBulkUserActionsOverHTTP(t *testing.T) {
	e, _, _ := newCardsEnv(t)
	err := e.store.InTx(context.Background(), func(tx *store.Tx) error {
		g := &model.Group{Name: "Lab"}
		if err := tx.CreateGroup(context.Background(), g); err != nil {
			return err
		}
		for _, name := range []string{"l1", "l2"} {
			u := &model.User{Username: name}
			if err := tx.CreateUser(context.Background(), u); err != nil {
				return err
			}
			if err := tx.AddGroupMember(context.Background(), g.ID, u.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	resp, body := e.post(c, "/admin/groups/bulk", url.Values{"csrf": {token}, "group": {"Lab"}, "scope": {"all"}, "action": {"preview"}}, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "2 users will be changed") {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
	}
	if u, _ := e.store.UserByName(context.Background(), "l1"); u.PrimaryCard != "" {
		t.Fatal("the preview changed a user")
	}
	resp, body = e.post(c, "/admin/groups/bulk", url.Values{"csrf": {token}, "group": {"Lab"}, "scope": {"all"}, "action": {"apply"}}, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Generated 2 primary Card/ID numbers for 2 selected users.") {
		t.Fatalf("apply: %d\n%s", resp.StatusCode, body)
	}
	resp, body = e.post(c, "/admin/groups/bulk", url.Values{"csrf": {token}, "group": {"Nope"}, "action": {"preview"}}, nil)
	if resp.StatusCode != 400 || !strings.Contains(body, "does not exist") {
		t.Errorf("unknown group: %d", resp.StatusCode)
	}
	resp, _ = e.post(c, "/admin/groups/bulk", url.Values{"csrf": {token}, "users": {"alice, l1"}, "scope": {"blank"}, "action": {"preview"}}, nil)
	if resp.StatusCode != 200 {
		t.Errorf("users preview: %d", resp.StatusCode)
	}
}
