package commands_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/commands"
)

// TestAdminAccessRightsAndScopeVerbs: list-admin-access, set-admin-access-rights
// and set-admin-access-scope on the command line and over XML-RPC; every
// bad argument is named and changes nothing.
func TestAdminAccessRightsAndScopeVerbs(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, db == "postgres")
			ctx := context.Background()
			cli := func(args ...string) (string, string, int) {
				var out, errb bytes.Buffer
				code := commands.RunCLI(ctx, r.table, r.env, args, &out, &errb)
				return out.String(), errb.String(), code
			}
			listing := func() []string {
				t.Helper()
				out, errs, code := cli("list-admin-access")
				if code != 0 {
					t.Fatalf("list-admin-access: %d %s", code, errs)
				}
				return strings.Split(strings.TrimRight(out, "\n"), "\n")
			}
			r.must(t, "addNewUser", "alice")
			r.must(t, "addNewGroup", "Staff Room")
			r.must(t, "addNewSharedAccount", "Physics")
			r.must(t, "addNewSharedAccount", `Physics\Lab`)
			r.must(t, "addNewSharedAccount", "Chemistry")
			r.must(t, "addAdminAccessUser", "alice")
			r.must(t, "addAdminAccessGroup", "Staff Room")
			all := "dashboard,users.view,users.edit,users.balance,users.cards,users.internal,groups,accounts.view,accounts.edit,accounts.balance,accounts.sync,user-sync,options,logs,admin-rights"
			want := []string{"user\talice\trights=" + all + "\tscope=all", "group\tstaff room\trights=" + all + "\tscope=all"}
			if got := listing(); !slices.Equal(got, want) {
				t.Fatalf("new entries:\n got %q\nwant %q", got, want)
			}

			if _, errs, code := cli("set-admin-access-rights", "group", "Staff Room", "dashboard=N", "users.view=N,users.edit=N"); code != 0 {
				t.Fatalf("set-admin-access-rights: %s", errs)
			}
			if _, errs, code := cli("set-admin-access-scope", "group", "staff room", "physics, Chemistry"); code != 0 {
				t.Fatalf("set-admin-access-scope: %s", errs)
			}
			r.must(t, "setAdminAccessRights", "user", "alice", []any{"accounts.balance=N"})
			r.must(t, "setAdminAccessScope", "user", "alice", "access-list")
			rest := strings.TrimPrefix(all, "dashboard,users.view,users.edit,")
			want = []string{
				"user\talice\trights=" + strings.Replace(all, "accounts.balance,", "", 1) + "\tscope=access-list",
				"group\tstaff room\trights=" + rest + "\tscope=Chemistry,Physics",
			}
			if got := listing(); !slices.Equal(got, want) {
				t.Fatalf("after the changes:\n got %q\nwant %q", got, want)
			}
			if v := r.must(t, "listAdminAccess"); len(v.([]any)) != 2 || v.([]any)[1] != want[1] {
				t.Fatalf("listAdminAccess over XML-RPC: %q", v)
			}

			for _, c := range []struct {
				args []string
				msg  string
			}{
				{[]string{"set-admin-access-rights", "user", "alice", "logs=N", "sudo=Y"}, `rights: "sudo" is not a right`},
				{[]string{"set-admin-access-rights", "user", "alice", "logs=N", "groups"}, `rights: "groups" is not RIGHT=Y or RIGHT=N`},
				{[]string{"set-admin-access-rights", "user", "alice", "logs=maybe"}, `rights: logs="maybe": the value must be Y or N`},
				{[]string{"set-admin-access-rights", "user", "alice"}, "takes 3 parameters"},
				{[]string{"set-admin-access-rights", "role", "alice", "logs=N"}, `kind: "role" is neither user nor group`},
				{[]string{"set-admin-access-rights", "user", "bob", "logs=N"}, `name: user "bob" has no admin access`},
				{[]string{"set-admin-access-scope", "group", "staff room", "Physics,Biology"}, `scope: shared account "Biology" does not exist`},
				{[]string{"set-admin-access-scope", "group", "staff room", `Physics\Lab`}, `scope: "Physics\\Lab" is a sub-account`},
				{[]string{"set-admin-access-scope", "group", "staff room", "Physics,,"}, "scope: \"Physics,,\" has an empty account name"},
				{[]string{"set-admin-access-scope", "group", "nobody", "all"}, `name: group "nobody" has no admin access`},
			} {
				_, errs, code := cli(c.args...)
				if code != 1 || !strings.Contains(errs, c.msg) {
					t.Errorf("%q: exit %d, stderr %q; want one with %q", c.args, code, errs, c.msg)
				}
			}
			_, err := r.call(t, "setAdminAccessRights", "user", "alice", []any{"logs=N", "nope=Y"})
			if err == nil || !strings.Contains(fault(t, err).Message, `"nope" is not a right`) {
				t.Errorf("bad right over XML-RPC: %v", err)
			}
			if got := listing(); !slices.Equal(got, want) {
				t.Fatalf("a refused change was half-applied:\n got %q\nwant %q", got, want)
			}

			entries, _, err := r.store.AuditLog(ctx, "admin.access.", 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var details []string
			for _, e := range entries {
				details = append(details, e.Action+" "+e.Target+": "+e.Detail)
			}
			for _, w := range []string{
				"admin.access.scope group staff room: before: all; after: Physics,Chemistry",
				"admin.access.scope user alice: before: all; after: access-list",
				"admin.access.rights group staff room: before: " + all + "; after: " + rest,
			} {
				if !slices.Contains(details, w) {
					t.Errorf("audit log has no %q; it has %q", w, details)
				}
			}
		})
	}
}
