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
			// The pages that change every account say why, in words, with no
			// form; their POSTs are refused.
			for _, path := range []string{"/admin/accounts/sync", "/admin/accounts/import"} {
				status, body, csrf := e.get(c, path)
				if status != http.StatusOK || !strings.Contains(body, `id="scope-refused"`) || !strings.Contains(body, refusedScope) || strings.Contains(body, `action="`+path+`"`) {
					t.Errorf("%s for a scoped admin: %d, not the page with the reason and no form", path, status)
				}
				if resp, _ := e.post(c, path, url.Values{"csrf": {csrf}, "source": {"file"}}, nil); resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s by a scoped admin: %d", path, resp.StatusCode)
				}
			}
			if status, body, _ := e.get(c, "/admin/export/accounts.csv"); status != http.StatusOK || !strings.Contains(body, "Physics") || !strings.Contains(body, `Physics\Lab`) ||
				strings.Contains(body, "Chemistry") || strings.Contains(body, "Biology") {
				t.Errorf("the accounts CSV for a scoped admin: %d\n%s", status, body)
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

// TestScopedAdminChangesHerOwnAccounts: with Shared accounts:
// create/edit/delete and scope Physics, a delegate edits, deletes and
// restores Physics and its sub-accounts and creates sub-accounts under it,
// but creates no top-level account, sets no balance without the balance
// right, and another account's forms answer 404. The audit names her.
func TestScopedAdminChangesHerOwnAccounts(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			e := newTestEnvOn(t, reamtest.Store(t, db == "postgres"))
			ctx := context.Background()
			ids := map[string]int64{}
			for _, name := range []string{"Physics", `Physics\Lab`, "Chemistry"} {
				a, err := e.core.CreateAccount(ctx, core.CLI, name, nil)
				if err != nil {
					t.Fatal(err)
				}
				ids[name] = a.ID
			}
			if _, err := e.core.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: "sec", Password: alicePassword}); err != nil {
				t.Fatal(err)
			}
			if err := e.core.ChangeAdminAccess(ctx, core.CLI, "user", "sec", true); err != nil {
				t.Fatal(err)
			}
			setRole(t, e.core, "user", "sec", adminRole{rights: []model.AdminRight{model.RightAccountsView, model.RightAccountsEdit}, scope: model.ScopeAccounts})
			c, _ := e.adminSessionOf(mustUser(t, e, "sec"))
			lab := fmt.Sprintf("/admin/accounts/%d", ids[`Physics\Lab`])

			status, page, csrf := e.get(c, lab)
			if status != http.StatusOK || !strings.Contains(page, `id="edit"`) || strings.Contains(page, `id="adjust-balance"`) {
				t.Fatalf("Lab's page for an edit-only admin: %d\n%s", status, page)
			}
			_, form, _ := e.get(c, lab+"/edit")
			if strings.Contains(form, `name="adjust"`) {
				t.Errorf("the edit form offers a balance adjustment without the balance right")
			}
			edit := url.Values{"csrf": {csrf}, "name": {"Lab"}, "enabled": {"on"}, "notes": {"room 12"},
				"invoice_option": {model.InvoiceUserOff}, "comment_option": {model.CommentOptional}}
			if resp, body := e.post(c, lab+"/edit", edit, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("editing Lab: %d %s", resp.StatusCode, body)
			}
			if acc, _ := e.store.AccountByID(ctx, ids[`Physics\Lab`]); acc.Notes != "room 12" {
				t.Errorf("Lab's notes after the edit: %q", acc.Notes)
			}
			// A hand-made adjustment field is refused before anything is saved.
			edit.Set("notes", "changed again")
			edit.Set("adjust", "100")
			if resp, body := e.post(c, lab+"/edit", edit, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "adjust balances") {
				t.Errorf("an edit with a balance adjustment and no balance right: %d", resp.StatusCode)
			}
			if acc, _ := e.store.AccountByID(ctx, ids[`Physics\Lab`]); acc.Notes != "room 12" || acc.Balance != 0 {
				t.Errorf("the refused edit changed Lab: %q %s", acc.Notes, acc.Balance)
			}

			// Another account's forms answer as if it did not exist.
			chem := fmt.Sprintf("/admin/accounts/%d", ids["Chemistry"])
			for _, path := range []string{chem + "/edit", chem + "/delete"} {
				if status, _, _ := e.get(c, path); status != http.StatusNotFound {
					t.Errorf("GET %s: %d", path, status)
				}
				if resp, _ := e.post(c, path, url.Values{"csrf": {csrf}, "name": {"Mine"}, "confirm": {"yes"}}, nil); resp.StatusCode != http.StatusNotFound {
					t.Errorf("POST %s: %d", path, resp.StatusCode)
				}
			}
			if acc, _ := e.store.AccountByID(ctx, ids["Chemistry"]); acc.Name != "Chemistry" || acc.DeletedAt != nil {
				t.Errorf("Chemistry changed: %+v", acc)
			}

			// New accounts: sub-accounts of Physics only, no top-level one.
			status, newPage, _ := e.get(c, "/admin/accounts/new")
			if status != http.StatusOK || strings.Contains(newPage, "Chemistry") || strings.Contains(newPage, "None: a top-level account") || strings.Contains(newPage, `name="balance"`) {
				t.Errorf("the new-account form for a scoped admin offers more than Physics: %d\n%s", status, newPage)
			}
			create := url.Values{"csrf": {csrf}, "name": {"Optics"}, "parent": {fmt.Sprint(ids["Physics"])},
				"invoice_option": {model.InvoiceUserOff}, "comment_option": {model.CommentOptional}}
			if resp, body := e.post(c, "/admin/accounts/new", create, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("creating Physics\\Optics: %d %s", resp.StatusCode, body)
			}
			if _, err := e.store.AccountByName(ctx, `Physics\Optics`); err != nil {
				t.Errorf("Physics\\Optics: %v", err)
			}
			for what, f := range map[string]url.Values{
				"a top-level account":        {"csrf": {csrf}, "name": {"Mine"}, "parent": {"0"}},
				"a sub-account of Chemistry": {"csrf": {csrf}, "name": {"Mine"}, "parent": {fmt.Sprint(ids["Chemistry"])}},
				"an initial balance":         {"csrf": {csrf}, "name": {"Rich"}, "parent": {fmt.Sprint(ids["Physics"])}, "balance": {"50"}},
			} {
				if resp, _ := e.post(c, "/admin/accounts/new", f, nil); resp.StatusCode != http.StatusBadRequest {
					t.Errorf("creating %s: %d", what, resp.StatusCode)
				}
			}
			for _, name := range []string{"Mine", `Chemistry\Mine`, `Physics\Rich`} {
				if _, err := e.store.AccountByName(ctx, name); err == nil {
					t.Errorf("%s was created", name)
				}
			}

			// Delete and restore inside her scope.
			if resp, body := e.post(c, lab+"/delete", url.Values{"csrf": {csrf}, "confirm": {"yes"}}, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("deleting Lab: %d %s", resp.StatusCode, body)
			}
			if status, body, _ := e.get(c, "/admin/accounts/deleted"); status != http.StatusOK || !strings.Contains(body, "Lab") {
				t.Errorf("deleted accounts for a scoped admin: %d", status)
			}
			if resp, body := e.post(c, lab+"/restore", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("restoring Lab: %d %s", resp.StatusCode, body)
			}
			if acc, _ := e.store.AccountByID(ctx, ids[`Physics\Lab`]); acc.DeletedAt != nil {
				t.Errorf("Lab is still deleted")
			}
			lines, _, err := e.store.AuditLog(ctx, "", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, l := range lines {
				if l.Actor == "sec" {
					seen[l.Action] = true
				}
			}
			for _, action := range []string{"account.update", "account.create", "account.delete", "account.restore"} {
				if !seen[action] {
					t.Errorf("no %s audited as sec: %v", action, seen)
				}
			}
		})
	}
}

// TestScopedAdminReadsNoOtherAccountNames: the dashboard's history and the
// Admin Rights page tell a scoped admin nothing of the accounts outside her
// scope; adding and removing admin access is audited with before and after.
func TestScopedAdminReadsNoOtherAccountNames(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			e := newTestEnvOn(t, reamtest.Store(t, db == "postgres"))
			ctx := context.Background()
			for _, name := range []string{"Physics", "Chemistry"} {
				if _, err := e.core.CreateAccount(ctx, core.CLI, name, nil); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range []string{"sec", "head"} {
				if _, err := e.core.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: name, Password: alicePassword}); err != nil {
					t.Fatal(err)
				}
				if err := e.core.ChangeAdminAccess(ctx, core.CLI, "user", name, true); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.core.SetAdminAccessScope(ctx, core.CLI, "user", "head", model.ScopeAccounts, []string{"Physics", "Chemistry"}); err != nil {
				t.Fatal(err)
			}
			setRole(t, e.core, "user", "sec", adminRole{rights: []model.AdminRight{model.RightDashboard, model.RightAdminRights}, scope: model.ScopeAccounts})
			c, _ := e.adminSessionOf(mustUser(t, e, "sec"))
			status, dash, _ := e.get(c, "/admin/")
			if status != http.StatusOK || strings.Contains(dash, "Accounts and users over time") || !strings.Contains(dash, "Users over time") {
				t.Errorf("the dashboard of a scoped admin draws the site's account history: %d", status)
			}
			status, rights, _ := e.get(c, "/admin/options/admin-rights")
			if status != http.StatusOK || strings.Contains(rights, "Chemistry") || !strings.Contains(rights, "Physics") || !strings.Contains(rights, "1 shared accounts outside your admin access") {
				t.Errorf("Admin Rights for a scoped admin names accounts outside her scope: %d\n%s", status, rights)
			}
			if err := e.core.ChangeAdminAccess(ctx, core.CLI, "user", "head", false); err != nil {
				t.Fatal(err)
			}
			lines, _, err := e.store.AuditLog(ctx, "admin.access", 0, 20)
			if err != nil {
				t.Fatal(err)
			}
			var add, remove string
			for _, l := range lines {
				if l.Target == "user head" {
					switch l.Action {
					case "admin.access.add":
						add = l.Detail
					case "admin.access.remove":
						remove = l.Detail
					}
				}
			}
			if !strings.HasPrefix(add, "before: no admin access; after: rights=dashboard,") || !strings.Contains(add, "scope=all") {
				t.Errorf("adding head is audited as %q", add)
			}
			if !strings.Contains(remove, "scope=Chemistry,Physics; after: no admin access") {
				t.Errorf("removing head is audited as %q", remove)
			}
		})
	}
}
