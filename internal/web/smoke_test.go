package web

import (
	"net/http"
	"testing"
)

func TestSmokeAdminPages(t *testing.T) {
	e := newTestEnv(t)
	c := e.client()
	e.login(c, "admin", "admin", adminPassword)
	for _, p := range []string{"/admin/", "/admin/users", "/admin/users/alice", "/admin/users/alice/edit", "/admin/users/alice/password",
		"/admin/internal-users/new", "/admin/groups", "/admin/groups/%5BAll%20Users%5D", "/admin/accounts", "/admin/accounts/new",
		"/admin/accounts/deleted", "/admin/logs", "/admin/logs/sync-runs", "/admin/options", "/admin/users/alice/delete"} {
		status, body, _ := e.get(c, p)
		if status != http.StatusOK {
			t.Errorf("%s: %d\n%s", p, status, body)
		}
	}
}
