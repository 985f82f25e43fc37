package core_test

import (
	"context"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

// FuzzAccountSelectionProperties: any property values give a clear error
// naming an account-selection property, or a selection that reads back as
// one of the modes Ream keeps; nothing panics, and a refused change leaves
// the selection as it was.
func FuzzAccountSelectionProperties(f *testing.F) {
	_, c := reamtest.Core(f, false)
	ctx := context.Background()
	if err := c.CreateUser(ctx, core.CLI, &model.User{Username: "fuzz"}); err != nil {
		f.Fatal(err)
	}
	if _, err := c.CreateAccount(ctx, core.CLI, "Lab", &model.Account{Enabled: true, AccessGroups: []string{"[All Users]"}}); err != nil {
		f.Fatal(err)
	}
	f.Add("AUTO_CHARGE_TO_SHARED", "Lab", "true", "")
	f.Add("SHOW_ACCOUNT_SELECTION_POPUP", "", "Y", "Lab")
	f.Add("show_advanced_account_selection_popup", "", "no", "nope")
	f.Add("SHOW_MANAGER_MODE_POPUP", "Lab\\x", "maybe", "")
	f.Fuzz(func(t *testing.T, mode, account, flag, def string) {
		before, _ := c.UserProperty(ctx, "fuzz", "account-selection.mode")
		err := c.SetUserProperties(ctx, core.CLI, "fuzz", []core.UserPropertyChange{
			{Name: "account-selection.mode", Value: mode},
			{Name: "account-selection.auto-shared-account", Value: account},
			{Name: "account-selection.can-charge-shared-by-pin", Value: flag},
			{Name: "account-selection.default-shared-account", Value: def},
		})
		after, rerr := c.UserProperty(ctx, "fuzz", "account-selection.mode")
		if rerr != nil {
			t.Fatal(rerr)
		}
		if err != nil {
			e, ok := core.AsError(err)
			if !ok || !strings.Contains(e.Msg, "account-selection.") {
				t.Fatalf("error %v does not name the property", err)
			}
			if after != before {
				t.Fatalf("a refused change moved the mode from %s to %s", before, after)
			}
			return
		}
		ok := false
		for _, m := range model.AccountSelectionModes {
			ok = ok || m == after
		}
		if !ok {
			t.Fatalf("mode %q read back after setting %q", after, mode)
		}
	})
}
