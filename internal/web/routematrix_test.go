package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

const (
	refusedRight = "Your admin rights do not include this page"
	refusedScope = "unless you have admin access to all shared accounts"
)

// adminRole is one line of the route matrix: the rights and scope of the
// delegated admin's entry.
type adminRole struct {
	name   string
	rights []model.AdminRight
	scope  string
}

func matrixRoles() []adminRole {
	roles := []adminRole{
		{"no rights", nil, model.ScopeAll},
		{"every right, access-list scope", model.AllAdminRights(), model.ScopeAccessList},
		{"every right, Physics only", model.AllAdminRights(), model.ScopeAccounts},
		{"every right, all accounts", model.AllAdminRights(), model.ScopeAll},
	}
	for _, r := range model.AllAdminRights() {
		roles = append(roles, adminRole{"only " + string(r), []model.AdminRight{r}, model.ScopeAll})
	}
	return roles
}

// setRole gives the entry of kind/name exactly the role's rights and scope.
func setRole(t *testing.T, c *core.Core, kind, name string, role adminRole) {
	t.Helper()
	ctx := context.Background()
	changes := map[model.AdminRight]bool{}
	for _, r := range model.AllAdminRights() {
		changes[r] = slices.Contains(role.rights, r)
	}
	if err := c.SetAdminAccessRights(ctx, core.CLI, kind, name, changes); err != nil {
		t.Fatal(err)
	}
	var accounts []string
	if role.scope == model.ScopeAccounts {
		accounts = []string{"Physics"}
	}
	if err := c.SetAdminAccessScope(ctx, core.CLI, kind, name, role.scope, accounts); err != nil {
		t.Fatal(err)
	}
}

// adminSessionOf stores a fresh admin session of user and returns a client
// holding its cookie and the session's CSRF token.
func (e *testEnv) adminSessionOf(u *model.User) (*http.Client, string) {
	e.t.Helper()
	token := auth.NewToken()
	hash := auth.TokenHash(token)
	secret := auth.NewToken()
	err := e.store.CreateSession(context.Background(), &store.Session{TokenHash: hash, Kind: kindAdmin, UserID: u.ID,
		Username: u.Username, CSRFSecret: secret, Address: "127.0.0.1", ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		e.t.Fatal(err)
	}
	c := e.client()
	base, _ := url.Parse(e.http.URL + "/admin")
	c.Jar.SetCookies(base, []*http.Cookie{{Name: adminCookie, Value: token, Path: "/admin"}})
	return c, auth.CSRFToken(secret, hash)
}

// routeRequest is the method and a concrete path for a route pattern.
func routeRequest(pattern string, accountID int64) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.NewReplacer("{name}", "target", "{id}", strconv.FormatInt(accountID, 10), "{$}", "").Replace(path)
	if strings.HasSuffix(pattern, "/admin/") {
		path = "/admin/no-such-page"
	}
	return method, path
}

// TestEveryAdminRouteChecksItsRight walks every registered /admin route for
// every role of matrixRoles, on SQLite and PostgreSQL: a route that
// declares no right fails, a role without the route's rights or scope is
// refused, and a role that has them is let through.
func TestEveryAdminRouteChecksItsRight(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			e := newTestEnvOn(t, reamtest.Store(t, db == "postgres"))
			ctx := context.Background()
			for _, name := range []string{"delegate", "target"} {
				if _, err := e.core.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: name, Password: alicePassword}); err != nil {
					t.Fatal(err)
				}
			}
			physics, err := e.core.CreateAccount(ctx, core.CLI, "Physics", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.core.ChangeAdminAccess(ctx, core.CLI, "user", "delegate", true); err != nil {
				t.Fatal(err)
			}
			delegate, err := e.store.UserByName(ctx, "delegate")
			if err != nil {
				t.Fatal(err)
			}
			anyAdmin := map[string]bool{"GET /admin/": true, "POST /admin/logout": true}
			var routes []string
			for _, p := range e.server.Routes() {
				_, path, _ := strings.Cut(p, " ")
				if !strings.HasPrefix(path, "/admin") || publicUnderArea[path] {
					continue
				}
				acc := e.server.access[p]
				if acc.area != kindAdmin || (len(acc.rights) == 0) != anyAdmin[p] || acc.anyAdmin != anyAdmin[p] {
					t.Errorf("%s declares no right (or AnyAdmin where it should not): %+v", p, acc)
				}
				routes = append(routes, p)
			}
			if len(routes) < 40 {
				t.Fatalf("only %d admin routes found", len(routes))
			}
			for _, role := range matrixRoles() {
				setRole(t, e.core, "user", "delegate", role)
				for _, p := range routes {
					acc := e.server.access[p]
					c, csrf := e.adminSessionOf(delegate)
					method, path := routeRequest(p, physics.ID)
					var status int
					var body, location string
					if method == http.MethodGet {
						resp, err := c.Get(e.http.URL + path)
						if err != nil {
							t.Fatal(err)
						}
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						status, body, location = resp.StatusCode, string(b), resp.Header.Get("Location")
					} else {
						resp, b := e.post(c, path, url.Values{"csrf": {csrf}}, nil)
						status, body, location = resp.StatusCode, b, resp.Header.Get("Location")
					}
					hasAll := true
					for _, r := range acc.rights {
						hasAll = hasAll && slices.Contains(model.WithImpliedAdminRights(role.rights), r)
					}
					switch {
					case len(role.rights) == 0:
						if !(method == http.MethodGet && status == http.StatusSeeOther && location == "/admin/login" || method == http.MethodPost && status == http.StatusUnauthorized) {
							t.Errorf("%s: %s got %d (%s), want the login page or 401", role.name, p, status, location)
						}
					case acc.builtInOnly:
						// Every right and all accounts are not enough: the
						// built-in admin account only.
						if status != http.StatusForbidden || !strings.Contains(body, "built-in admin account only") {
							t.Errorf("%s: %s got %d, want it refused to every delegate", role.name, p, status)
						}
					case !hasAll && !acc.anyAdmin:
						if status != http.StatusForbidden || !strings.Contains(body, refusedRight) {
							t.Errorf("%s: %s got %d, want it refused for its right %v", role.name, p, status, acc.rights)
						}
					case acc.allAccounts && role.scope != model.ScopeAll:
						if status != http.StatusForbidden || !strings.Contains(body, refusedScope) {
							t.Errorf("%s: %s got %d, want it refused for the scope", role.name, p, status)
						}
					default:
						// A POST refused for want of a session is a 401; logging
						// out rightly sends the browser to the login page.
						// A page that changes every account shows a scoped
						// admin the reason instead of its form.
						reasonPage := status == http.StatusOK && strings.Contains(body, `id="scope-refused"`)
						if status == http.StatusUnauthorized || method == http.MethodGet && location == "/admin/login" ||
							strings.Contains(body, refusedRight) || strings.Contains(body, refusedScope) && !reasonPage {
							t.Errorf("%s: %s got %d (%s), want it let through", role.name, p, status, location)
						}
					}
				}
			}
		})
	}
}

// TestAdminRightsAreReadOnEveryRequest: an open session loses a right, or
// the group membership that gave it, from its next request on.
func TestAdminRightsAreReadOnEveryRequest(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			e := newTestEnvOn(t, reamtest.Store(t, db == "postgres"))
			ctx := context.Background()
			alice, err := e.store.UserByName(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if err := e.core.CreateGroup(ctx, core.CLI, "Office"); err != nil {
				t.Fatal(err)
			}
			if err := e.core.ChangeGroupMember(ctx, core.CLI, "alice", "Office", true); err != nil {
				t.Fatal(err)
			}
			for _, add := range [][2]string{{"user", "alice"}, {"group", "Office"}} {
				if err := e.core.ChangeAdminAccess(ctx, core.CLI, add[0], add[1], true); err != nil {
					t.Fatal(err)
				}
			}
			setRole(t, e.core, "user", "alice", adminRole{rights: []model.AdminRight{model.RightLogs}, scope: model.ScopeAll})
			setRole(t, e.core, "group", "Office", adminRole{rights: []model.AdminRight{model.RightUsersView}, scope: model.ScopeAll})
			c, _ := e.adminSessionOf(alice)
			for _, path := range []string{"/admin/logs", "/admin/users"} {
				status, body, _ := e.get(c, path)
				if status != http.StatusOK || !strings.Contains(body, `href="/admin/users"`) {
					t.Fatalf("%s with the union of both entries: %d", path, status)
				}
			}
			if err := e.core.ChangeGroupMember(ctx, core.CLI, "alice", "Office", false); err != nil {
				t.Fatal(err)
			}
			if status, body, _ := e.get(c, "/admin/users"); status != http.StatusForbidden || !strings.Contains(body, refusedRight) {
				t.Fatalf("/admin/users after leaving the group: %d", status)
			}
			status, body, _ := e.get(c, "/admin/logs")
			if status != http.StatusOK {
				t.Fatalf("/admin/logs with her own entry: %d", status)
			}
			// The menu shows only what she may open.
			if !strings.Contains(body, `href="/admin/logs/sync-runs"`) || strings.Contains(body, `href="/admin/users"`) || strings.Contains(body, `href="/admin/options"`) {
				t.Errorf("menu of a logs-only admin:\n%s", body)
			}
			setRole(t, e.core, "user", "alice", adminRole{rights: []model.AdminRight{model.RightDashboard}, scope: model.ScopeAll})
			if status, body, _ := e.get(c, "/admin/logs"); status != http.StatusForbidden || !strings.Contains(body, refusedRight) {
				t.Fatalf("/admin/logs after the right was removed: %d", status)
			}
			setRole(t, e.core, "user", "alice", adminRole{scope: model.ScopeAll})
			if status, _, _ := e.get(c, "/admin/"); status != http.StatusSeeOther {
				t.Fatalf("/admin/ without any right: %d, want the login page", status)
			}
		})
	}
}

// TestAdminLoginNeedsARight: an entry whose rights are all off lets nobody
// in at /admin; the answer is that of a wrong password and is audited.
func TestAdminLoginNeedsARight(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	if err := e.core.ChangeAdminAccess(ctx, core.CLI, "user", "alice", true); err != nil {
		t.Fatal(err)
	}
	setRole(t, e.core, "user", "alice", adminRole{scope: model.ScopeAll})
	if status := e.tryLogin("admin", "alice", alicePassword); status != http.StatusUnauthorized {
		t.Fatalf("login of an admin without rights: %d, want 401", status)
	}
	if status := e.tryLogin("admin", "alice", "a wrong password"); status != http.StatusUnauthorized {
		t.Fatalf("login with a wrong password: %d, want 401", status)
	}
	entries, _, err := e.store.AuditLog(ctx, "admin.login.failure", 0, 10)
	if err != nil || len(entries) != 2 {
		t.Fatalf("audited login failures: %+v, %v", entries, err)
	}
	setRole(t, e.core, "user", "alice", adminRole{rights: []model.AdminRight{model.RightLogs}, scope: model.ScopeAll})
	if status := e.tryLogin("admin", "alice", alicePassword); status != http.StatusSeeOther {
		t.Fatalf("login with the Logs right: %d, want 303", status)
	}
}
