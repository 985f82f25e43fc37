package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
)

// TestUserDetailsShowInternalUserSettingsOnlyForInternalUsers (SPEC §6).
func TestUserDetailsShowInternalUserSettingsOnlyForInternalUsers(t *testing.T) {
	e := newTestEnv(t)
	if err := e.core.CreateUser(context.Background(), core.CLI, &model.User{Username: "dora", SourceID: "ldap"}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	e.login(c, "admin", "admin", adminPassword)
	for _, tc := range []struct {
		user     string
		internal bool
	}{{"alice", true}, {"dora", false}} {
		status, body, _ := e.get(c, "/admin/users/"+tc.user)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d", tc.user, status)
		}
		checks := map[string]bool{
			"This is an internally managed user":               tc.internal,
			"Internal User Settings":                           tc.internal,
			`href="/admin/users/` + tc.user + `/password"`:     tc.internal,
			"This user's password is managed in the directory": !tc.internal,
		}
		for text, want := range checks {
			if got := strings.Contains(body, text); got != want {
				t.Errorf("%s: page contains %q = %v, want %v", tc.user, text, got, want)
			}
		}
	}
	if status, _, _ := e.get(c, "/admin/users/dora/password"); status != http.StatusBadRequest {
		t.Errorf("password page of a directory user: status %d, want 400", status)
	}
}

// TestAdminResetsPasswordAndEditsUser: the admin's Change Password and the
// edit form go through core and show up on the details page.
func TestAdminResetsPasswordAndEditsUser(t *testing.T) {
	e := newTestEnv(t)
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	resp, body := e.post(c, "/admin/users/alice/password", url.Values{"csrf": {token}, "password": {"x1"}, "password2": {"x2"}}, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not the same") {
		t.Fatalf("mismatched passwords: status %d", resp.StatusCode)
	}
	const pw = "reset-by-the-admin-7730"
	if resp, body = e.post(c, "/admin/users/alice/password", url.Values{"csrf": {token}, "password": {pw}, "password2": {pw}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password reset: status %d\n%s", resp.StatusCode, body)
	}
	e.login(e.client(), "user", "alice", pw)

	form := url.Values{"csrf": {token}, "full_name": {"Alice Q. Example"}, "email": {"alice@example.org"}, "department": {"Physics"},
		"primary_card": {"4711"}, "restricted": {"on"}, "adjust": {"10.25"}, "comment": {"top-up"}}
	if resp, body = e.post(c, "/admin/users/alice/edit", form, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: status %d\n%s", resp.StatusCode, body)
	}
	u, err := e.store.UserByName(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if u.FullName != "Alice Q. Example" || u.Department != "Physics" || !u.Restricted || u.Balance.String() != "10.25" {
		t.Fatalf("after edit: %+v", u)
	}
	form.Set("adjust", "ten")
	if resp, body = e.post(c, "/admin/users/alice/edit", form, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Balance adjustment") {
		t.Fatalf("bad amount: status %d", resp.StatusCode)
	}
	_, body, _ = e.get(c, "/admin/users/alice")
	if !strings.Contains(body, "$10.25") || !strings.Contains(body, "top-up") {
		t.Fatalf("details page does not show the new balance and its transaction")
	}
}

// TestAccountDeleteAndRestore goes through the deleted-accounts list.
func TestAccountDeleteAndRestore(t *testing.T) {
	e := newTestEnv(t)
	acc, err := e.core.CreateAccount(context.Background(), core.CLI, "Law", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	id := accountPath(acc.ID)
	if resp, _ := e.post(c, id+"/delete", url.Values{"csrf": {token}, "confirm": {"yes"}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: status %d", resp.StatusCode)
	}
	_, body, _ := e.get(c, "/admin/accounts/deleted")
	if !strings.Contains(body, "Law") {
		t.Fatal("deleted account not listed under Deleted accounts")
	}
	if resp, _ := e.post(c, id+"/restore", url.Values{"csrf": {token}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("restore: status %d", resp.StatusCode)
	}
	if _, err := e.store.AccountByName(context.Background(), "Law"); err != nil {
		t.Fatalf("account not restored: %v", err)
	}
}

// TestOptionsSave changes the currency, which then shows on amounts, and
// the User Features, which the page then shows as saved.
func TestOptionsSave(t *testing.T) {
	e := newTestEnv(t)
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	_, body, _ := e.get(c, "/admin/options")
	if !strings.Contains(body, `<option value="secondary" selected>Secondary Card/ID number`) || strings.Contains(body, `id="register_card" name="register_card" type="checkbox" checked`) {
		t.Errorf("defaults: registration should be off, into the secondary number:\n%s", body)
	}
	form := url.Values{"csrf": {token}, "currency": {"€"}, "view_card_field": {"secondary"}, "change_pin": {"on"}, "password_help": {"Call 1234."},
		"register_card": {"on"}, "register_card_field": {"primary"}, "generate_card": {"on"}}
	if resp, body := e.post(c, "/admin/options", form, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save options: status %d\n%s", resp.StatusCode, body)
	}
	ctx := context.Background()
	if !e.core.Settings.Bool(ctx, "user.allow-register-card") || !e.core.Settings.Bool(ctx, "user.allow-generate-card") ||
		e.core.Settings.Get(ctx, "user.register-card-field") != "primary" {
		t.Error("the User Features card options were not saved")
	}
	_, body, _ = e.get(c, "/admin/options")
	for _, want := range []string{`id="register_card" name="register_card" type="checkbox" checked`, `id="generate_card" name="generate_card" type="checkbox" checked`, `<option value="primary" selected>Primary Card/ID number`} {
		if !strings.Contains(body, want) {
			t.Errorf("options page after saving lacks %s", want)
		}
	}
	_, body, _ = e.get(c, "/admin/users")
	if !strings.Contains(body, "€0.00") {
		t.Fatal("user list does not show amounts in the new currency")
	}
	form.Set("view_card_field", "tertiary")
	if resp, _ := e.post(c, "/admin/options", form, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad option: status %d, want 400", resp.StatusCode)
	}
	form.Set("view_card_field", "primary")
	form.Set("register_card_field", "both")
	if resp, _ := e.post(c, "/admin/options", form, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad register field: status %d, want 400", resp.StatusCode)
	}
	if e.core.Settings.Get(ctx, "user.register-card-field") != "primary" || e.core.Settings.Get(ctx, "general.currency-symbol") != "€" {
		t.Error("a refused save changed settings")
	}
}
