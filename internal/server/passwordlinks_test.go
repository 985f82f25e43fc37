package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/testenv"
	"github.com/reamprint/ream/internal/testenv/smtptest"
)

var (
	csrfValue = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	resetLink = regexp.MustCompile(`/user/login/reset\?token=[A-Za-z0-9_-]+`)
)

// browserClient keeps cookies and does not follow redirects.
func browserClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// postForm gets page for its CSRF value, then posts form to action.
func postForm(t *testing.T, c *http.Client, base, page, action string, form url.Values) (int, string) {
	t.Helper()
	_, body := get(t, c, base+page)
	m := csrfValue.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF value on %s:\n%s", page, body)
	}
	form.Set("csrf", m[1])
	resp, err := c.PostForm(base+action, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeTwoServersShareResetLimitsAndLinks: two `ream serve` on one
// PostgreSQL database, wired as in production: reset requests count
// against one budget whichever server takes them, a link mailed by one
// (through the mail worker, to a real SMTP server) is spent on the other
// and ends alice's session there, and it works once.
func TestServeTwoServersShareResetLimitsAndLinks(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.PostgresURL(t)
	smtp := smtptest.Start(t)
	env := []string{"REAM_ADMIN_PASSWORD=Shared-Admin-Password-93"}
	apps := make([]*App, 2)
	for i := range apps {
		apps[i] = openApp(t, loadConfig(t, env, "--data-dir", t.TempDir(), "--database-url", dbURL, "--listen", loopback(t), "--set", "https.listen="), nil)
		if _, err := apps[i].Store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	err := apps[0].Core.SetConfigValues(ctx, core.CLI, map[string]string{
		settings.PublicURL: "http://" + apps[0].Config.Listen, settings.SMTPHost: smtp.Host(), settings.SMTPPort: fmt.Sprint(smtp.Port()),
		settings.SMTPSecurity: "none", settings.SMTPFrom: "print@example.org",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apps[0].Core.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: "alice", Password: "alice-prints-a-lot-4821", Email: "alice@example.org"}); err != nil {
		t.Fatal(err)
	}
	a, b := startServe(t, apps[0]), startServe(t, apps[1])

	session := browserClient()
	if status, _ := postForm(t, session, b.base, "/user/login", "/user/login", url.Values{"username": {"alice"}, "password": {"alice-prints-a-lot-4821"}}); status != http.StatusSeeOther {
		t.Fatalf("alice's login on server B: %d", status)
	}
	c := browserClient()
	for i, srv := range []*runningServer{a, b, a} {
		if status, body := postForm(t, c, srv.base, "/user/login", "/user/login/forgot", url.Values{"identifier": {"ghost"}}); status != http.StatusOK {
			t.Fatalf("request %d: %d\n%s", i+1, status, body)
		}
	}
	if status, _ := postForm(t, c, b.base, "/user/login", "/user/login/forgot", url.Values{"identifier": {"ghost"}}); status != http.StatusTooManyRequests {
		t.Errorf("4th request for one name, on the other server: %d, want 429", status)
	}

	if status, _ := postForm(t, c, a.base, "/user/login", "/user/login/forgot", url.Values{"identifier": {"alice"}}); status != http.StatusOK {
		t.Fatalf("alice's request on server A: %d", status)
	}
	msgs := smtp.WaitFor(1, hangGuard)
	// The body is quoted-printable: join its soft line breaks.
	raw := strings.ReplaceAll(strings.ReplaceAll(string(msgs[0].Data), "=\r\n", ""), "=3D", "=")
	link := resetLink.FindString(raw)
	if link == "" {
		t.Fatalf("no link in the mail:\n%s", raw)
	}
	token := strings.TrimPrefix(link, "/user/login/reset?token=")
	set := func(srv *runningServer) int {
		status, _ := postForm(t, c, srv.base, "/user/login", "/user/login/reset",
			url.Values{"token": {token}, "password": {"a new passphrase for alice"}, "password2": {"a new passphrase for alice"}})
		return status
	}
	if status := set(b); status != http.StatusSeeOther {
		t.Fatalf("the link spent on server B: %d", status)
	}
	if status, _ := get(t, session, b.base+"/user/"); status != http.StatusSeeOther {
		t.Errorf("alice's session on server B after the reset: %d, want it ended", status)
	}
	if status := set(a); status != http.StatusGone {
		t.Errorf("the link again, on server A: %d, want 410", status)
	}
	again := browserClient()
	if status, _ := postForm(t, again, a.base, "/user/login", "/user/login", url.Values{"username": {"alice"}, "password": {"a new passphrase for alice"}}); status != http.StatusSeeOther {
		t.Errorf("the new password on server A: %d", status)
	}
}

// TestPasswordLinksCommandLine: the settings through server-command
// set-config/get-config, and `ream password-links send`, which previews
// without --yes and queues the mail with it.
func TestPasswordLinksCommandLine(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, nil, "", "--data-dir", dir, "server-command", "add-new-internal-user", "ivy", "ivy-prints-often-5512", "Ivy I", "ivy@example.org", "", "")
	r := ream(t, nil, "", "--data-dir", dir, "password-links", "send", "--users", "ivy", "--all", "--yes")
	if r.code == 0 || !strings.Contains(r.stderr, "web.public-url") {
		t.Errorf("sending before the public address is set: exit %d, %s", r.code, r.stderr)
	}
	mustRun(t, nil, "", "--data-dir", dir, "server-command", "set-config", "web.public-url", "https://print.example.org:9192")
	mustRun(t, nil, "", "--data-dir", dir, "server-command", "set-config", "password-set.link-hours", "48")
	if got := mustRun(t, nil, "", "--data-dir", dir, "server-command", "get-config", "password-set.link-hours").stdout; strings.TrimSpace(got) != "48" {
		t.Errorf("get-config password-set.link-hours: %q", got)
	}
	if got := mustRun(t, nil, "", "--data-dir", dir, "server-command", "get-config", "password-reset.enabled").stdout; strings.TrimSpace(got) != "Y" {
		t.Errorf("get-config password-reset.enabled: %q", got)
	}
	r = mustRun(t, nil, "", "--data-dir", dir, "password-links", "send", "--users", "ivy,nobody")
	if !strings.Contains(r.stdout, "0 of 1 selected users would be emailed") || !strings.Contains(r.stdout, "Skipped, they have a password: ivy") || !strings.Contains(r.stdout, "Not found: nobody") {
		t.Errorf("preview without --all:\n%s", r.stdout)
	}
	r = mustRun(t, nil, "", "--data-dir", dir, "password-links", "send", "--group", "!!Internal Users!!", "--all")
	if !strings.Contains(r.stdout, "1 of 1 selected users would be emailed") {
		t.Errorf("preview for !!Internal Users!!:\n%s", r.stdout)
	}
	r = mustRun(t, nil, "", "--data-dir", dir, "password-links", "send", "--users", "ivy", "--all")
	if !strings.Contains(r.stdout, "1 of 1 selected users would be emailed") || !strings.Contains(r.stdout, "Nothing sent") {
		t.Errorf("preview with --all:\n%s", r.stdout)
	}
	r = mustRun(t, nil, "", "--data-dir", dir, "password-links", "send", "--users", "ivy", "--all", "--yes")
	if !strings.Contains(r.stdout, "Set-password links emailed to 1 of 1 selected users.") {
		t.Errorf("send:\n%s", r.stdout)
	}
	app := openApp(t, loadConfig(t, nil, "--data-dir", dir), nil)
	queued, _, err := app.Store.ListOutbox(context.Background(), "queued", 0, 10)
	if err != nil || len(queued) != 1 || queued[0].Recipient != "ivy@example.org" ||
		!strings.Contains(queued[0].Body, "https://print.example.org:9192/user/login/reset?token=") || !strings.Contains(queued[0].Body, "(for 2 days)") {
		t.Errorf("outbox: %+v, %v", queued, err)
	}
	if r := ream(t, nil, "", "--data-dir", dir, "password-links", "send"); r.code != 2 {
		t.Errorf("no selection: exit %d", r.code)
	}
}
