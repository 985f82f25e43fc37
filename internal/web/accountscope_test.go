package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

// TestScopedAdminSeesOnlyHerAccounts: an admin whose scope is Physics sees,
// searches and counts Physics and its sub-accounts only; another account's
// page answers as one that does not exist; an access-list scope follows
// the accounts' access lists through her groups; the pages that need all
// shared accounts tell her why they are closed.
func TestScopedAdminSeesOnlyHerAccounts(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			e := newTestEnvOn(t, reamtest.Store(t, db == "postgres"))
			ctx := context.Background()
			ids := map[string]int64{}
			for _, name := range []string{"Physics", `Physics\Lab`, "Chemistry", "Biology", `Biology\Field`} {
				a, err := e.core.CreateAccount(ctx, core.CLI, name, nil)
				if err != nil {
					t.Fatal(err)
				}
				ids[name] = a.ID
			}
			if _, err := e.core.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: "sec", Password: alicePassword}); err != nil {
				t.Fatal(err)
			}
			if err := e.core.CreateGroup(ctx, core.CLI, "Bio"); err != nil {
				t.Fatal(err)
			}
			if err := e.core.ChangeGroupMember(ctx, core.CLI, "sec", "Bio", true); err != nil {
				t.Fatal(err)
			}
			if err := e.core.ChangeAccountAccess(ctx, core.CLI, "Biology", "group", "Bio", true); err != nil {
				t.Fatal(err)
			}
			if err := e.core.ChangeAdminAccess(ctx, core.CLI, "user", "sec", true); err != nil {
				t.Fatal(err)
			}
			setRole(t, e.core, "user", "sec", adminRole{rights: []model.AdminRight{model.RightDashboard, model.RightAccountsView, model.RightAccountsSync}, scope: model.ScopeAccounts})
			c, _ := e.adminSessionOf(mustUser(t, e, "sec"))
			sees := func(path string, want, hidden []string) {
				t.Helper()
				status, body, _ := e.get(c, path)
				if status != http.StatusOK {
					t.Fatalf("%s: %d", path, status)
				}
				for _, w := range want {
					if !strings.Contains(body, w) {
						t.Errorf("%s does not show %s", path, w)
					}
				}
				for _, h := range hidden {
					if strings.Contains(body, h) {
						t.Errorf("%s shows %s, out of her scope", path, h)
					}
				}
			}
			sees("/admin/accounts", []string{"Physics", "Lab"}, []string{"Chemistry", "Biology", "Field"})
			sees("/admin/accounts?q=chem", nil, []string{"Chemistry"})
			sees("/admin/accounts?q=lab", []string{"Lab"}, nil)
			sees(fmt.Sprintf("/admin/accounts/%d", ids["Physics"]), []string{"Lab"}, nil)
			_, none, _ := e.get(c, "/admin/accounts/999999")
			for _, name := range []string{"Chemistry", "Biology", `Biology\Field`} {
				status, body, _ := e.get(c, fmt.Sprintf("/admin/accounts/%d", ids[name]))
				if status != http.StatusNotFound || withoutCSRF(strings.Replace(body, fmt.Sprint(ids[name]), "999999", -1)) != withoutCSRF(none) {
					t.Errorf("%s's page for a scoped admin: %d, not the page of an account that does not exist", name, status)
				}
			}
			if status, body, _ := e.get(c, "/admin/accounts/sync"); status != http.StatusForbidden || !strings.Contains(body, refusedScope) {
				t.Errorf("Shared Account Sync for a scoped admin: %d", status)
			}
			if status, _, _ := e.get(c, "/admin/export/accounts.csv"); status != http.StatusForbidden {
				t.Errorf("the accounts CSV for a scoped admin: %d", status)
			}

			// With Shared accounts: adjust balances she adjusts Physics\Lab, not Chemistry.
			setRole(t, e.core, "user", "sec", adminRole{rights: []model.AdminRight{model.RightAccountsView, model.RightAccountsBalance}, scope: model.ScopeAccounts})
			lab := fmt.Sprintf("/admin/accounts/%d", ids[`Physics\Lab`])
			status, page, csrf := e.get(c, lab)
			if status != http.StatusOK || !strings.Contains(page, `id="adjust-balance"`) || strings.Contains(page, `id="edit"`) {
				t.Fatalf("Lab's page for a balance-only admin: %d\n%s", status, page)
			}
			if resp, body := e.post(c, lab+"/adjust", url.Values{"csrf": {csrf}, "adjust": {"5.25"}, "comment": {"top-up"}}, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("adjusting Lab: %d %s", resp.StatusCode, body)
			}
			if _, body, _ := e.get(c, lab); !strings.Contains(body, `adjusted by 5.25; it is now 5.25`) {
				t.Errorf("Lab's page after the adjustment does not say so")
			}
			if acc, err := e.store.AccountByID(ctx, ids[`Physics\Lab`]); err != nil || acc.Balance.String() != "5.25" {
				t.Fatalf("Lab after the adjustment: %v, %v", acc, err)
			}
			tx, err := e.store.Transactions(ctx, 0, ids[`Physics\Lab`], 1)
			if err != nil || len(tx) != 1 || tx[0].Actor != "sec" {
				t.Fatalf("Lab's transaction: %+v, %v", tx, err)
			}
			chem := fmt.Sprintf("/admin/accounts/%d/adjust", ids["Chemistry"])
			resp, chemBody := e.post(c, chem, url.Values{"csrf": {csrf}, "adjust": {"1"}}, nil)
			_, noneBody := e.post(c, "/admin/accounts/999999/adjust", url.Values{"csrf": {csrf}, "adjust": {"1"}}, nil)
			if resp.StatusCode != http.StatusNotFound || withoutCSRF(strings.Replace(chemBody, fmt.Sprint(ids["Chemistry"]), "999999", -1)) != withoutCSRF(noneBody) {
				t.Errorf("adjusting Chemistry: %d, not the answer for an account that does not exist", resp.StatusCode)
			}
			if acc, _ := e.store.AccountByID(ctx, ids["Chemistry"]); acc.Balance != 0 {
				t.Errorf("Chemistry's balance changed: %s", acc.Balance)
			}

			setRole(t, e.core, "user", "sec", adminRole{rights: []model.AdminRight{model.RightAccountsView}, scope: model.ScopeAccessList})
			sees("/admin/accounts", []string{"Biology", "Field"}, []string{"Chemistry", "Physics"})
			if status, _, _ := e.get(c, fmt.Sprintf("/admin/accounts/%d", ids["Physics"])); status != http.StatusNotFound {
				t.Errorf("Physics with an access-list scope: %d", status)
			}
			// Leaving the group takes Biology away on the next request.
			if err := e.core.ChangeGroupMember(ctx, core.CLI, "sec", "Bio", false); err != nil {
				t.Fatal(err)
			}
			sees("/admin/accounts", nil, []string{"Biology", "Chemistry", "Physics"})
		})
	}
}

// withoutCSRF blanks the CSRF tokens of a page, which differ on every render.
func withoutCSRF(page string) string {
	return csrfField.ReplaceAllString(page, `name="csrf" value=""`)
}
