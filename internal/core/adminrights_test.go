package core_test

import (
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
)

func TestParseRightChanges(t *testing.T) {
	for _, c := range []struct {
		words []string
		want  map[model.AdminRight]bool
		err   string
	}{
		{[]string{"users.view=Y", "logs=n"}, map[model.AdminRight]bool{model.RightUsersView: true, model.RightLogs: false}, ""},
		{[]string{"accounts.balance=Y,accounts.view=yes"}, map[model.AdminRight]bool{model.RightAccountsBalance: true, model.RightAccountsView: true}, ""},
		{[]string{"USERS.VIEW=y", "users.view=Y"}, map[model.AdminRight]bool{model.RightUsersView: true}, ""},
		{nil, nil, "give at least one"},
		{[]string{" , "}, nil, "give at least one"},
		{[]string{"users.view"}, nil, `"users.view" is not RIGHT=Y`},
		{[]string{"users.view=Y", "sudo=Y"}, nil, `"sudo" is not a right`},
		{[]string{"users.view=maybe"}, nil, `users.view="maybe": the value must be Y or N`},
		{[]string{"logs=Y", "logs=N"}, nil, "logs is given both Y and N"},
	} {
		got, err := core.ParseRightChanges(c.words)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "rights: ") {
				t.Errorf("%q: error %v, want one with %q", c.words, err, c.err)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("%q: %v, %v; want %v", c.words, got, err, c.want)
			continue
		}
		for r, on := range c.want {
			if v, ok := got[r]; !ok || v != on {
				t.Errorf("%q: %s = %v, want %v", c.words, r, v, on)
			}
		}
	}
}

func TestParseAdminScope(t *testing.T) {
	for _, c := range []struct {
		arg, scope string
		accounts   []string
		err        string
	}{
		{"all", model.ScopeAll, nil, ""},
		{" ALL ", model.ScopeAll, nil, ""},
		{"access-list", model.ScopeAccessList, nil, ""},
		{"Physics", model.ScopeAccounts, []string{"Physics"}, ""},
		{"Physics, Chemistry,physics", model.ScopeAccounts, []string{"Physics", "Chemistry"}, ""},
		{"", "", nil, "scope: give all"},
		{"Physics,,Chemistry", "", nil, "empty account name"},
		{`Physics\Lab`, "", nil, "is a sub-account"},
	} {
		scope, accounts, err := core.ParseAdminScope(c.arg)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want one with %q", c.arg, err, c.err)
			}
			continue
		}
		if err != nil || scope != c.scope || strings.Join(accounts, "|") != strings.Join(c.accounts, "|") {
			t.Errorf("%q: %q %q %v, want %q %q", c.arg, scope, accounts, err, c.scope, c.accounts)
		}
	}
}

// FuzzParseRightChanges: any words give either a clear error naming the
// rights argument or only known rights; nothing panics.
func FuzzParseRightChanges(f *testing.F) {
	for _, s := range []string{"users.view=Y logs=N", "a=b", "=", "logs=Y,logs=N", "accounts.balance=yes", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		changes, err := core.ParseRightChanges(strings.Fields(line))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "rights: ") {
				t.Fatalf("%q: error not naming the argument: %v", line, err)
			}
			return
		}
		if len(changes) == 0 {
			t.Fatalf("%q: no error and no change", line)
		}
		for r := range changes {
			if !model.KnownAdminRight(r) {
				t.Fatalf("%q: unknown right %q accepted", line, r)
			}
		}
	})
}

// FuzzParseAdminScope: any argument gives a clear error naming the scope
// argument, a keyword scope without accounts, or a list of top-level names.
func FuzzParseAdminScope(f *testing.F) {
	for _, s := range []string{"all", "access-list", "Physics,Chemistry", `A\B`, ",", " "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		scope, accounts, err := core.ParseAdminScope(arg)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "scope: ") {
				t.Fatalf("%q: error not naming the argument: %v", arg, err)
			}
			return
		}
		switch scope {
		case model.ScopeAll, model.ScopeAccessList:
			if len(accounts) != 0 {
				t.Fatalf("%q: %s with accounts %q", arg, scope, accounts)
			}
		case model.ScopeAccounts:
			if len(accounts) == 0 {
				t.Fatalf("%q: an account scope without accounts", arg)
			}
			for _, a := range accounts {
				if a == "" || a != strings.TrimSpace(a) || strings.ContainsAny(a, `,\`) {
					t.Fatalf("%q: bad account name %q", arg, a)
				}
			}
		default:
			t.Fatalf("%q: unknown scope %q", arg, scope)
		}
	})
}
