package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/testenv"
)

// TestUserSyncStoredBindPasswordStaysWithItsServer: Test settings uses the
// saved bind password only for the saved URL and bind DN, and saving
// another URL without a password clears the saved one.
func TestUserSyncStoredBindPasswordStaysWithItsServer(t *testing.T) {
	h, st, _ := newUserSyncEnv(t)
	e := &testEnv{t: t, store: st, http: h}
	set := settings.New(st, 0)
	ctx := context.Background()
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	// Both ports are closed: nothing here may reach a directory.
	savedURL := fmt.Sprintf("ldap://127.0.0.1:%d", testenv.FreeLoopbackPort(t))
	otherURL := fmt.Sprintf("ldap://127.0.0.1:%d", testenv.FreeLoopbackPort(t))
	form := url.Values{"csrf": {token}, "action": {"save"}, "source": {"ldap"}, "preset": {"openldap"},
		"url": {savedURL}, "bind_dn": {"cn=reader,dc=example,dc=org"}, "bind_password": {"stored-bind-secret"},
		"base_dn": {"dc=example,dc=org"}, "schedule": {"off"}, "time": {"00:55"}}
	if resp, body := e.post(c, "/admin/options/user-sync", form, nil); resp.StatusCode != 303 {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	if got := set.Get(ctx, settings.UserSyncLDAPBindPW); got != "stored-bind-secret" {
		t.Fatalf("stored bind password = %q", got)
	}

	const needed = "the saved password is used only with the saved server URL, TLS options and bind DN"
	for _, tc := range []struct {
		name, url, bindDN string
	}{
		{"another URL", otherURL, "cn=reader,dc=example,dc=org"},
		{"another bind DN", savedURL, "cn=admin,dc=example,dc=org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("action", "test")
			f.Set("url", tc.url)
			f.Set("bind_dn", tc.bindDN)
			f.Set("bind_password", "")
			resp, body := e.post(c, "/admin/options/user-sync", f, nil)
			if resp.StatusCode != 422 || !strings.Contains(body, needed) {
				t.Errorf("Test with %s and no password: %d, want the message %q\n%s", tc.name, resp.StatusCode, needed, body)
			}
		})
	}
	// The saved server and login with an empty field still use the saved
	// password: the test gets as far as connecting (and fails, the port is closed).
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("action", "test")
	f.Set("bind_password", "")
	if resp, body := e.post(c, "/admin/options/user-sync", f, nil); strings.Contains(body, needed) || resp.StatusCode == 200 {
		t.Errorf("Test with the saved server: %d\n%s", resp.StatusCode, body)
	}

	// Saving another URL without a password clears the stored one.
	form.Set("url", otherURL)
	form.Set("bind_password", "")
	if resp, body := e.post(c, "/admin/options/user-sync", form, nil); resp.StatusCode != 303 {
		t.Fatalf("save with another URL: %d\n%s", resp.StatusCode, body)
	}
	if got := set.Get(ctx, settings.UserSyncLDAPBindPW); got != "" {
		t.Errorf("bind password = %q after the URL changed without one, want it cleared", got)
	}
	if got := set.Get(ctx, settings.UserSyncLDAPURL); got != otherURL {
		t.Errorf("url = %q, want %q", got, otherURL)
	}
	_, body, _ := e.get(c, "/admin/options/user-sync")
	if !strings.Contains(body, "stored bind password was cleared because the server or login changed; enter it again") {
		t.Errorf("the page does not say the bind password was cleared:\n%s", body)
	}
}
