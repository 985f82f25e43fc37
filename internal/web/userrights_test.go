package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

// TestUserPagesFollowEachRight: the user pages offer each delegate only
// what her rights cover — card numbers need users.cards (on the page, in
// the form and in the CSV), the balance users.balance, the details
// users.edit — and a field left out of her form is never changed by a
// hand-made POST. A scoped admin cannot point a user's account selection
// at an account outside her scope, nor read its name.
func TestUserPagesFollowEachRight(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			e := newTestEnvOn(t, reamtest.Store(t, db == "postgres"))
			ctx := context.Background()
			if _, err := e.core.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: "sec", Password: alicePassword}); err != nil {
				t.Fatal(err)
			}
			if err := e.core.ChangeAdminAccess(ctx, core.CLI, "user", "sec", true); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"Physics", "Chemistry"} {
				if _, err := e.core.CreateAccount(ctx, core.CLI, name, &model.Account{Enabled: true, AccessGroups: []string{model.GroupAllUsers}}); err != nil {
					t.Fatal(err)
				}
			}
			c, _ := e.adminSessionOf(mustUser(t, e, "sec"))

			// View only: no card number, no buttons.
			setRole(t, e.core, "user", "sec", adminRole{rights: []model.AdminRight{model.RightUsersView}, scope: model.ScopeAll})
			status, page, _ := e.get(c, "/admin/users/alice")
			if status != http.StatusOK || strings.Contains(page, "4711") || !strings.Contains(page, `id="cards-hidden"`) {
				t.Errorf("alice's page for users.view shows her card number: %d", status)
			}
			for _, id := range []string{`id="edit-user"`, `id="delete-user"`, `id="adjust-balance"`, `id="account_selection_save"`, "/password"} {
				if strings.Contains(page, id) {
					t.Errorf("alice's page for users.view offers %s", id)
				}
			}
			if _, list, _ := e.get(c, "/admin/users"); strings.Contains(list, "Create internal user") {
				t.Errorf("the user list for users.view offers Create internal user")
			}
			if _, csv, _ := e.get(c, "/admin/export/users.csv"); strings.Contains(csv, "4711") || !strings.Contains(csv, "(set)") {
				t.Errorf("the users CSV for users.view:\n%s", csv)
			}

			// Details only: the form has no card or balance field, and a
			// hand-made one changes nothing.
			setRole(t, e.core, "user", "sec", adminRole{rights: []model.AdminRight{model.RightUsersView, model.RightUsersEdit}, scope: model.ScopeAll})
			status, form, csrf := e.get(c, "/admin/users/alice/edit")
			if status != http.StatusOK || strings.Contains(form, `name="primary_card"`) || strings.Contains(form, `name="adjust"`) {
				t.Fatalf("alice's edit form for users.edit: %d\n%s", status, form)
			}
			post := url.Values{"csrf": {csrf}, "full_name": {"Alice Edited"}, "primary_card": {""}, "secondary_card": {"9999"}}
			if resp, body := e.post(c, "/admin/users/alice/edit", post, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("editing alice's details: %d %s", resp.StatusCode, body)
			}
			u := mustUser(t, e, "alice")
			if u.FullName != "Alice Edited" || u.PrimaryCard != "4711" || u.SecondaryCard != "" {
				t.Errorf("after a details-only edit: %q %q %q", u.FullName, u.PrimaryCard, u.SecondaryCard)
			}
			post.Set("adjust", "50")
			if resp, _ := e.post(c, "/admin/users/alice/edit", post, nil); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("an edit with a balance adjustment and no balance right: %d", resp.StatusCode)
			}
			if resp, _ := e.post(c, "/admin/users/alice/adjust", url.Values{"csrf": {csrf}, "adjust": {"50"}}, nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("the adjust form without users.balance: %d", resp.StatusCode)
			}
			if u := mustUser(t, e, "alice"); u.Balance != 0 {
				t.Errorf("alice's balance changed: %s", u.Balance)
			}

			// Balance only: the user page's own form adjusts it.
			setRole(t, e.core, "user", "sec", adminRole{rights: []model.AdminRight{model.RightUsersView, model.RightUsersBalance}, scope: model.ScopeAll})
			_, page, csrf = e.get(c, "/admin/users/alice")
			if !strings.Contains(page, `id="adjust-balance"`) || strings.Contains(page, `id="edit-user"`) {
				t.Errorf("alice's page for users.balance does not offer just the adjustment")
			}
			if resp, body := e.post(c, "/admin/users/alice/adjust", url.Values{"csrf": {csrf}, "adjust": {"7.50"}, "comment": {"prize"}}, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("adjusting alice: %d %s", resp.StatusCode, body)
			}
			if u := mustUser(t, e, "alice"); u.Balance.String() != "7.50" {
				t.Errorf("alice's balance: %s", u.Balance)
			}

			// Cards only: the user page's own form sets the numbers.
			setRole(t, e.core, "user", "sec", adminRole{rights: []model.AdminRight{model.RightUsersView, model.RightUsersCards}, scope: model.ScopeAll})
			_, page, csrf = e.get(c, "/admin/users/alice")
			if !strings.Contains(page, `id="card-numbers"`) || !strings.Contains(page, "4711") || strings.Contains(page, `id="edit-user"`) {
				t.Errorf("alice's page for users.cards does not offer just the numbers")
			}
			if resp, _ := e.post(c, "/admin/users/alice/cards", url.Values{"csrf": {csrf}, "primary_card": {"5000"}, "secondary_card": {"4711"}}, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("setting alice's numbers: %d", resp.StatusCode)
			}
			if u := mustUser(t, e, "alice"); u.PrimaryCard != "5000" || u.SecondaryCard != "4711" || u.FullName != "Alice Edited" {
				t.Errorf("alice after the cards form: %q %q %q", u.PrimaryCard, u.SecondaryCard, u.FullName)
			}

			// A scoped admin and account selection.
			setRole(t, e.core, "user", "sec", adminRole{rights: []model.AdminRight{model.RightUsersView, model.RightUsersEdit}, scope: model.ScopeAccounts})
			sel := url.Values{"csrf": {csrf}, "as_mode": {model.SelectAutoShared}, "as_account": {"Chemistry"}}
			resp, _ := e.post(c, "/admin/users/alice/account-selection", sel, nil)
			_, chemPage, _ := e.get(c, resp.Header.Get("Location"))
			if !strings.Contains(chemPage, `shared account &#34;Chemistry&#34; does not exist`) {
				t.Errorf("choosing Chemistry out of scope was not refused as a missing account\n%s", chemPage)
			}
			if got, _ := e.store.AccountSelection(ctx, mustUser(t, e, "alice").ID); got.AccountName == "Chemistry" {
				t.Errorf("a scoped admin set alice's selection to Chemistry")
			}
			if err := e.core.SetAccountSelection(ctx, core.CLI, "alice", core.AccountSelectionChange{Mode: model.SelectAutoShared, Account: "Chemistry"}); err != nil {
				t.Fatal(err)
			}
			if _, page, _ := e.get(c, "/admin/users/alice"); strings.Contains(page, "Chemistry") || !strings.Contains(page, "outside your admin access") {
				t.Errorf("alice's page shows a scoped admin the account outside her scope")
			}
		})
	}
}
