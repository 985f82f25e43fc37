package usersync

import (
	"context"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
)

func TestParseBatchUsers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		line   string
		reason string // "" when the line is accepted
	}{
		{"username only", "Alice", ""},
		{"every field", "alice\t12.50\tY\tAlice A\ta@x.org\tFinance\tL2\tC123\t1234\tnote\tC456\tb@x.org,c@x.org\tali\t/home/alice", ""},
		{"trailing fields left off", "alice\t\tN", ""},
		{"no username", "\t12", "username: is required"},
		{"bad balance", "alice\ttwelve", `credit balance: "twelve" is not an amount`},
		{"bad restricted", "alice\t\tmaybe", `restricted: "maybe" is not Y or N`},
		{"bad email", "alice\t\t\t\tnot-an-email", `email: "not-an-email" is not an email address`},
		{"bad card", "alice\t\t\t\t\t\t\t12-34", "primary card/ID: \"12-34\" must be 1 to 64 letters and digits"},
		{"short PIN", "alice\t\t\t\t\t\t\t\t12", "card PIN: must be 4 to 32"},
		{"same cards", "alice\t\t\t\t\t\t\tC1\t\t\tC1", "secondary card/ID: is the same number"},
		{"bad other email", "alice\t\t\t\t\t\t\t\t\t\t\ta@x.org,nope", `other emails: "nope"`},
		{"too many fields", "alice" + strings.Repeat("\t", 14), "has 15 fields"},
		{"control character", "alice\t\t\tA\x01B", "full name: contains a control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, skipped, err := ParseBatchUsers(strings.NewReader("# header\n\n" + tc.line + "\r\n"))
			if err != nil {
				t.Fatal(err)
			}
			if tc.reason == "" {
				if len(skipped) != 0 || len(lines) != 1 || lines[0].Line != 3 {
					t.Fatalf("lines = %+v, skipped = %v", lines, skipped)
				}
				return
			}
			if len(skipped) != 1 || !strings.Contains(skipped[0].Error(), tc.reason) || !strings.HasPrefix(skipped[0].Error(), "line 3") {
				t.Fatalf("skipped = %v, want line 3 with %q", skipped, tc.reason)
			}
		})
	}
}

func TestParseBatchUsersFields(t *testing.T) {
	lines, skipped, err := ParseBatchUsers(strings.NewReader("\xef\xbb\xbfAlice\t12.50\tY\tAlice A\ta@x.org\t\t\tC123\t1234\n" +
		"alice\t1\nbob\n"))
	if err != nil || len(skipped) != 1 || len(lines) != 2 {
		t.Fatalf("lines %+v skipped %v err %v", lines, skipped, err)
	}
	a := lines[0]
	if a.Username != "alice" || *a.Balance != mustAmount(t, "12.50") || !*a.Restricted || *a.FullName != "Alice A" ||
		*a.PrimaryCard != "C123" || *a.PIN != "1234" || a.Department != nil || a.Notes != nil {
		t.Errorf("alice = %+v", a)
	}
	if !strings.Contains(skipped[0].Error(), `line 2, username: "alice" is already on line 1`) {
		t.Errorf("duplicate: %v", skipped[0])
	}
}

func FuzzParseBatchUsers(f *testing.F) {
	f.Add("alice\t12.50\tY\tAlice A\ta@x.org\tFinance\tL2\tC123\t1234\tnote\tC456\tb@x.org\tali\t/home/alice\n")
	f.Add("\xef\xbb\xbf# c\r\nbob\t-1\r\n\r\n")
	f.Add("\t\t\t\n\x00\xff")
	f.Fuzz(func(t *testing.T, in string) {
		lines, skipped, err := ParseBatchUsers(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, l := range lines {
			if l.Username == "" || l.Username != strings.ToLower(l.Username) || seen[l.Username] || l.Line < 1 {
				t.Fatalf("bad line %+v", l)
			}
			seen[l.Username] = true
		}
		for _, s := range skipped {
			if s.Line < 1 || s.Reason == "" {
				t.Fatalf("bad skip %+v", s)
			}
		}
	})
}

func TestBatchImport(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		if err := h.core.CreateUser(ctx, admin, &model.User{Username: "bob", FullName: "Bob", PrimaryCard: "B1"}); err != nil {
			t.Fatal(err)
		}
		if err := h.core.CreateUser(ctx, admin, &model.User{Username: "carl", PrimaryCard: "C9"}); err != nil {
			t.Fatal(err)
		}
		file := "bob\t5\tY\tRobert\t\tSales\n" +
			"newbie\t2.5\t\tNew Person\tn@x.org\t\t\tN1\t4321\n" +
			"bob2\t\t\t\t\t\t\tC9\n" + // card of carl
			"bad\tnot-money\n" +
			"carl\n"

		// Without creating new users, unknown users are reported and skipped.
		rep, err := h.svc.BatchImport(ctx, admin, strings.NewReader(file), BatchOptions{Test: true})
		if err != nil {
			t.Fatal(err)
		}
		text := rep.Text()
		for _, want := range []string{"Test only", "line 1: updated bob: full name, department, restricted, balance",
			`line 2, username: user "newbie" does not exist`, "line 4, credit balance"} {
			if !strings.Contains(text, want) {
				t.Errorf("test report lacks %q:\n%s", want, text)
			}
		}
		if h.user("bob").FullName != "Bob" {
			t.Fatal("a test import changed bob")
		}

		rep, err = h.svc.BatchImport(ctx, admin, strings.NewReader(file), BatchOptions{CreateNew: true})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Created != 1 || rep.Updated != 1 || rep.Unchanged != 1 || len(rep.Skipped) != 2 {
			t.Errorf("report = %s", rep.Text())
		}
		if !strings.Contains(rep.Text(), `line 3, primary card/ID: "C9" already belongs to another user`) {
			t.Errorf("report lacks the card conflict:\n%s", rep.Text())
		}
		bob := h.user("bob")
		if bob.FullName != "Robert" || bob.Department != "Sales" || !bob.Restricted || bob.Balance != mustAmount(t, "5") || bob.PrimaryCard != "B1" {
			t.Errorf("bob = %+v", bob)
		}
		newbie := h.user("newbie")
		if newbie.Email != "n@x.org" || newbie.PrimaryCard != "N1" || !newbie.HasPIN() || newbie.Balance != mustAmount(t, "2.5") || newbie.Internal {
			t.Errorf("newbie = %+v", newbie)
		}
		h.noUser("bob2")
		if tr, _ := h.store.Transactions(ctx, bob.ID, 0, 10); len(tr) != 1 {
			t.Errorf("bob's transactions = %+v, want the balance change", tr)
		}
	})
}

func TestBatchImportFileConfinedOverAPI(t *testing.T) {
	h := newHarness(t, false)
	ctx := context.Background()
	inside := h.writeFile("users.txt", "alice\n")
	if _, err := h.svc.BatchImportFile(ctx, admin, inside, BatchOptions{CreateNew: true}, true); err != nil {
		t.Fatalf("file inside the roots: %v", err)
	}
	h.user("alice")
	_, err := h.svc.BatchImportFile(ctx, admin, "/etc/passwd", BatchOptions{CreateNew: true}, true)
	if ce, ok := core.AsError(err); !ok || ce.Code != core.Invalid || !strings.Contains(ce.Msg, "outside") {
		t.Fatalf("err = %v, want the path refused as outside the roots", err)
	}
}

func mustAmount(t *testing.T, s string) money.Amount {
	t.Helper()
	a, err := money.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
