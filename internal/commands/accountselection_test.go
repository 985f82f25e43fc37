package commands_test

import (
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/commands"
)

// PaperCut's example: set each user's account selection by how many
// shared accounts the user may use.
func TestAccountSelectionByNumberOfSharedAccounts(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, db == "postgres")
			for _, u := range []string{"nobody", "one", "two"} {
				r.must(t, "addNewUser", u)
			}
			for _, acc := range []string{"Dept A", "Dept B", `Dept B\Project 1`} {
				r.must(t, "addNewSharedAccount", acc)
			}
			r.must(t, "addSharedAccountAccessUser", "Dept A", "one")
			r.must(t, "addSharedAccountAccessUser", "Dept A", "two")
			r.must(t, "addSharedAccountAccessUser", `Dept B\Project 1`, "two")

			const limit = 100
			for offset := 0; ; offset += limit {
				users := toStrings(r.must(t, "listUserAccounts", offset, limit))
				for _, u := range users {
					shared := toStrings(r.must(t, "listUserSharedAccounts", u, 0, 99, true))
					switch len(shared) {
					case 0:
						r.must(t, "setUserAccountSelectionAutoChargePersonal", u, false)
					case 1:
						r.must(t, "setUserAccountSelectionAutoSelectSharedAccount", u, shared[0], false)
					default:
						r.must(t, "setUserAccountSelectionStandardPopup", u, false, true, false, false, false)
					}
				}
				if len(users) < limit {
					break
				}
			}
			props := []any{"account-selection.mode", "account-selection.can-charge-personal", "account-selection.can-charge-shared-from-list",
				"account-selection.can-charge-shared-by-pin", "account-selection.auto-shared-account"}
			for user, want := range map[string]string{
				"nobody": "AUTO_CHARGE_TO_PERSONAL_ACCOUNT,true,false,false,",
				"one":    "AUTO_CHARGE_TO_SHARED,false,false,false,Dept A",
				"two":    "SHOW_ACCOUNT_SELECTION_POPUP,false,true,false,",
			} {
				if got := strings.Join(toStrings(r.must(t, "getUserProperties", user, props)), ","); got != want {
					t.Errorf("%s: %s, want %s", user, got, want)
				}
			}

			// The account must exist and be the user's to use.
			_, err := r.call(t, "setUserAccountSelectionAutoSelectSharedAccount", "nobody", "Dept A", false)
			if f := fault(t, err); !strings.Contains(f.Message, `user "nobody" may not use shared account "Dept A"`) {
				t.Errorf("an account the user may not use: %q", f.Message)
			}
			_, err = r.call(t, "setUserAccountSelectionAdvancedPopup", "two", true, false, "No Such Dept")
			if f := fault(t, err); f.Code != commands.FaultNotFound || !strings.Contains(f.Message, `"No Such Dept" does not exist`) {
				t.Errorf("a missing default account: %d %q", f.Code, f.Message)
			}
			// Through properties, mode and account in one call; a bad call changes nothing.
			r.must(t, "setUserProperties", "two", []any{[]any{"account-selection.mode", "AUTO_CHARGE_TO_SHARED"}, []any{"account-selection.auto-shared-account", `Dept B\Project 1`}})
			if v := r.must(t, "getUserProperty", "two", "auto-shared-account"); v != `Dept B\Project 1` {
				t.Errorf("auto-shared-account = %v", v)
			}
			_, err = r.call(t, "setUserProperties", "two", []any{[]any{"office", "East"}, []any{"account-selection.mode", "SHOW_MANAGER_MODE_POPUP"}})
			if f := fault(t, err); !strings.Contains(f.Message, "account-selection.mode") {
				t.Errorf("an unknown mode: %q", f.Message)
			}
			if v := r.must(t, "getUserProperty", "two", "office"); v != "" {
				t.Errorf("a refused call set office to %v", v)
			}
			_, err = r.call(t, "setUserProperty", "nobody", "account-selection.mode", "AUTO_CHARGE_TO_SHARED")
			if f := fault(t, err); !strings.Contains(f.Message, "account-selection.auto-shared-account") {
				t.Errorf("auto-charge to shared without an account: %q", f.Message)
			}
			if _, err := r.call(t, "setUserProperty", "nobody", "account-selection.can-charge-personal", "maybe"); !strings.Contains(fault(t, err).Message, "account-selection.can-charge-personal") {
				t.Errorf("a bad flag: %v", err)
			}
			// Printing statistics read as zero and cannot be set.
			stats := toStrings(r.must(t, "getUserProperties", "one", []any{"print-stats.job-count", "print-stats.page-count", "net-stats.data-mb", "net-stats.time-hours", "disabled-net"}))
			if got := strings.Join(stats, ","); got != "0,0,0,0,false" {
				t.Errorf("statistics: %s", got)
			}
			if _, err := r.call(t, "setUserProperty", "one", "print-stats.job-count", "5"); !strings.Contains(fault(t, err).Message, "read-only") {
				t.Errorf("setting a statistic: %v", err)
			}
		})
	}
}
