package web

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/tasks"
	"github.com/reamprint/ream/internal/testenv/browser"
	"github.com/reamprint/ream/internal/testenv/slapd"
	"github.com/reamprint/ream/internal/usersync"
)

// syncDirectoryLDIF is a small directory: a service account, two people
// and a group.
const syncDirectoryLDIF = `dn: cn=reader,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: reader-secret

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: uid=dora,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: dora
cn: Dora Directory
sn: Directory
mail: dora@example.org
employeeNumber: 700001
userPassword: dora-directory-pass

dn: uid=eli,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: eli
cn: Eli Example
sn: Example
userPassword: eli-directory-pass

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

dn: cn=staff,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: Staff
member: uid=dora,ou=people,dc=example,dc=org
`

// newUserSyncEnv is a web server with the user/group sync service, its
// login check, and no users yet.
func newUserSyncEnv(t *testing.T) (*httptest.Server, *store.Store, *usersync.Service) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "", filepath.Join(t.TempDir(), "ream.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	hasher, err := auth.NewHasher(auth.HashParams{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	if err != nil {
		t.Fatal(err)
	}
	set := settings.New(st, 0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := core.New(st, set, hasher, config.Default(), log)
	if err := c.SetAdminPassword(ctx, core.CLI, adminPassword); err != nil {
		t.Fatal(err)
	}
	runner := tasks.New(ctx, st, log)
	t.Cleanup(runner.Wait)
	svc := usersync.New(c, runner)
	srv, err := New(Deps{Core: c, Store: st, Settings: set, Config: c.Config, Log: log,
		Authenticator: svc, Features: Features{UserSync: svc}})
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(srv.Handler())
	t.Cleanup(h.Close)
	return h, st, svc
}

// TestBrowserUserSyncFromOpenLDAP points Ream at a real OpenLDAP from the
// admin page, tests the settings (the plan, nothing written), synchronizes,
// and logs a directory user in to the portal with the directory password.
func TestBrowserUserSyncFromOpenLDAP(t *testing.T) {
	dir := slapd.Start(t, syncDirectoryLDIF)
	h, st, _ := newUserSyncEnv(t)
	ctx := browser.New(t)
	bg := context.Background()
	err := chromedp.Do(ctx,
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
	)
	if err != nil {
		t.Fatalf("Test settings: %v", err)
	}
	toCreate, plan := text(t, ctx, "#plan-create"), text(t, ctx, "main")
	if toCreate != "2" || !strings.Contains(plan, "dora (Dora Directory)") {
		t.Errorf("test plan: %s to create\n%s", toCreate, plan)
	}
	if n, _ := st.CountUsers(bg); n != 0 {
		t.Fatalf("Test settings wrote %d users", n)
	}

	// The typed password is not sent back; type it again to save and run.
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#bind_password", "reader-secret"),
		chromedp.Click("#sync"),
		chromedp.WaitVisible("#sync-outcome"),
	)
	if err != nil {
		t.Fatalf("Synchronize Now: %v", err)
	}
	if outcome := text(t, ctx, "#sync-outcome"); !strings.Contains(outcome, "ok: Synchronized") {
		t.Errorf("outcome = %q", outcome)
	}
	dora, err := st.UserByName(bg, "dora")
	if err != nil || dora.PrimaryCard != "700001" || dora.SourceID != "ldap" {
		t.Fatalf("dora after sync = %+v, %v", dora, err)
	}

	// Choosing a group to track imports it with its members.
	err = chromedp.Do(ctx,
		chromedp.Navigate(h.URL+"/admin/groups/directory"),
		chromedp.WaitVisible("table"),
		chromedp.Click(`button[value="track"]`),
		chromedp.WaitVisible(`button[value="untrack"]`),
	)
	if err != nil {
		t.Fatalf("track group: %v", err)
	}
	if m, err := st.GroupMembers(bg, "Staff", 0, 10); err != nil || strings.Join(m, ",") != "dora" {
		t.Errorf("Staff members = %v, %v", m, err)
	}

	portal := browser.New(t)
	err = chromedp.Do(portal,
		logIn(h.URL+"/user/", "Dora", "dora-directory-pass", "#balance"),
	)
	if err != nil {
		t.Fatalf("directory user's portal login: %v", err)
	}
}

// TestUserSyncProgressWithoutRun shows the page before any sync ran here.
func TestUserSyncProgressWithoutRun(t *testing.T) {
	h, _, svc := newUserSyncEnv(t)
	if svc.Status().Running {
		t.Fatal("a sync is running before any was started")
	}
	e := &testEnv{t: t, http: h}
	c := e.client()
	e.login(c, "admin", "admin", adminPassword)
	status, body, _ := e.get(c, "/admin/options/user-sync/progress")
	if status != 200 || !strings.Contains(body, "No user/group sync has run on this server") {
		t.Errorf("progress page: %d\n%s", status, body)
	}
	status, body, _ = e.get(c, "/admin/options/user-sync")
	if status != 200 || !strings.Contains(body, `id="source_none" name="source" value="none" checked`) {
		t.Errorf("options page: %d", status)
	}
}
