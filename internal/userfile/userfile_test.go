package userfile

import (
	"strings"
	"testing"
)

// TestLayoutsShareRulesAndDifferWhereTheyShould: the same fields get the
// same checks in both layouts; the columns differ, and only the internal
// layout applies every rule of a new username.
func TestLayoutsShareRulesAndDifferWhereTheyShould(t *testing.T) {
	batch := "alice\t12.50\tY\tAlice A\talice@example.org\tMaths\tB2\t1001\t4321\tnote\t2002\ta@x.org;b@y.org\tali\t\\\\srv\\alice\n" +
		"\u0430dmin\t1\n" + // a look-alike: the importer decides, not the parser
		"bob\tlots\n"
	lines, bad, err := Parse(strings.NewReader(batch), Batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || len(bad) != 1 || bad[0].Line != 3 || bad[0].Field != "credit balance" {
		t.Fatalf("batch: lines %+v, bad %+v", lines, bad)
	}
	a := lines[0]
	if a.Username != "alice" || a.Balance.String() != "12.50" || !*a.Restricted || *a.SecondaryCard != "2002" ||
		*a.OtherEmails != "a@x.org,b@y.org" || *a.Alias != "ali" || *a.HomeFolder != `\\srv\alice` || a.Password != "" {
		t.Errorf("batch line: %+v", a)
	}

	internal := " Carol \t  correct horse battery  \t5\tN\n" +
		"\u0430dmin\tcorrect horse battery\n" +
		"dave\tshort\n" +
		"erin\tcorrect horse battery\t\t\t\t\t\t\t1234\t12\n"
	lines, bad, err = Parse(strings.NewReader(internal), Internal)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0].Username != "carol" || lines[0].Password != "  correct horse battery  " {
		t.Fatalf("internal: lines %+v", lines)
	}
	want := map[int]string{2: "username", 3: "password", 4: "card PIN"}
	if len(bad) != len(want) {
		t.Fatalf("internal: bad %+v", bad)
	}
	for _, e := range bad {
		if want[e.Line] != e.Field {
			t.Errorf("internal line %d: field %q, want %q (%s)", e.Line, e.Field, want[e.Line], e.Reason)
		}
		if strings.Contains(e.Error(), "short") || strings.Contains(e.Error(), "12\n") {
			t.Errorf("a refusal repeats the secret: %v", e)
		}
	}
	if _, bad, _ := Parse(strings.NewReader("x\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\n"), Internal); len(bad) != 1 || !strings.Contains(bad[0].Reason, "at most 11") {
		t.Errorf("too many internal fields: %+v", bad)
	}
}

// FuzzParse: any input, in either layout, gives lines in file order, each
// username once, and refusals that name a line and never repeat a
// password or PIN.
func FuzzParse(f *testing.F) {
	f.Add("alice\t1.00\tY\tA\ta@b.c\tD\tO\t123\t4321\tn\t456\ta@b.c\tal\th\n", false)
	f.Add("bob\tcorrect horse battery\t2\tN\n#c\n\nbob\tx\n", true)
	f.Add("\ufeffzoë\r\nzoë\r\n", false)
	f.Fuzz(func(t *testing.T, data string, internal bool) {
		l := Batch
		if internal {
			l = Internal
		}
		lines, bad, err := Parse(strings.NewReader(data), l)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		last := 0
		for _, line := range lines {
			if line.Line <= last || seen[line.Username] || line.Username == "" {
				t.Fatalf("line %d %q after line %d (seen %v)", line.Line, line.Username, last, seen[line.Username])
			}
			last, seen[line.Username] = line.Line, true
			if !internal && line.Password != "" {
				t.Fatalf("a batch line has a password")
			}
		}
		for _, e := range bad {
			if e.Line <= 0 || e.Reason == "" {
				t.Fatalf("refusal without a line or reason: %+v", e)
			}
		}
	})
}
