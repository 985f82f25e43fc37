package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

func TestAccountSelectionPages(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	err := e.store.InTx(ctx, func(tx *store.Tx) error {
		g := &model.Group{Name: "Lab"}
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		for _, name := range []string{"l1", "l2"} {
			u := &model.User{Username: name}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.AddGroupMember(ctx, g.ID, u.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.core.CreateAccount(ctx, core.CLI, "Physics", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.core.ChangeAccountAccess(ctx, core.CLI, "Physics", "group", "Lab", true); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	_, body, _ := e.get(c, "/admin/users/alice")
	if !strings.Contains(body, `id="account_selection">Automatically charge to personal account`) {
		t.Fatalf("the user page does not show the default account selection:\n%s", body)
	}
	// On the user's page: a shared account alice may not use is refused.
	resp, _ := e.post(c, "/admin/users/alice/account-selection", url.Values{"csrf": {token}, "as_mode": {model.SelectAutoShared}, "as_account": {"Physics"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	_, body, _ = e.get(c, "/admin/users/alice")
	if !strings.Contains(body, `may not use shared account &#34;Physics&#34;`) {
		t.Errorf("no error shown for an account alice may not use:\n%s", body)
	}
	resp, _ = e.post(c, "/admin/users/l1/account-selection", url.Values{"csrf": {token}, "as_mode": {model.SelectAutoShared}, "as_account": {"physics"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save for l1: %d", resp.StatusCode)
	}
	if _, body, _ = e.get(c, "/admin/users/l1"); !strings.Contains(body, `id="account_selection">Automatically charge to a shared account: Physics`) {
		t.Errorf("l1's page after the change:\n%s", body)
	}

	// Bulk User Actions: a preview says how many, changes nothing; OK applies.
	form := url.Values{"csrf": {token}, "group": {"Lab"}, "as_mode": {model.SelectStandardPopup}, "as_list": {"on"}, "as_default": {"Physics"}, "action": {"preview"}}
	resp, body = e.post(c, "/admin/groups/bulk/account-selection", form, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "2 users will be changed") {
		t.Fatalf("bulk preview: %d\n%s", resp.StatusCode, body)
	}
	if u, _ := e.store.UserByName(ctx, "l2"); u != nil {
		if sel, _ := e.store.AccountSelection(ctx, u.ID); sel.Mode != model.SelectAutoPersonal {
			t.Fatalf("the preview changed l2: %+v", sel)
		}
	}
	form.Set("action", "apply")
	resp, body = e.post(c, "/admin/groups/bulk/account-selection", form, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Account selection changed for 2 users.") {
		t.Fatalf("bulk apply: %d\n%s", resp.StatusCode, body)
	}
	for _, name := range []string{"l1", "l2"} {
		v, err := e.core.UserProperty(ctx, name, "account-selection.default-shared-account")
		m, _ := e.core.UserProperty(ctx, name, "account-selection.mode")
		if err != nil || v != "Physics" || m != model.SelectStandardPopup {
			t.Errorf("%s after the bulk change: %s %s %v", name, m, v, err)
		}
	}
	// A list with a user who may not use the account changes nobody.
	form = url.Values{"csrf": {token}, "users": {"l1, alice"}, "as_mode": {model.SelectAutoShared}, "as_account": {"Physics"}, "action": {"apply"}}
	resp, body = e.post(c, "/admin/groups/bulk/account-selection", form, nil)
	if resp.StatusCode != 400 || !strings.Contains(body, `user &#34;alice&#34; may not use`) {
		t.Errorf("bulk with a user not allowed: %d", resp.StatusCode)
	}
	if m, _ := e.core.UserProperty(ctx, "l1", "account-selection.mode"); m != model.SelectStandardPopup {
		t.Errorf("a refused bulk change changed l1 to %s", m)
	}
}
