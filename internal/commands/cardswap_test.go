package commands_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
)

// Card numbers are unique between users, not between one user's two
// fields: a swap works in two setUserProperty calls (either order), in one
// setUserProperties call, and on the command line; a conflict with another
// user changes nothing and says which property and whose number.
func TestCardSwap(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, db == "postgres")
			ctx := context.Background()
			r.must(t, "addNewUser", "carol")
			r.must(t, "addNewUser", "dave")
			r.must(t, "setUserProperties", "carol", []any{[]any{"primary-card-number", "800"}, []any{"secondary-card-number", "801"}})
			r.must(t, "setUserProperty", "dave", "primary-card-number", "900")
			cards := func(user string) string {
				t.Helper()
				return strings.Join(toStrings(r.must(t, "getUserProperties", user, []any{"primary-card-number", "secondary-card-number"})), ",")
			}

			// Two calls, primary first: for a moment carol holds 801 in both fields.
			r.must(t, "setUserProperty", "carol", "primary-card-number", "801")
			if got := cards("carol"); got != "801,801" {
				t.Fatalf("after the first call: %s", got)
			}
			if v := r.must(t, "lookUpUserNameByCardNo", "801"); v != "carol" {
				t.Errorf("lookup of a number in both fields = %v", v)
			}
			r.must(t, "setUserProperty", "carol", "secondary-card-number", "800")
			if got := cards("carol"); got != "801,800" {
				t.Fatalf("after the swap: %s", got)
			}
			// Two calls, secondary first.
			r.must(t, "setUserProperty", "carol", "secondary-card-number", "801")
			r.must(t, "setUserProperty", "carol", "primary-card-number", "800")
			if got := cards("carol"); got != "800,801" {
				t.Fatalf("after swapping back: %s", got)
			}
			// One call.
			r.must(t, "setUserProperties", "carol", []any{[]any{"card-number", "801"}, []any{"card-number2", "800"}})
			if got := cards("carol"); got != "801,800" {
				t.Fatalf("after a one-call swap: %s", got)
			}
			// Another user's number: nothing of the call is applied, and the
			// fault names the property and the holder, never "another user".
			_, err := r.call(t, "setUserProperties", "carol", []any{[]any{"full-name", "Carol C"}, []any{"primary-card-number", "800"}, []any{"secondary-card-number", "900"}})
			f := fault(t, err)
			if f.Code != commands.FaultConflict || !strings.Contains(f.Message, `secondary-card-number: card/ID number "900" is already in use by user "dave"`) {
				t.Errorf("conflict fault: %d %q", f.Code, f.Message)
			}
			if got := cards("carol"); got != "801,800" {
				t.Errorf("a refused call changed the cards: %s", got)
			}
			if v := r.must(t, "getUserProperty", "carol", "full-name"); v != "" {
				t.Errorf("a refused call changed the full name to %q", v)
			}
			// The command line, the way a shell script swaps.
			run := func(args ...string) (int, string) {
				var out, errb bytes.Buffer
				code := commands.RunCLI(ctx, r.table, r.env, args, &out, &errb)
				return code, out.String() + errb.String()
			}
			for _, args := range [][]string{
				{"set-user-property", "carol", "secondary-card-number", "801"},
				{"set-user-property", "carol", "primary-card-number", "800"},
			} {
				if code, out := run(args...); code != 0 {
					t.Fatalf("%v: exit %d %s", args, code, out)
				}
			}
			if got := cards("carol"); got != "800,801" {
				t.Errorf("after a CLI swap: %s", got)
			}
			if code, out := run("set-user-property", "dave", "secondary-card-number", "801"); code != 1 || !strings.Contains(out, `already in use by user "carol"`) {
				t.Errorf("CLI conflict: exit %d %q", code, out)
			}
			// A person in the admin pages is not told whose number it is.
			err = r.env.Core.SetUserProperties(ctx, core.Actor{Name: "helpdesk", Kind: model.ActorUser}, "dave", []core.UserPropertyChange{{Name: "primary-card-number", Value: "801"}})
			if e, ok := core.AsError(err); !ok || !strings.Contains(e.Msg, "in use by another user") || strings.Contains(e.Msg, "carol") {
				t.Errorf("conflict for a delegated admin: %v", err)
			}
			// Clearing one field of a number held in both keeps the other.
			r.must(t, "setUserProperty", "dave", "secondary-card-number", "900")
			r.must(t, "setUserProperty", "dave", "primary-card-number", "")
			if got := cards("dave"); got != ",900" {
				t.Errorf("after clearing one of two equal fields: %s", got)
			}
		})
	}
}
