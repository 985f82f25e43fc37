package internalusers

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/auth"
)

const goodPassword = "correct horse battery"

func TestParseTextRules(t *testing.T) {
	file := "\xef\xbb\xbfAlice\t" + goodPassword + "\t12.50\tY\tAlice Smith\talice@example.org\tScience\tRoom 1\tC123\t1234\tfirst\r\n" +
		"\r\n" +
		"# a comment\n" +
		"   \t  \n" +
		"bob\n" +
		"carol\t\t\t\t\t\t\t\t\t\t\n"
	lines, skipped, err := Parse(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 0 {
		t.Fatalf("skipped %v", skipped)
	}
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3", len(lines))
	}
	a := lines[0]
	if a.Line != 1 || a.Username != "alice" || a.Password != goodPassword || a.Balance.String() != "12.50" || !*a.Restricted ||
		*a.FullName != "Alice Smith" || *a.Email != "alice@example.org" || *a.Department != "Science" || *a.Office != "Room 1" ||
		*a.PrimaryCard != "C123" || *a.PIN != "1234" || *a.Notes != "first" {
		t.Errorf("alice = %+v", a)
	}
	if b := lines[1]; b.Line != 5 || b.Username != "bob" || b.Password != "" || b.Balance != nil || b.FullName != nil || b.PIN != nil {
		t.Errorf("bob = %+v", b)
	}
	if c := lines[2]; c.Line != 6 || c.Username != "carol" {
		t.Errorf("carol = %+v", c)
	}
}

func TestParsePasswordKeepsItsSpaces(t *testing.T) {
	lines, skipped, err := Parse(strings.NewReader("dave\t  " + goodPassword + " \n"))
	if err != nil || len(skipped) != 0 || len(lines) != 1 {
		t.Fatalf("lines %v skipped %v err %v", lines, skipped, err)
	}
	if lines[0].Password != "  "+goodPassword+" " {
		t.Errorf("password = %q, want the spaces kept", lines[0].Password)
	}
}

func TestParseRefusesBadLines(t *testing.T) {
	long := strings.Repeat("x", 257)
	cases := []struct {
		name, line, field, reason string
	}{
		{"slash in username", "a/b\t" + goodPassword, "username", "must not contain '/'"},
		{"backslash in username", `a\b` + "\t" + goodPassword, "username", `must not contain '\\'`},
		{"at in username", "a@b\t" + goodPassword, "username", "must not contain '@'"},
		{"control in username", "a\x01b\t" + goodPassword, "username", "control character"},
		{"51 characters", strings.Repeat("u", 51) + "\t" + goodPassword, "username", "longer than 50"},
		{"short password", "eve\tshort", "password", "at least 8"},
		{"whitespace password", "eve\t          ", "password", "only spaces"},
		{"257 characters", "eve\t" + long, "password", "longer than 256"},
		{"NUL in password", "eve\tabc\x00defghij", "password", "NUL"},
		{"common password", "eve\ttrustno1", "password", "commonly used"},
		{"balance", "eve\t\tlots", "credit balance", "not an amount"},
		{"restricted", "eve\t\t\tmaybe", "restricted", "not Y or N"},
		{"email", "eve\t\t\t\t\tnot-an-address", "email", "not an email address"},
		{"card", "eve\t\t\t\t\t\t\t\tC-1", "primary card/ID", "letters and digits"},
		{"PIN", "eve\t\t\t\t\t\t\t\t\t12", "card PIN", "4 to 32"},
		{"control in full name", "eve\t\t\t\tEve\x07", "full name", "control character"},
		{"too many fields", "eve" + strings.Repeat("\tx", 11), "", "at most 11"},
		{"not UTF-8", "eve\t\xff\xfe" + goodPassword, "", "not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines, skipped, err := Parse(strings.NewReader("# header\n" + c.line + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != 0 || len(skipped) != 1 {
				t.Fatalf("lines %v skipped %v, want one skipped line", lines, skipped)
			}
			s := skipped[0]
			if s.Line != 2 || s.Field != c.field || !strings.Contains(s.Error(), c.reason) {
				t.Errorf("got %q (field %q), want line 2, field %q, reason containing %q", s.Error(), s.Field, c.field, c.reason)
			}
			if c.field == "password" || c.field == "card PIN" {
				secret := strings.Split(c.line, "\t")
				if v := secret[len(secret)-1]; strings.TrimSpace(v) != "" && strings.Contains(s.Error(), v) {
					t.Errorf("the report %q repeats the secret", s.Error())
				}
			}
		})
	}
}

func TestParseHugeLineIsReportedAndReadingGoesOn(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("first\t" + goodPassword + "\n")
	b.WriteString("huge\t" + strings.Repeat("p", 1<<20) + "\n")
	b.WriteString("last\t" + goodPassword + "\n")
	lines, skipped, err := Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Username != "first" || lines[1].Username != "last" || lines[1].Line != 3 {
		t.Fatalf("lines = %+v", lines)
	}
	if len(skipped) != 1 || skipped[0].Line != 2 || !strings.Contains(skipped[0].Reason, "longer than") {
		t.Fatalf("skipped = %v", skipped)
	}
}

func TestParseDuplicateUsernameNamesTheFirstLine(t *testing.T) {
	_, skipped, err := Parse(strings.NewReader("Bob\t" + goodPassword + "\nbob\t" + goodPassword + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].Line != 2 || !strings.Contains(skipped[0].Reason, "line 1") {
		t.Fatalf("skipped = %v", skipped)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("alice\t" + goodPassword + "\t1.00\tN\tAlice\ta@b.c\tD\tO\t123\t1234\tn\n"))
	f.Add([]byte("\xef\xbb\xbfbob\r\n#c\n\n"))
	f.Add([]byte("a/b\tx\n\xff\n"))
	f.Add([]byte("u\t\t\t\t\t\t\t\t\t\t\t\t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, skipped, err := Parse(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("a byte reader cannot fail: %v", err)
		}
		seen := map[string]bool{}
		for _, l := range lines {
			if err := auth.ValidateUsername(l.Username); err != nil {
				t.Errorf("line %d: username %q accepted: %v", l.Line, l.Username, err)
			}
			if l.Username != auth.NormalizeUsername(l.Username) {
				t.Errorf("line %d: username %q not normalised", l.Line, l.Username)
			}
			if seen[l.Username] {
				t.Errorf("username %q returned twice", l.Username)
			}
			seen[l.Username] = true
			if l.Password != "" && auth.CheckPassword(l.Password) != nil {
				t.Errorf("line %d: a refused password was accepted", l.Line)
			}
		}
		for _, s := range skipped {
			if s.Line < 1 || s.Reason == "" || !utf8.ValidString(s.Error()) && utf8.ValidString(string(data)) {
				t.Errorf("bad skip %+v", s)
			}
		}
	})
}
