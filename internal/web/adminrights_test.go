package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

// TestAdminRightsPage: the built-in admin adds, changes and removes
// entries; a delegate holding Admin Rights and Logs changes only those
// rights of others, never grants one she does not hold, and may not add,
// remove or scope entries; every change is audited under her name.
func TestAdminRightsPage(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			e := newTestEnvOn(t, reamtest.Store(t, db == "postgres"))
			ctx := context.Background()
			if _, err := e.core.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: "dele", Password: alicePassword}); err != nil {
				t.Fatal(err)
			}
			admin := e.client()
			csrf := e.login(admin, "admin", "admin", adminPassword)
			post := func(c *http.Client, path string, form url.Values) (int, string) {
				t.Helper()
				resp, body := e.post(c, path, form, nil)
				return resp.StatusCode, body
			}
			if err := e.core.CreateGroup(ctx, core.CLI, "Alien Studies"); err != nil {
				t.Fatal(err)
			}
			st, found, _ := e.get(admin, "/admin/options/admin-rights?q=ali")
			if st != http.StatusOK || !strings.Contains(found, `<li>User alice`) || !strings.Contains(found, `<li>Group Alien Studies`) || strings.Contains(found, "User dele") {
				t.Fatalf("search for ali: %d\n%s", st, found)
			}
			for _, name := range []string{"alice", "dele"} {
				if st, body := post(admin, "/admin/options/admin-rights/add", url.Values{"csrf": {csrf}, "kind": {"user"}, "name": {name}}); st != http.StatusSeeOther {
					t.Fatalf("add %s: %d %s", name, st, body)
				}
			}
			if st, body := post(admin, "/admin/options/admin-rights/add", url.Values{"csrf": {csrf}, "kind": {"user"}, "name": {"nobody"}}); st != http.StatusNotFound || !strings.Contains(body, "nobody") {
				t.Errorf("adding an unknown user: %d", st)
			}
			if st, _ := post(admin, "/admin/options/admin-rights/add", url.Values{"csrf": {csrf}, "kind": {"role"}, "name": {"alice"}}); st != http.StatusBadRequest {
				t.Errorf("adding a bad kind: %d", st)
			}
			if st, _ := post(admin, "/admin/options/admin-rights/add", url.Values{"kind": {"user"}, "name": {"alice"}}); st != http.StatusForbidden {
				t.Errorf("adding without the CSRF token: %d", st)
			}
			if st, body := post(admin, "/admin/options/admin-rights/rights", url.Values{"csrf": {csrf}, "kind": {"user"}, "name": {"dele"},
				"right": {"admin-rights", "logs"}}); st != http.StatusSeeOther {
				t.Fatalf("rights of dele: %d %s", st, body)
			}
			if st, body := post(admin, "/admin/options/admin-rights/rights", url.Values{"csrf": {csrf}, "kind": {"user"}, "name": {"alice"},
				"right": {"dashboard", "groups"}}); st != http.StatusSeeOther {
				t.Fatalf("rights of alice: %d %s", st, body)
			}
			if st, body := post(admin, "/admin/options/admin-rights/scope", url.Values{"csrf": {csrf}, "kind": {"user"}, "name": {"alice"}, "scope": {"Nowhere"}}); st != http.StatusNotFound || !strings.Contains(body, "Nowhere") {
				t.Errorf("scope with an unknown account: %d", st)
			}

			dele, dcsrf := e.adminSessionOf(mustUser(t, e, "dele"))
			st, body, _ := e.get(dele, "/admin/options/admin-rights?q=ali")
			if st != http.StatusOK || strings.Contains(body, `id="add-admin"`) || strings.Contains(body, `id="found"`) || !strings.Contains(body, "User alice") {
				t.Fatalf("the page for dele: %d\n%s", st, body)
			}
			// She ticks logs for alice and, by hand, users.view, which she does not hold.
			if st, body := post(dele, "/admin/options/admin-rights/rights", url.Values{"csrf": {dcsrf}, "kind": {"user"}, "name": {"alice"},
				"right": {"logs", "users.view", "dashboard", "groups"}}); st != http.StatusSeeOther {
				t.Fatalf("dele saves alice: %d %s", st, body)
			}
			for _, f := range []struct{ path, scope string }{{"/admin/options/admin-rights/add", ""}, {"/admin/options/admin-rights/remove", ""}, {"/admin/options/admin-rights/scope", "all"}} {
				if st, _ := post(dele, f.path, url.Values{"csrf": {dcsrf}, "kind": {"user"}, "name": {"alice"}, "scope": {f.scope}}); st != http.StatusForbidden {
					t.Errorf("dele at %s: %d, want 403", f.path, st)
				}
			}
			err := e.core.SetAdminAccessRights(ctx, core.Actor{Name: "dele", Delegated: true, Rights: []model.AdminRight{model.RightAdminRights}},
				"user", "alice", map[model.AdminRight]bool{model.RightOptions: true})
			if ce, ok := core.AsError(err); !ok || ce.Code != core.Forbidden || !strings.Contains(ce.Msg, "options") {
				t.Errorf("a delegate granting a right she lacks: %v", err)
			}
			list, err := e.core.AdminAccessList(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range list {
				if en.Name == "alice" && !slices.Equal(en.Rights, []model.AdminRight{model.RightDashboard, model.RightGroups, model.RightLogs}) {
					t.Errorf("alice's rights: %v", en.Rights)
				}
			}
			entries, _, err := e.store.AuditLog(ctx, "admin.access.rights", 0, 10)
			if err != nil || len(entries) == 0 || entries[0].Actor != "dele" || entries[0].Detail != "before: dashboard,groups; after: dashboard,groups,logs" {
				t.Fatalf("audit of dele's change: %+v, %v", entries, err)
			}
			if st, _ := post(admin, "/admin/options/admin-rights/remove", url.Values{"csrf": {csrf}, "kind": {"user"}, "name": {"alice"}}); st != http.StatusSeeOther {
				t.Fatalf("remove alice: %d", st)
			}
			if st, body, _ := e.get(admin, "/admin/options/admin-rights"); st != http.StatusOK || strings.Contains(body, "User alice") {
				t.Errorf("page after removing alice: %d", st)
			}
		})
	}
}

func mustUser(t *testing.T, e *testEnv, name string) *model.User {
	t.Helper()
	u, err := e.store.UserByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
