package usersync_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/tasks"
	"github.com/reamprint/ream/internal/testenv/reamtest"
	"github.com/reamprint/ream/internal/testenv/samba"
	"github.com/reamprint/ream/internal/usersync"
	"github.com/reamprint/ream/internal/web"
)

var loginToken = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestActiveDirectoryLoginPages logs in through the real login pages of
// /user and /admin against the Samba DC, as people type their names: the
// sAMAccountName, the UPN (which differs from it) and the down-level
// DOMAIN\name. Admin rights come from a group alice is in only through
// nesting (Teachers ⊂ Staff). A disabled account and a wrong password are
// refused.
func TestActiveDirectoryLoginPages(t *testing.T) {
	srv := samba.Shared(t)
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			s, c := reamtest.Core(t, db == "postgres")
			runner := tasks.New(ctx, s, c.Log)
			t.Cleanup(runner.Wait)
			svc := usersync.New(c, runner)
			err := s.InTx(ctx, func(tx *store.Tx) error {
				for _, kv := range [][2]string{
					{settings.UserSyncSource, usersync.SourceLDAP}, {settings.UserSyncLDAPPreset, "ad"},
					{settings.UserSyncLDAPURL, srv.URL}, {settings.UserSyncLDAPCACert, srv.CACertFile},
					{settings.UserSyncLDAPBindDN, samba.ServiceUPN}, {settings.UserSyncLDAPBindPW, samba.ServicePassword},
					{settings.UserSyncLDAPBaseDN, srv.BaseDN},
				} {
					if err := c.Settings.Set(ctx, tx, kv[0], kv[1]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			front, err := web.New(web.Deps{Core: c, Store: s, Settings: c.Settings, Config: c.Config, Log: c.Log, Authenticator: svc})
			if err != nil {
				t.Fatal(err)
			}
			h := httptest.NewServer(front.Handler())
			t.Cleanup(h.Close)

			login := func(area, name, password string) (int, string) {
				t.Helper()
				jar, _ := cookiejar.New(nil)
				cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, err := cl.Get(h.URL + "/" + area + "/login")
				if err != nil {
					t.Fatal(err)
				}
				page, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				m := loginToken.FindSubmatch(page)
				if m == nil {
					t.Fatalf("no CSRF token on /%s/login", area)
				}
				resp, err = cl.PostForm(h.URL+"/"+area+"/login", url.Values{"csrf": {string(m[1])}, "username": {name}, "password": {password}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					return resp.StatusCode, ""
				}
				// The page behind the redirect names whose session it is.
				resp, err = cl.Get(h.URL + resp.Header.Get("Location"))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return http.StatusSeeOther, string(body)
			}

			// The first login creates alice (before any sync), by her UPN.
			for _, name := range []string{samba.AliceUPN, "Alice.Archer@CORP.example", samba.Domain + `\alice`, "alice"} {
				status, page := login("user", name, samba.AlicePassword)
				if status != http.StatusSeeOther || !strings.Contains(page, "alice") {
					t.Errorf("portal login as %q: %d", name, status)
				}
			}
			if _, err := s.UserByName(ctx, "alice.archer@corp.example"); err == nil {
				t.Errorf("the UPN became a user of its own")
			}
			for name, password := range map[string]string{samba.Domain + `\alice`: "wrong-password", samba.AliceUPN: "wrong-password", "bob": samba.AlicePassword} {
				if status, _ := login("user", name, password); status != http.StatusUnauthorized {
					t.Errorf("portal login as %q with a wrong password or a disabled account: %d", name, status)
				}
			}

			// No rights yet: /admin refuses her like a wrong password.
			if status, _ := login("admin", samba.AliceUPN, samba.AlicePassword); status != http.StatusUnauthorized {
				t.Errorf("admin login without rights: %d", status)
			}
			// Rights by group Staff, which holds alice only through Teachers.
			if _, err := svc.ImportGroup(ctx, core.CLI, "Staff"); err != nil {
				t.Fatalf("ImportGroup(Staff): %v", err)
			}
			if err := c.ChangeAdminAccess(ctx, core.CLI, "group", "Staff", true); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{samba.AliceUPN, samba.Domain + `\alice`, "alice"} {
				if status, page := login("admin", name, samba.AlicePassword); status != http.StatusSeeOther || !strings.Contains(page, "Dashboard") {
					t.Errorf("admin login as %q with rights through a nested group: %d", name, status)
				}
			}
		})
	}
}
