package cards

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCardImport(t *testing.T) {
	input := "\ufeff# username\tcard\tPIN\r\n" +
		"JSmith\t1234567890\r\n" + // 2
		"\r\n" + // 3 blank
		"  # indented comment\n" + // 4
		" alice \t AB12cd \t 1234 \n" + // 5 fields trimmed
		"bob\t555\t\t\n" + // 6 trailing empty fields
		"carol\t1234567890\n" + // 7 card repeated from line 2
		"jsmith\t999\n" + // 8 user repeated from line 2
		"\t777\n" + // 9 no username
		"dave\n" + // 10 no card
		"erin\t12-34\n" + // 11 dash in card
		"frank\t" + strings.Repeat("9", 65) + "\n" + // 12 card too long
		"gina\t888\t12 34\n" + // 13 space in PIN
		"hank\t889\t" + strings.Repeat("1", 65) + "\n" + // 14 PIN too long
		"ivan\t890\t1\textra\n" + // 15 too many fields
		"jo\xffe\t891\n" + // 16 bad UTF-8
		"kim\x01\t892\n" + // 17 control character
		"Ünal\t893\tp@ss!\n" + // 18 non-ASCII username, printable PIN
		"lee\t" + strings.Repeat("x", MaxImportLineLength) + "\n" + // 19 too long
		"mia\t894" // 20 last line without line end

	records, problems, err := ParseCardImport(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	wantRecords := []CardRecord{
		{Line: 2, Username: "jsmith", Card: "1234567890"},
		{Line: 5, Username: "alice", Card: "AB12cd", PIN: "1234", HasPIN: true},
		{Line: 6, Username: "bob", Card: "555"},
		{Line: 18, Username: "ünal", Card: "893", PIN: "p@ss!", HasPIN: true},
		{Line: 20, Username: "mia", Card: "894"},
	}
	if fmt.Sprint(records) != fmt.Sprint(wantRecords) {
		t.Errorf("records:\n got %v\nwant %v", records, wantRecords)
	}
	wantProblems := []struct {
		line          int
		field, reason string
	}{
		{7, "card", "already given on line 2"},
		{8, "username", `user "jsmith" already given on line 2`},
		{9, "username", "required"},
		{10, "card", "required"},
		{11, "card", "character 3 of the card number is not a letter or digit"},
		{12, "card", "65 characters long: at most 64"},
		{13, "pin", "character 3 of the PIN"},
		{14, "pin", "65 characters long"},
		{15, "line", "has 4 fields"},
		{16, "line", "not valid UTF-8"},
		{17, "username", "character 4 of the username is a control character"},
		{19, "line", "longer than 4096 bytes"},
	}
	if len(problems) != len(wantProblems) {
		t.Fatalf("got %d problems, want %d: %v", len(problems), len(wantProblems), problems)
	}
	for i, want := range wantProblems {
		got := problems[i]
		if got.Line != want.line || got.Field != want.field || !strings.Contains(got.Reason, want.reason) {
			t.Errorf("problem %d = %v; want line %d, %s: …%s…", i, got, want.line, want.field, want.reason)
		}
	}
	if got := problems[0].Error(); got != "line 7: card: card number already given on line 2; skipped" {
		t.Errorf("LineError.Error() = %q", got)
	}
}

func TestParseCardImportLineLimit(t *testing.T) {
	exact := "u\t" + strings.Repeat("1", MaxCardLength) + "\t" + strings.Repeat("p", MaxImportLineLength-MaxCardLength-3)
	if len(exact) != MaxImportLineLength {
		t.Fatalf("test line is %d bytes", len(exact))
	}
	// A line of exactly the limit is read whatever its line end; one byte
	// more is skipped, and a huge line does not stop the lines after it.
	for _, end := range []string{"\n", "\r\n", ""} {
		records, problems, err := ParseCardImport(strings.NewReader(exact + end))
		if err != nil {
			t.Fatal(err)
		}
		// The PIN is too long, so the line is read and then refused for it.
		if len(records) != 0 || len(problems) != 1 || problems[0].Field != "pin" {
			t.Errorf("line end %q: records %v, problems %v; want a PIN problem", end, records, problems)
		}
	}
	huge := "a\t" + strings.Repeat("9", 10<<20) + "\r\nb\t2\n" + exact + "x\nc\t3"
	records, problems, err := ParseCardImport(strings.NewReader(huge))
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 2 || records[0].Username != "b" || records[0].Line != 2 || records[1].Username != "c" || records[1].Line != 4 {
		t.Errorf("records = %v; want b on line 2 and c on line 4", records)
	}
	if len(problems) != 2 || problems[0].Line != 1 || problems[1].Line != 3 || problems[1].Field != "line" {
		t.Errorf("problems = %v; want over-long lines 1 and 3", problems)
	}
}

func TestParseCardImportEmpty(t *testing.T) {
	for _, in := range []string{"", "\ufeff", "\n\n", "# only a comment\r\n"} {
		records, problems, err := ParseCardImport(strings.NewReader(in))
		if err != nil || len(records) != 0 || len(problems) != 0 {
			t.Errorf("ParseCardImport(%q) = %v, %v, %v; want nothing", in, records, problems, err)
		}
	}
}

type failingReader struct{ after io.Reader }

func (r failingReader) Read(p []byte) (int, error) {
	n, err := r.after.Read(p)
	if errors.Is(err, io.EOF) {
		return n, errors.New("disk on fire")
	}
	return n, err
}

func TestParseCardImportReadError(t *testing.T) {
	_, _, err := ParseCardImport(failingReader{strings.NewReader("a\t1\nb\t2\n")})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("error = %v; want the reader's error at line 3", err)
	}
}

func TestValidateCardNumberAndPIN(t *testing.T) {
	for card, ok := range map[string]bool{"1": true, "AbC123": true, "": false, "12 3": false, "12-3": false, "１２": false, strings.Repeat("a", 64): true, strings.Repeat("a", 65): false} {
		if err := ValidateCardNumber(card); (err == nil) != ok {
			t.Errorf("ValidateCardNumber(%q) = %v; want ok=%v", card, err, ok)
		}
	}
	for pin, ok := range map[string]bool{"1234": true, "p@ss!~": true, "": false, "12 34": false, "12\t3": false, "é": false, strings.Repeat("1", 64): true, strings.Repeat("1", 65): false} {
		if err := ValidatePIN(pin); (err == nil) != ok {
			t.Errorf("ValidatePIN(%q) = %v; want ok=%v", pin, err, ok)
		}
	}
}

func FuzzParseCardImport(f *testing.F) {
	f.Add("\ufeffjsmith\t123\t1234\r\nalice\tAB12\n# c\n\nbob\t123\n")
	f.Add("a\t1\na\t2\nb\t1\t\t\t\n\t\t\n")
	f.Add("x\xff\t1\nY\t2\tp w\n" + strings.Repeat("z", MaxImportLineLength+1) + "\nq\t3")
	f.Fuzz(func(t *testing.T, input string) {
		records, problems, err := ParseCardImport(strings.NewReader(input))
		if err != nil {
			t.Fatalf("error from an in-memory reader: %v", err)
		}
		lines := map[int]bool{}
		cards := map[string]bool{}
		users := map[string]bool{}
		for _, r := range records {
			if r.Line < 1 || lines[r.Line] {
				t.Fatalf("record %+v has a bad or repeated line number", r)
			}
			lines[r.Line] = true
			if r.Username == "" || r.Username != strings.ToLower(r.Username) || !utf8.ValidString(r.Username) || strings.ContainsAny(r.Username, "\t\r\n") {
				t.Fatalf("record %+v has a bad username", r)
			}
			if err := ValidateCardNumber(r.Card); err != nil {
				t.Fatalf("record %+v: %v", r, err)
			}
			if r.HasPIN != (r.PIN != "") {
				t.Fatalf("record %+v: HasPIN does not match PIN", r)
			}
			if r.HasPIN {
				if err := ValidatePIN(r.PIN); err != nil {
					t.Fatalf("record %+v: %v", r, err)
				}
			}
			if cards[r.Card] || users[r.Username] {
				t.Fatalf("record %+v repeats a card or user", r)
			}
			cards[r.Card], users[r.Username] = true, true
		}
		for _, p := range problems {
			if p.Line < 1 || lines[p.Line] || p.Reason == "" {
				t.Fatalf("problem %+v has a bad line number or no reason", p)
			}
			lines[p.Line] = true
			switch p.Field {
			case "line", "username", "card", "pin":
			default:
				t.Fatalf("problem %+v names unknown field", p)
			}
		}
		if n := strings.Count(input, "\n") + 1; len(lines) > n {
			t.Fatalf("%d lines reported from %d lines of input", len(lines), n)
		}
	})
}
