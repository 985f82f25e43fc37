package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/mail"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/passwordlink"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/reamtest"
	"github.com/reamprint/ream/internal/testenv/smtptest"
)

// linksEnv is the test server with the password links, the card service
// and an outbox worker (driven by the test) sending to a real SMTP server.
type linksEnv struct {
	*testEnv
	links  *passwordlink.Service
	worker *mail.Worker
	smtp   *smtptest.Server
}

func newLinksEnv(t *testing.T, postgres bool, extra map[string]string) *linksEnv {
	t.Helper()
	e := newTestEnvOn(t, reamtest.Store(t, postgres))
	srv := smtptest.Start(t)
	worker := mail.NewWorker(e.store, cards.SMTPConfig(e.core.Settings), e.core.Log)
	links := passwordlink.New(e.core, worker.Wake)
	e.server.features = Features{Cards: cards.NewService(e.core, worker.Wake), Mail: worker, PasswordLinks: links}
	ctx := context.Background()
	values := map[string]string{
		settings.PublicURL: e.http.URL, settings.SMTPHost: srv.Host(), settings.SMTPPort: fmt.Sprint(srv.Port()),
		settings.SMTPSecurity: "none", settings.SMTPFrom: "Print Room <print@example.org>",
	}
	for k, v := range extra {
		values[k] = v
	}
	if err := e.core.SetConfigValues(ctx, core.CLI, values); err != nil {
		t.Fatal(err)
	}
	if err := e.core.SetUserProperties(ctx, core.CLI, "alice", []core.UserPropertyChange{{Name: "email", Value: "alice@example.org"}}); err != nil {
		t.Fatal(err)
	}
	return &linksEnv{testEnv: e, links: links, worker: worker, smtp: srv}
}

// deliver waits for the requests answered so far, delivers the outbox
// and returns every message the SMTP server has received.
func (e *linksEnv) deliver() []smtptest.Message {
	e.t.Helper()
	e.links.Wait()
	if _, err := e.worker.DeliverDue(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return e.smtp.Messages()
}

// forgot asks for a reset link for ident with client c.
func (e *linksEnv) forgot(c *http.Client, ident string) (int, string) {
	e.t.Helper()
	_, _, token := e.get(c, "/user/login")
	resp, body := e.post(c, "/user/login/forgot", url.Values{"csrf": {token}, "identifier": {ident}}, nil)
	return resp.StatusCode, body
}

// mailText is a delivered message's subject and decoded body.
func mailText(t *testing.T, m smtptest.Message) (subject, body string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return msg.Header.Get("Subject"), string(b)
}

var linkPattern = regexp.MustCompile(`https?://\S+/user/login/reset\?token=[A-Za-z0-9_-]+`)

// linkIn returns the one link of a delivered message.
func linkIn(t *testing.T, m smtptest.Message) string {
	t.Helper()
	_, body := mailText(t, m)
	links := linkPattern.FindAllString(body, -1)
	if len(links) != 1 {
		t.Fatalf("want one link in the mail, found %q in:\n%s", links, body)
	}
	return links[0]
}

// pathOf is a link's path and query, for the test client.
func pathOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// setPassword posts the new password form of a link's page.
func (e *linksEnv) setPassword(c *http.Client, link, pw, again string) (int, string) {
	e.t.Helper()
	u, _ := url.Parse(link)
	_, _, csrf := e.get(c, "/user/login")
	resp, body := e.post(c, "/user/login/reset", url.Values{"csrf": {csrf}, "token": {u.Query().Get("token")}, "password": {pw}, "password2": {again}}, nil)
	return resp.StatusCode, body
}

func audited(t *testing.T, e *testEnv, action string) []model.AuditEntry {
	t.Helper()
	entries, _, err := e.store.AuditLog(context.Background(), action, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []model.AuditEntry
	for _, en := range entries {
		if en.Action == action {
			out = append(out, en)
		}
	}
	return out
}

func bothDatabases(t *testing.T, f func(t *testing.T, postgres bool)) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) { f(t, db == "postgres") })
	}
}

// TestPasswordResetOverHTTP: the whole reset flow over HTTP, through a
// real SMTP conversation: one answer for a name that exists and one that
// does not, the mail and its link, a refused weak password that leaves the
// link usable, the new password, every old session ended, the link dead
// after one use, and clear pages for bad links.
func TestPasswordResetOverHTTP(t *testing.T) {
	bothDatabases(t, func(t *testing.T, postgres bool) {
		e := newLinksEnv(t, postgres, nil)
		ctx := context.Background()
		old := e.client()
		e.login(old, "user", "alice", alicePassword)

		c := e.client()
		_, login, _ := e.get(c, "/user/login")
		if !strings.Contains(login, `href="/user/login/forgot"`) {
			t.Fatalf("the login page offers no Forgot your password?:\n%s", login)
		}
		status, known := e.forgot(c, "Alice")
		if status != http.StatusOK || !strings.Contains(known, forgotAnswer) {
			t.Fatalf("request for alice: %d\n%s", status, known)
		}
		status, unknown := e.forgot(c, "nobody-at-all")
		if status != http.StatusOK || unknown != known {
			t.Errorf("the answer for an unknown name differs from alice's (status %d)", status)
		}
		msgs := e.deliver()
		if len(msgs) != 1 || msgs[0].To[0] != "alice@example.org" {
			t.Fatalf("delivered %+v, want one mail to alice", msgs)
		}
		subject, body := mailText(t, msgs[0])
		link := linkIn(t, msgs[0])
		if subject != "Reset your print account password" || !strings.Contains(body, "Hello Alice Example,") || !strings.HasPrefix(link, e.http.URL+"/user/login/reset?token=") ||
			!strings.Contains(body, "(for 1 hour)") {
			t.Errorf("mail: %q\n%s", subject, body)
		}
		token := strings.TrimPrefix(link, e.http.URL+"/user/login/reset?token=")
		if _, err := e.store.PasswordTokenByHash(ctx, token); err == nil {
			t.Error("the token is stored in clear")
		}
		if p, err := e.store.PasswordTokenByHash(ctx, auth.TokenHash(token)); err != nil || p.Purpose != "reset" {
			t.Errorf("the token's hash: %+v, %v", p, err)
		}
		entries, _, _ := e.store.AuditLog(ctx, "", 0, 500)
		for _, en := range entries {
			if strings.Contains(en.Detail, token) || strings.Contains(en.Target, token) {
				t.Errorf("the token is in the audit log: %+v", en)
			}
		}
		sent, _, err := e.store.ListOutbox(ctx, store.MailSent, 0, 10)
		if err != nil || len(sent) != 1 || sent[0].Body != "" {
			t.Errorf("the sent reset mail keeps its body (the live link) in the outbox: %+v, %v", sent, err)
		}
		if got := audited(t, e.testEnv, "user.password-reset.unknown"); len(got) != 1 || got[0].Target != "nobody-at-all" {
			t.Errorf("unknown name audited as %+v", got)
		}

		status, page, _ := e.get(c, pathOf(t, link))
		if status != http.StatusOK || !strings.Contains(page, `id="reset_user">alice<`) {
			t.Fatalf("link page: %d\n%s", status, page)
		}
		if status, page := e.setPassword(c, link, "password", "password"); status != http.StatusBadRequest || !strings.Contains(page, "common") {
			t.Errorf("a common password: %d, want the rule named:\n%s", status, page)
		}
		if status, page := e.setPassword(c, link, "short", "short"); status != http.StatusBadRequest || !strings.Contains(page, "at least 8 characters") {
			t.Errorf("a short password: %d, want the rule named:\n%s", status, page)
		}
		if status, _ := e.setPassword(c, link, "alice picked a new one", "alice picked another"); status != http.StatusBadRequest {
			t.Errorf("two different passwords: %d", status)
		}
		const newPassword = "alice picked a new one"
		if status, page := e.setPassword(c, link, newPassword, newPassword); status != http.StatusSeeOther {
			t.Fatalf("the new password: %d\n%s", status, page)
		}
		if status, _, _ := e.get(old, "/user/"); status != http.StatusSeeOther {
			t.Errorf("alice's old session after the reset: %d, want it ended", status)
		}
		if st := e.tryLogin("user", "alice", alicePassword); st != http.StatusUnauthorized {
			t.Errorf("the old password: %d", st)
		}
		if st := e.tryLogin("user", "alice", newPassword); st != http.StatusSeeOther {
			t.Errorf("the new password: %d", st)
		}
		if got := audited(t, e.testEnv, "user.password.reset"); len(got) != 1 || got[0].Target != "alice" || got[0].Actor != "alice" || got[0].Address == "" {
			t.Errorf("the reset is audited as %+v", got)
		}

		// Twice: refused, and the password stays.
		status, page, _ = e.get(c, pathOf(t, link))
		if status != http.StatusGone || !strings.Contains(page, "already used") {
			t.Errorf("the link again: %d\n%s", status, page)
		}
		if status, page := e.setPassword(c, link, "a third password here", "a third password here"); status != http.StatusGone || !strings.Contains(page, "already used") {
			t.Errorf("posting the used link: %d\n%s", status, page)
		}
		if st := e.tryLogin("user", "alice", newPassword); st != http.StatusSeeOther {
			t.Errorf("the password after a second use of the link: %d", st)
		}

		for _, bad := range []string{"", "abc", "%00%0A", strings.Repeat("A", 43), strings.Repeat("é", 30), "<script>alert(1)</script>"} {
			status, page, _ := e.get(c, "/user/login/reset?token="+bad)
			if status != http.StatusNotFound || !strings.Contains(page, "This link is not valid") || strings.Contains(page, "goroutine") || strings.Contains(page, "<script>alert") {
				t.Errorf("token %q: %d\n%s", bad, status, page)
			}
		}
		// No form without the login form's CSRF value.
		resp, _ := e.post(e.client(), "/user/login/forgot", url.Values{"identifier": {"alice"}}, nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("forgot without CSRF: %d", resp.StatusCode)
		}
		resp, _ = e.post(e.client(), "/user/login/reset", url.Values{"token": {token}, "password": {"x"}}, nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("reset without CSRF: %d", resp.StatusCode)
		}
	})
}

// TestPasswordResetLinkExpires: a link opened after its time says so and
// sets nothing.
func TestPasswordResetLinkExpires(t *testing.T) {
	bothDatabases(t, func(t *testing.T, postgres bool) {
		e := newLinksEnv(t, postgres, map[string]string{settings.PasswordResetMinutes: "30"})
		c := e.client()
		e.forgot(c, "alice@example.org")
		msgs := e.deliver()
		if len(msgs) != 1 {
			t.Fatalf("delivered %d", len(msgs))
		}
		link := linkIn(t, msgs[0])
		if _, body := mailText(t, msgs[0]); !strings.Contains(body, "(for 30 minutes)") {
			t.Errorf("mail does not say 30 minutes:\n%s", body)
		}
		e.links.Now = func() time.Time { return time.Now().Add(31 * time.Minute) }
		status, page, _ := e.get(c, pathOf(t, link))
		if status != http.StatusGone || !strings.Contains(page, "This link has expired") {
			t.Errorf("expired link: %d\n%s", status, page)
		}
		if status, _ := e.setPassword(c, link, "too late for this one", "too late for this one"); status != http.StatusGone {
			t.Errorf("posting an expired link: %d", status)
		}
		if st := e.tryLogin("user", "alice", alicePassword); st != http.StatusSeeOther {
			t.Errorf("alice's password after an expired link: %d", st)
		}
	})
}

// TestPasswordResetRateLimits: per name typed (known or not, the same),
// per user however named (silently: the answer stays the same), and per
// client address.
func TestPasswordResetRateLimits(t *testing.T) {
	bothDatabases(t, func(t *testing.T, postgres bool) {
		e := newLinksEnv(t, postgres, nil)
		c := e.client()
		for _, name := range []string{"alice", "ghost"} {
			for i := range 3 {
				if status, _ := e.forgot(c, name); status != http.StatusOK {
					t.Fatalf("request %d for %s: %d", i+1, name, status)
				}
			}
			if status, body := e.forgot(c, name); status != http.StatusTooManyRequests || !strings.Contains(body, "Too many requests") {
				t.Errorf("4th request for %s: %d", name, status)
			}
		}
		// alice's own budget is spent: asking by her address is answered
		// as always, and sends nothing.
		if status, body := e.forgot(c, "alice@example.org"); status != http.StatusOK || !strings.Contains(body, forgotAnswer) {
			t.Errorf("request by alice's address: %d", status)
		}
		if msgs := e.deliver(); len(msgs) != 3 {
			t.Errorf("delivered %d mails, want 3 (alice's budget)", len(msgs))
		}
		if got := audited(t, e.testEnv, "user.password-reset.throttled"); len(got) != 1 || got[0].Target != "alice" {
			t.Errorf("the throttled request is audited as %+v", got)
		}
		// The client's budget: 10 an hour, whatever the names.
		f := newLinksEnv(t, postgres, nil)
		fc := f.client()
		for i := range 10 {
			if status, _ := f.forgot(fc, fmt.Sprintf("name%d", i)); status != http.StatusOK {
				t.Fatalf("request %d: %d", i+1, status)
			}
		}
		if status, _ := f.forgot(fc, "alice"); status != http.StatusTooManyRequests {
			t.Errorf("11th request from one address: %d", status)
		}
		f.links.Wait()
		// A refused request is not a failed login: alice can still log in.
		if st := f.tryLogin("user", "alice", alicePassword); st != http.StatusSeeOther {
			t.Errorf("alice's login after the requests: %d", st)
		}
	})
}

// TestPasswordResetDirectoryUser: a directory user is answered as anyone
// and gets a mail without a link saying the directory keeps the password.
func TestPasswordResetDirectoryUser(t *testing.T) {
	bothDatabases(t, func(t *testing.T, postgres bool) {
		e := newLinksEnv(t, postgres, map[string]string{settings.UserPasswordHelp: "Change it at https://id.example.org."})
		ctx := context.Background()
		if err := e.core.CreateUser(ctx, core.CLI, &model.User{Username: "dora", FullName: "Dora D", Email: "dora@example.org"}); err != nil {
			t.Fatal(err)
		}
		c := e.client()
		_, page, _ := e.get(c, "/user/login/forgot")
		if !strings.Contains(page, "Change it at https://id.example.org.") {
			t.Errorf("the forgot page does not say what directory users do:\n%s", page)
		}
		status, body := e.forgot(c, "dora")
		_, want := e.forgot(e.client(), "someone-else")
		if status != http.StatusOK || !strings.Contains(body, forgotAnswer) || len(body) != len(want) {
			t.Errorf("dora's answer: %d\n%s", status, body)
		}
		msgs := e.deliver()
		if len(msgs) != 1 || msgs[0].To[0] != "dora@example.org" {
			t.Fatalf("delivered %+v", msgs)
		}
		subject, text := mailText(t, msgs[0])
		if subject != "About your print account password" || !strings.Contains(text, "Change it at https://id.example.org.") || strings.Contains(text, "/user/login/reset") {
			t.Errorf("dora's mail: %q\n%s", subject, text)
		}
	})
}

// TestPasswordResetSwitchedOff: off (or without a public address) the
// login page has no link, and the pages refuse without mailing anyone.
func TestPasswordResetSwitchedOff(t *testing.T) {
	for name, values := range map[string]map[string]string{
		"off":               {settings.PasswordReset: "N"},
		"no public address": {settings.PublicURL: ""},
	} {
		t.Run(name, func(t *testing.T) {
			e := newLinksEnv(t, false, values)
			c := e.client()
			_, login, _ := e.get(c, "/user/login")
			if strings.Contains(login, "/user/login/forgot") {
				t.Error("the login page still offers Forgot your password?")
			}
			status, page, _ := e.get(c, "/user/login/forgot")
			if status != http.StatusNotFound || !strings.Contains(page, "cannot be reset by email") {
				t.Errorf("forgot page: %d\n%s", status, page)
			}
			status, page = e.forgot(c, "alice")
			if status != http.StatusForbidden || !strings.Contains(page, "switched off") {
				t.Errorf("request: %d\n%s", status, page)
			}
			if msgs := e.deliver(); len(msgs) != 0 {
				t.Errorf("mailed %d", len(msgs))
			}
		})
	}
}

// noPasswordUser creates an internal user who has no password in Ream yet,
// as a move from PaperCut leaves them.
func noPasswordUser(t *testing.T, e *testEnv, name, email string) *model.User {
	t.Helper()
	ctx := context.Background()
	u, err := e.core.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: name, Password: "placeholder-" + name + "-9931", Email: email, FullName: "User " + name})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.InTx(ctx, func(tx *store.Tx) error { return tx.SetUserPassword(ctx, u.ID, "") }); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAdminEmailsSetPasswordLink: an internal user without a password
// cannot log in with any password; the admin's button on the user's page
// mails a link (audited with the admin's name) that sets one; directory
// users and users without an address are told apart; switched off, the
// button is gone and the route refuses.
func TestAdminEmailsSetPasswordLink(t *testing.T) {
	bothDatabases(t, func(t *testing.T, postgres bool) {
		e := newLinksEnv(t, postgres, nil)
		ctx := context.Background()
		noPasswordUser(t, e.testEnv, "carol", "carol@example.org")
		for _, pw := range []string{"", "placeholder-carol-9931", "anything at all 123"} {
			if st := e.tryLogin("user", "carol", pw); st != http.StatusUnauthorized {
				t.Errorf("carol, who has no password, logs in with %q: %d", pw, st)
			}
		}
		admin := e.client()
		token := e.login(admin, "admin", "admin", adminPassword)
		_, page, _ := e.get(admin, "/admin/users/carol")
		if !strings.Contains(page, `id="no_password"`) || !strings.Contains(page, `id="send_password_link"`) {
			t.Fatalf("carol's page lacks the no-password note or the button:\n%s", page)
		}
		resp, _ := e.post(admin, "/admin/users/carol/password-link", url.Values{"csrf": {token}}, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("send: %d", resp.StatusCode)
		}
		if _, page, _ := e.get(admin, "/admin/users/carol"); !strings.Contains(page, "A set-password link was emailed to carol@example.org.") {
			t.Errorf("no confirmation:\n%s", page)
		}
		msgs := e.deliver()
		if len(msgs) != 1 || msgs[0].To[0] != "carol@example.org" {
			t.Fatalf("delivered %+v", msgs)
		}
		subject, body := mailText(t, msgs[0])
		if subject != "Set your print account password" || !strings.Contains(body, "(for 3 days)") {
			t.Errorf("mail %q:\n%s", subject, body)
		}
		if got := audited(t, e.testEnv, "user.password-link"); len(got) != 1 || got[0].Actor != "admin" || got[0].Target != "carol" {
			t.Errorf("audit: %+v", got)
		}
		link := linkIn(t, msgs[0])
		c := e.client()
		if _, page, _ := e.get(c, pathOf(t, link)); !strings.Contains(page, "Choose your password") {
			t.Errorf("set page:\n%s", page)
		}
		if status, _ := e.setPassword(c, link, "carol chose this one", "carol chose this one"); status != http.StatusSeeOther {
			t.Fatalf("set: %d", status)
		}
		if st := e.tryLogin("user", "carol", "carol chose this one"); st != http.StatusSeeOther {
			t.Errorf("carol's new password: %d", st)
		}
		if got := audited(t, e.testEnv, "user.password.set"); len(got) != 1 || got[0].Actor != "carol" {
			t.Errorf("audit of the set: %+v", got)
		}

		// A directory user and a user without an address.
		if err := e.core.CreateUser(ctx, core.CLI, &model.User{Username: "dora", Email: "dora@example.org"}); err != nil {
			t.Fatal(err)
		}
		noPasswordUser(t, e.testEnv, "erin", "")
		for user, want := range map[string]string{"dora": "managed in the directory", "erin": "no usable email address"} {
			if resp, _ := e.post(admin, "/admin/users/"+user+"/password-link", url.Values{"csrf": {token}}, nil); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("%s: %d", user, resp.StatusCode)
			}
			if _, page, _ := e.get(admin, "/admin/users/"+user); !strings.Contains(page, want) {
				t.Errorf("%s's page does not say %q", user, want)
			}
		}
		if msgs := e.deliver(); len(msgs) != 1 {
			t.Errorf("mails after dora and erin: %d, want still 1", len(msgs))
		}

		if err := e.core.SetConfigValues(ctx, core.CLI, map[string]string{settings.PasswordSet: "N"}); err != nil {
			t.Fatal(err)
		}
		if _, page, _ := e.get(admin, "/admin/users/erin"); strings.Contains(page, `id="send_password_link"`) {
			t.Error("switched off, the button is still shown")
		}
		e.post(admin, "/admin/users/carol/password-link", url.Values{"csrf": {token}}, nil)
		if _, page, _ := e.get(admin, "/admin/users/carol"); !strings.Contains(page, "switched off") {
			t.Errorf("switched off, the route does not say so:\n%s", page)
		}
	})
}

// TestBulkSetPasswordLinks: Bulk User Actions previews then mails links
// to a group's internal users without a password; a delegated admin needs
// the users.internal right, and may not send links to administrators
// holding rights; the audit names the delegate.
func TestBulkSetPasswordLinks(t *testing.T) {
	bothDatabases(t, func(t *testing.T, postgres bool) {
		e := newLinksEnv(t, postgres, nil)
		ctx := context.Background()
		if err := e.core.CreateGroup(ctx, core.CLI, "Imported"); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"ivy", "jack", "kim"} {
			noPasswordUser(t, e.testEnv, n, n+"@example.org")
		}
		noPasswordUser(t, e.testEnv, "boss", "boss@example.org")
		if err := e.core.CreateUser(ctx, core.CLI, &model.User{Username: "dora", Email: "dora@example.org"}); err != nil {
			t.Fatal(err)
		}
		delegate, err := e.core.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: "delegate", Password: alicePassword})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"ivy", "jack", "kim", "boss", "dora", "alice"} {
			if err := e.core.ChangeGroupMember(ctx, core.CLI, n, "Imported", true); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []string{"delegate", "boss"} {
			if err := e.core.ChangeAdminAccess(ctx, core.CLI, "user", n, true); err != nil {
				t.Fatal(err)
			}
		}
		setRole(t, e.core, "user", "boss", adminRole{"boss", model.AllAdminRights(), model.ScopeAll})

		// Without users.internal the route is refused.
		setRole(t, e.core, "user", "delegate", adminRole{"groups only", []model.AdminRight{model.RightGroups}, model.ScopeAll})
		c, csrf := e.adminSessionOf(delegate)
		resp, body := e.post(c, "/admin/groups/bulk/password-links", url.Values{"csrf": {csrf}, "group": {"Imported"}, "action": {"apply"}}, nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, refusedRight) {
			t.Errorf("delegate without users.internal: %d", resp.StatusCode)
		}
		setRole(t, e.core, "user", "delegate", adminRole{"groups and internal users", []model.AdminRight{model.RightGroups, model.RightUsersInternal, model.RightUsersEdit, model.RightUsersBalance, model.RightUsersCards}, model.ScopeAll})
		c, csrf = e.adminSessionOf(delegate)
		status, page, _ := e.get(c, "/admin/groups/bulk")
		if status != http.StatusOK || !strings.Contains(page, `action="/admin/groups/bulk/password-links"`) {
			t.Fatalf("bulk page: %d\n%s", status, page)
		}
		resp, body = e.post(c, "/admin/groups/bulk/password-links", url.Values{"csrf": {csrf}, "group": {"Imported"}, "only_without": {"yes"}, "action": {"preview"}}, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="links_count">3 users will be emailed`) || !strings.Contains(body, "administrators you may not manage: boss") {
			t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
		}
		if msgs := e.deliver(); len(msgs) != 0 {
			t.Fatalf("the preview mailed %d", len(msgs))
		}
		resp, body = e.post(c, "/admin/groups/bulk/password-links", url.Values{"csrf": {csrf}, "group": {"Imported"}, "only_without": {"yes"}, "action": {"apply"}}, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Set-password links emailed to 3 of 6 selected users. 1 already have a password. 1 are directory users. 1 are administrators you may not manage.") {
			t.Fatalf("apply: %d\n%s", resp.StatusCode, body)
		}
		msgs := e.deliver()
		got := map[string]bool{}
		for _, m := range msgs {
			got[m.To[0]] = true
		}
		if len(msgs) != 3 || !got["ivy@example.org"] || !got["jack@example.org"] || !got["kim@example.org"] {
			t.Errorf("mailed %v", got)
		}
		entries := audited(t, e.testEnv, "user.password-link")
		if len(entries) != 3 {
			t.Fatalf("audit: %+v", entries)
		}
		for _, en := range entries {
			if en.Actor != "delegate" {
				t.Errorf("audited actor %q, want delegate", en.Actor)
			}
		}
		// The built-in admin may send to boss; a group that does not exist is a form error.
		admin := e.client()
		token := e.login(admin, "admin", "admin", adminPassword)
		resp, body = e.post(admin, "/admin/groups/bulk/password-links", url.Values{"csrf": {token}, "users": {"boss, nobody"}, "only_without": {"no"}, "action": {"apply"}}, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Set-password links emailed to 1 of 1 selected users. 1 do not exist.") {
			t.Errorf("admin to boss: %d\n%s", resp.StatusCode, body)
		}
		resp, body = e.post(admin, "/admin/groups/bulk/password-links", url.Values{"csrf": {token}, "group": {"No Such Group"}, "action": {"preview"}}, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "does not exist") {
			t.Errorf("unknown group: %d", resp.StatusCode)
		}
	})
}

// TestPasswordLinkOptions: Options > Password Links saves its settings,
// previews the templates, refuses a bad public address; and the same
// settings work through server-command get-config/set-config (the local
// CLI) and, except the public address, the API.
func TestPasswordLinkOptions(t *testing.T) {
	e := newLinksEnv(t, false, nil)
	ctx := context.Background()
	admin := e.client()
	token := e.login(admin, "admin", "admin", adminPassword)
	status, page, _ := e.get(admin, "/admin/options/password-links")
	if status != http.StatusOK || !strings.Contains(page, "%link%") || !strings.Contains(page, "Hello Jane Smith,") || !strings.Contains(page, e.http.URL) {
		t.Fatalf("options page: %d\n%s", status, page)
	}
	form := url.Values{"csrf": {token}, "public_url": {"https://print.example.org:9192"}, "reset": {"on"}, "reset_minutes": {"45"},
		"set_hours": {"24"}, "reset_subject": {"Reset for %user%"}, "reset_body": {"Go to %link% before %expires%."},
		"set_subject": {""}, "set_body": {passwordlink.DefaultSetBody}, "action": {"save"}}
	if resp, body := e.post(admin, "/admin/options/password-links", form, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	set := e.core.Settings
	if set.Get(ctx, settings.PublicURL) != "https://print.example.org:9192" || set.Int(ctx, settings.PasswordResetMinutes) != 45 ||
		set.Bool(ctx, settings.PasswordSet) || set.Get(ctx, settings.PasswordSetBody) != "" || set.Get(ctx, settings.PasswordResetBody) != "Go to %link% before %expires%." {
		t.Errorf("saved: %q %d %v %q", set.Get(ctx, settings.PublicURL), set.Int(ctx, settings.PasswordResetMinutes), set.Bool(ctx, settings.PasswordSet), set.Get(ctx, settings.PasswordSetBody))
	}
	form.Set("action", "preview")
	if _, body := e.post(admin, "/admin/options/password-links", form, nil); !strings.Contains(body, "Go to https://print.example.org:9192/user/login/reset?token=EXAMPLE-TOKEN before") || !strings.Contains(body, "Reset for jsmith") {
		t.Errorf("preview:\n%s", body)
	}
	for _, bad := range []string{"print.example.org", "javascript:alert(1)", "https://print.example.org/?next=x", "ftp://x"} {
		form.Set("action", "save")
		form.Set("public_url", bad)
		if resp, body := e.post(admin, "/admin/options/password-links", form, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "flash-error") {
			t.Errorf("public address %q: %d", bad, resp.StatusCode)
		}
	}
	form.Set("public_url", "https://print.example.org")
	form.Set("reset_minutes", "1")
	if resp, _ := e.post(admin, "/admin/options/password-links", form, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a 1-minute link: %d", resp.StatusCode)
	}

	// server-command set-config / get-config.
	for key, value := range map[string]string{settings.PasswordReset: "N", settings.PasswordResetMinutes: "90", settings.PublicURL: "https://p.example.org", settings.PasswordSetSubject: "Welcome"} {
		if err := e.core.SetConfigValue(ctx, core.CLI, key, value, false); err != nil {
			t.Errorf("set-config %s: %v", key, err)
		}
		if got, err := e.core.LocalConfigValue(ctx, key); err != nil || got != value {
			t.Errorf("get-config %s: %q, %v", key, got, err)
		}
	}
	if err := e.core.SetConfigValue(ctx, core.CLI, settings.PasswordResetMinutes, "soon", false); err == nil {
		t.Error("set-config accepted a non-number")
	}
	if err := e.core.SetConfigValue(ctx, core.Actor{Name: "api"}, settings.PasswordResetMinutes, "30", true); err != nil {
		t.Errorf("the API may set the link's life: %v", err)
	}
	if err := e.core.SetConfigValue(ctx, core.Actor{Name: "api"}, settings.PublicURL, "https://evil.example", true); err == nil {
		t.Error("the API may change where links point")
	}
}
