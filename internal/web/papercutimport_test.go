package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/tasks"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

// TestImportFromPaperCutPage drives Options > Import from PaperCut as the
// built-in admin against a second Ream server answering PaperCut's API on
// a loopback port: Test writes nothing, Import writes everything, a wrong
// token is named, the form needs its CSRF token, and a delegated admin
// with every right is refused.
func TestImportFromPaperCutPage(t *testing.T) {
	ctx := context.Background()
	const token = "page-source-token-Plover"
	srcStore, srcCore := reamtest.Core(t, false)
	srcCfg := srcCore.Config
	srcCfg.Auth.WebServices.AuthToken = token
	srcCfg.Auth.WebServices.AllowedAddresses = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	log := slog.New(slog.DiscardHandler)
	api := httptest.NewServer(&commands.XMLRPCHandler{Table: commands.NewTable(), Config: srcCfg, Log: log,
		Env: commands.Env{Core: srcCore, Store: srcStore, Settings: srcCore.Settings, Tasks: tasks.New(ctx, srcStore, log), Features: &commands.Features{}}})
	t.Cleanup(api.Close)
	for _, name := range []string{"Physics", `Physics\Lab 1`, "Law"} {
		if _, err := srcCore.CreateAccount(ctx, core.CLI, name, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := srcCore.AdjustAccountBalance(ctx, core.CLI, `Physics\Lab 1`, 1234, true, "seed"); err != nil {
		t.Fatal(err)
	}
	if _, err := srcCore.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: "pat", Password: "Pat-Internal-Pass-9", FullName: "Pat Source"}); err != nil {
		t.Fatal(err)
	}

	// The target: the web front over its own store, with the task runner.
	st := reamtest.Store(t, false)
	hasher, err := auth.NewHasher(reamtest.CheapHashParams, 4)
	if err != nil {
		t.Fatal(err)
	}
	set := settings.New(st, time.Minute)
	c := core.New(st, set, hasher, config.Default(), log)
	if err := c.SetAdminPassword(ctx, core.CLI, adminPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: "alice", Password: alicePassword}); err != nil {
		t.Fatal(err)
	}
	runner := tasks.New(ctx, st, log)
	srv, err := New(Deps{Core: c, Store: st, Settings: set, Config: config.Default(), Log: log,
		LoginLimiter: auth.NewLimiter(auth.LimiterConfig{AccountFailures: 3, ClientFailures: 1000, GlobalFailures: 10000}),
		Features:     Features{Tasks: runner}})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, store: st, core: c, server: srv}
	e.http = httptest.NewServer(srv.Handler())
	t.Cleanup(e.http.Close)

	admin := e.client()
	csrf := e.login(admin, "admin", "admin", adminPassword)
	status, body, _ := e.get(admin, "/admin/options/papercut-import")
	if status != http.StatusOK || !strings.Contains(body, `name="token" type="password"`) || !strings.Contains(body, "Email a set-password link") {
		t.Fatalf("the page: %d\n%s", status, body)
	}
	if !strings.Contains(body, `href="/admin/options/papercut-import"`) {
		t.Errorf("the menu does not offer Import from PaperCut to the built-in admin")
	}
	form := func(action, tok string) url.Values {
		return url.Values{"csrf": {csrf}, "url": {api.URL + "/rpc/api/xmlrpc"}, "token": {tok}, "users": {"on"}, "groups": {"on"},
			"accounts": {"on"}, "concurrency": {"4"}, "action": {action}}
	}
	// follow posts the form and waits on the progress page for the report.
	follow := func(v url.Values) string {
		t.Helper()
		resp, body := e.post(admin, "/admin/options/papercut-import", v, nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/options/papercut-import/progress?task=") {
			t.Fatalf("post: %d %s\n%s", resp.StatusCode, loc, body)
		}
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			resp, err := admin.Get(e.http.URL + loc)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Header.Get("Refresh") == "" {
				return string(b)
			}
		}
		t.Fatal("the import did not finish")
		return ""
	}
	if resp, _ := e.post(admin, "/admin/options/papercut-import", url.Values{"url": {api.URL}, "token": {token}, "action": {"test"}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a post without the CSRF token: %d", resp.StatusCode)
	}
	report := follow(form("test", "wrong-token"))
	if !strings.Contains(report, "refused the web-services auth token") || !strings.Contains(report, "failed, nothing was written") {
		t.Errorf("wrong token:\n%s", report)
	}
	report = follow(form("test", token))
	if !strings.Contains(report, "Dry run (nothing was written)") || !strings.Contains(report, "pat") {
		t.Errorf("the test report:\n%s", report)
	}
	if n, _ := st.CountAccounts(ctx); n != 0 {
		t.Fatalf("Test wrote %d accounts", n)
	}
	report = follow(form("import", token))
	if !strings.Contains(report, "Imported from") || !strings.Contains(report, "finished.") {
		t.Errorf("the import report:\n%s", report)
	}
	acc, err := st.AccountByName(ctx, `Physics\Lab 1`)
	if err != nil || acc.Balance != 1234 {
		t.Errorf("imported sub-account: %+v %v", acc, err)
	}
	if u, err := st.UserByName(ctx, "pat"); err != nil || !u.Internal || u.FullName != "Pat Source" {
		t.Errorf("imported internal user: %+v %v", u, err)
	}

	// A delegate with every right is still refused.
	if err := c.ChangeAdminAccess(ctx, core.CLI, "user", "alice", true); err != nil {
		t.Fatal(err)
	}
	alice := e.client()
	e.login(alice, "admin", "alice", alicePassword)
	status, body, _ = e.get(alice, "/admin/options/papercut-import")
	if status != http.StatusForbidden || !strings.Contains(body, "built-in admin account only") {
		t.Errorf("a delegate with every right: %d", status)
	}
	if _, body, _ := e.get(alice, "/admin/options"); strings.Contains(body, `href="/admin/options/papercut-import"`) {
		t.Errorf("the menu offers Import from PaperCut to a delegate")
	}
}
