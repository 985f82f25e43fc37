package core_test

import (
	"context"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

// TestDelegatedAdminsCannotEscalate: the three ways a security review
// found for a delegated administrator to gain more than she was given are
// closed, on both databases:
//   - setting another administrator's password or deleting her (users.internal),
//   - a user made under a deleted administrator's name inheriting her entry,
//   - a scoped administrator granting rights to an entry (her group's) that
//     would widen her own scope.
func TestDelegatedAdminsCannotEscalate(t *testing.T) {
	for _, pg := range []bool{false, true} {
		s, c := reamtest.Core(t, pg)
		ctx := context.Background()
		for _, name := range []string{"boss", "clerk"} {
			if _, err := c.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: name, Password: "correct horse battery " + name}); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.ChangeAdminAccess(ctx, core.CLI, "user", "boss", true); err != nil {
			t.Fatal(err)
		}
		sec := core.Actor{Name: "sec", Kind: model.ActorUser, Delegated: true,
			Rights: []model.AdminRight{model.RightDashboard, model.RightUsersView, model.RightUsersEdit, model.RightUsersCards, model.RightUsersInternal, model.RightAdminRights, model.RightAccountsBalance}}

		err := c.SetPassword(ctx, sec, "boss", "a new password for boss 1", "")
		if e, ok := core.AsError(err); !ok || e.Code != core.Forbidden {
			t.Errorf("a delegate setting an administrator's password: %v, want forbidden", err)
		}
		if err := c.SetPassword(ctx, sec, "clerk", "a new password for clerk 1", ""); err != nil {
			t.Errorf("a delegate setting a plain internal user's password: %v", err)
		}
		err = c.DeleteUser(ctx, sec, "boss", false)
		if e, ok := core.AsError(err); !ok || e.Code != core.Forbidden {
			t.Errorf("a delegate deleting an administrator: %v, want forbidden", err)
		}

		// Deleted, the entry goes with the user: a new "boss" is no admin.
		if err := c.DeleteUser(ctx, core.CLI, "boss", false); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: "boss", Password: "correct horse battery again"}); err != nil {
			t.Fatal(err)
		}
		if g, err := s.AdminGrantOf(ctx, "boss"); err != nil || len(g.Rights) != 0 {
			t.Errorf("the new boss has rights %v (%v), want none", g.Rights, err)
		}

		// A scoped delegate cannot grant rights, even ones she holds.
		if err := c.CreateGroup(ctx, core.CLI, "Staff"); err != nil {
			t.Fatal(err)
		}
		if err := c.ChangeAdminAccess(ctx, core.CLI, "group", "Staff", true); err != nil {
			t.Fatal(err)
		}
		none := map[model.AdminRight]bool{}
		for _, r := range model.AllAdminRights() {
			none[r] = false
		}
		if err := c.SetAdminAccessRights(ctx, core.CLI, "group", "Staff", none); err != nil {
			t.Fatal(err)
		}
		scoped := sec
		scoped.AllAccounts = false
		err = c.SetAdminAccessRights(ctx, scoped, "group", "Staff", map[model.AdminRight]bool{model.RightAccountsBalance: true})
		if e, ok := core.AsError(err); !ok || e.Code != core.Forbidden || !strings.Contains(e.Error(), "cannot grant") {
			t.Errorf("a scoped delegate granting a right: %v, want forbidden", err)
		}
		all := sec
		all.AllAccounts = true
		if err := c.SetAdminAccessRights(ctx, all, "group", "Staff", map[model.AdminRight]bool{model.RightAccountsBalance: true}); err != nil {
			t.Errorf("a delegate with all accounts granting a right she holds: %v", err)
		}
		// Nor can a delegate take rights from an entry holding rights she
		// lacks (a full admin's): Staff holds every right again.
		every := map[model.AdminRight]bool{}
		for _, r := range model.AllAdminRights() {
			every[r] = true
		}
		if err := c.SetAdminAccessRights(ctx, core.CLI, "group", "Staff", every); err != nil {
			t.Fatal(err)
		}
		err = c.SetAdminAccessRights(ctx, all, "group", "Staff", map[model.AdminRight]bool{model.RightAdminRights: false})
		if e, ok := core.AsError(err); !ok || e.Code != core.Forbidden {
			t.Errorf("a delegate stripping a fuller admin entry: %v, want forbidden", err)
		}
	}
}
