package source

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/money"
)

func parse(t testing.TB, text string) *Result {
	t.Helper()
	res, err := ParseImportFile(strings.NewReader(text), ParseOptions{})
	if err != nil {
		t.Fatalf("ParseImportFile: %v", err)
	}
	return res
}

func ptr[T any](v T) *T { return &v }

func TestParseImportFileGoodLine(t *testing.T) {
	res := parse(t, "Client 1\tMatter 7\ty\t4711\t-12.50\tN\talice| bob |ALICE\tStaff\tuser_choice_on\tcomment_required\t Opened 2024 \n")
	if len(res.Skipped) != 0 || len(res.Records) != 1 {
		t.Fatalf("skipped %v, records %d", res.Skipped, len(res.Records))
	}
	amount := money.Amount(-12_500_000)
	want := Record{
		Line: 1, Parent: "Client 1", Sub: "Matter 7",
		Enabled: ptr(true), PIN: ptr("4711"), Balance: &amount, Restricted: ptr(false),
		Users: &[]string{"alice", "bob"}, Groups: &[]string{"Staff"}, AllUsers: ptr(false),
		InvoiceOption: ptr("USER_CHOICE_ON"), CommentOption: ptr("COMMENT_REQUIRED"), Notes: ptr("Opened 2024"),
	}
	if got := res.Records[0]; !reflect.DeepEqual(got, want) {
		t.Fatalf("record\n got %+v\nwant %+v", got, want)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Line != 1 || !strings.Contains(res.Warnings[0].Field, "Users allowed") {
		t.Fatalf("warnings = %v, want one about ALICE listed twice", res.Warnings)
	}
	if res.Records[0].FullName() != `Client 1\Matter 7` {
		t.Fatalf("FullName = %q", res.Records[0].FullName())
	}
}

// Every kind of bad line of SPEC §3.1 is skipped with its line number and
// a reason naming the field, and the good line after it is still read.
func TestParseImportFileMalformedLines(t *testing.T) {
	for _, tc := range []struct {
		name   string
		line   string
		field  string // part of LineError.Field; "" for the whole line
		reason string // part of LineError.Reason
	}{
		{"missing parent", "\tSub", "field 1 (Parent account name)", "required"},
		{"backslash in parent", `Dept\Sub`, "field 1", `contains "\"`},
		{"backslash in sub", "Dept\tA\\B", "field 2 (Sub-account name)", `contains "\"`},
		{"NUL in parent", "Dept\x00X", "field 1", "control character U+0000"},
		{"escape in sub", "Dept\tA\x1bB", "field 2", "control character U+001B"},
		{"C1 control in parent", "De\u0085pt", "field 1", "control character U+0085"},
		{"parent too long", strings.Repeat("é", MaxNameLength+1), "field 1", "256 characters"},
		{"sub too long", "D\t" + strings.Repeat("x", MaxNameLength+1), "field 2", "at most 255"},
		{"enabled not Y/N", "Dept\t\tyes", "field 3 (Enabled)", `"yes" is not Y or N`},
		{"PIN control char", "Dept\t\t\t12\x0734", "field 4 (PIN / code)", "control character"},
		{"PIN too long", "Dept\t\t\t" + strings.Repeat("1", 256), "field 4", "longer than 255"},
		{"comma balance", "Dept\t\t\t\t12,50", "field 5 (Credit balance)", `"12,50" is not a decimal number`},
		{"word balance", "Dept\t\t\t\tten", "field 5", "not a decimal number"},
		{"balance too precise", "Dept\t\t\t\t1.1234567", "field 5", "more than 6 decimal places"},
		{"balance too large", "Dept\t\t\t\t10000000000000", "field 5", "too large"},
		{"restricted not Y/N", "Dept\t\t\t\t\tX", "field 6 (Restricted)", "not Y or N"},
		{"users control char", "Dept\t\t\t\t\t\tal\x01ice", "field 7 (Users allowed)", "control character"},
		{"users dash among names", "Dept\t\t\t\t\t\talice|-", "field 7", `"-" clears the list only`},
		{"users only separators", "Dept\t\t\t\t\t\t| |", "field 7", "names no one"},
		{"user name too long", "Dept\t\t\t\t\t\t" + strings.Repeat("u", 256), "field 7", "longer than 255"},
		{"groups control char", "Dept\t\t\t\t\t\t\tSt\x7faff", "field 8 (Groups allowed)", "control character U+007F"},
		{"unknown invoice option", "Dept\t\t\t\t\t\t\t\tSOMETIMES", "field 9 (Invoice option)", `"SOMETIMES" is not an invoice option`},
		{"comment word in invoice column", "Dept\t\t\t\t\t\t\t\tNO_COMMENT", "field 9", "not an invoice option"},
		{"unknown comment option", "Dept\t\t\t\t\t\t\t\t\tMAYBE", "field 10 (Comment option)", "not a comment option"},
		{"notes control char", "Dept\t\t\t\t\t\t\t\t\t\tsee\x0cpage", "field 11 (Notes)", "control character"},
		{"too many fields", "Dept\t\t\t\t\t\t\t\t\t\tnotes\textra", "", "12 tab-separated fields; at most 11"},
		{"byte-order mark after line 1", "\ufeffDept", "field 1", "byte-order mark (U+FEFF)"},
		{"invalid UTF-8 in parent", "Caf\xe9", "field 1", "not valid UTF-8"},
		{"invalid UTF-8 in notes", "Dept\t\t\t\t\t\t\t\t\t\tno\xfftes", "field 11", "not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := parse(t, "# header\nGood 1\n"+tc.line+"\nGood 2\n")
			if len(res.Skipped) != 1 {
				t.Fatalf("skipped = %v, want exactly one", res.Skipped)
			}
			got := res.Skipped[0]
			if got.Line != 3 {
				t.Errorf("line = %d, want 3", got.Line)
			}
			if tc.field == "" && got.Field != "" || !strings.Contains(got.Field, tc.field) {
				t.Errorf("field = %q, want %q", got.Field, tc.field)
			}
			if !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("reason = %q, want it to contain %q", got.Reason, tc.reason)
			}
			if !strings.HasPrefix(got.Error(), "line 3") {
				t.Errorf("Error() = %q, want it to start with the line", got.Error())
			}
			if len(res.Records) != 2 || res.Records[0].Parent != "Good 1" || res.Records[1].Parent != "Good 2" {
				t.Errorf("records = %+v, want Good 1 and Good 2", res.Records)
			}
			if res.LinesRead != 4 {
				t.Errorf("LinesRead = %d, want 4", res.LinesRead)
			}
		})
	}
}

func TestLineErrorMessage(t *testing.T) {
	res := parse(t, strings.Repeat("\n", 11)+"Dept\t\t\t\t12,50\n")
	if got, want := res.Skipped[0].Error(), `line 12, field 5 (Credit balance): "12,50" is not a decimal number (use "." as the decimal separator)`; got != want {
		t.Fatalf("Error() = %q\nwant %q", got, want)
	}
	dir := LineError{Path: "Customers/A\\B", Field: "directory", Reason: "bad"}
	if got, want := dir.Error(), `directory "Customers/A\\B": bad`; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestParseImportFileLayout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		text    string
		parents []string
		lines   []int
		read    int
	}{
		{"BOM and LF", "\xef\xbb\xbfA\nB\n", []string{"A", "B"}, []int{1, 2}, 2},
		{"CRLF", "A\tS\tY\r\nB\r\n", []string{"A", "B"}, []int{1, 2}, 2},
		{"no final newline", "A\nB", []string{"A", "B"}, []int{1, 2}, 2},
		{"comments and blank lines", "# export\n\n   \n\t\t\nA\n#B\n\r\nC\n", []string{"A", "C"}, []int{5, 8}, 8},
		{"trailing fields left off", "A\tS\nB\t\tN\n", []string{"A", "B"}, []int{1, 2}, 2},
		{"names trimmed", "  A  \t  S  \n", []string{"A"}, []int{1}, 1},
		{"empty file", "", nil, nil, 0},
		{"only comments", "# nothing\n", nil, nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := parse(t, tc.text)
			var parents []string
			var lines []int
			for _, r := range res.Records {
				parents = append(parents, r.Parent)
				lines = append(lines, r.Line)
			}
			if !reflect.DeepEqual(parents, tc.parents) || !reflect.DeepEqual(lines, tc.lines) || len(res.Skipped) != 0 {
				t.Fatalf("parents %q lines %v skipped %v; want %q %v", parents, lines, res.Skipped, tc.parents, tc.lines)
			}
			if res.LinesRead != tc.read {
				t.Fatalf("LinesRead = %d, want %d", res.LinesRead, tc.read)
			}
		})
	}
}

func TestParseImportFileBlankFieldsLeaveAsIs(t *testing.T) {
	res := parse(t, "A\tS\t\t\t\t\t\t\t\t\t\n")
	want := Record{Line: 1, Parent: "A", Sub: "S"}
	if !reflect.DeepEqual(res.Records[0], want) {
		t.Fatalf("got %+v, want every value nil", res.Records[0])
	}
}

func TestParseImportFileAccessLists(t *testing.T) {
	for _, tc := range []struct {
		name     string
		users    string
		groups   string
		want     *[]string // users
		wantG    *[]string
		allUsers *bool
	}{
		{"blank both", "", "", nil, nil, nil},
		{"dash clears users", "-", "", &[]string{}, nil, nil},
		{"dash clears groups", "", "-", nil, &[]string{}, ptr(false)},
		{"all users in groups", "", "Staff|[All Users]", nil, &[]string{"Staff"}, ptr(true)},
		{"alt all users in groups", "", "!!All Users!!", nil, &[]string{}, ptr(true)},
		{"all users in users column", "alice|[All Users]", "", &[]string{"alice"}, nil, ptr(true)},
		{"alt all users alone in users", "!!All Users!!", "Staff", &[]string{}, &[]string{"Staff"}, ptr(true)},
		{"groups without token", "bob", "Staff", &[]string{"bob"}, &[]string{"Staff"}, ptr(false)},
		{"empty entries dropped", "a||b|", "", &[]string{"a", "b"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := parse(t, "A\t\t\t\t\t\t"+tc.users+"\t"+tc.groups+"\n")
			if len(res.Records) != 1 {
				t.Fatalf("skipped %v", res.Skipped)
			}
			r := res.Records[0]
			if !reflect.DeepEqual(r.Users, tc.want) || !reflect.DeepEqual(r.Groups, tc.wantG) || !reflect.DeepEqual(r.AllUsers, tc.allUsers) {
				t.Fatalf("users %v groups %v all %v; want %v %v %v", deref(r.Users), deref(r.Groups), r.AllUsers,
					deref(tc.want), deref(tc.wantG), tc.allUsers)
			}
		})
	}
}

func deref(p *[]string) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestParseImportFileDuplicates(t *testing.T) {
	text := strings.Join([]string{
		"Client\tMatter\t\t111", // 1
		"client\tMATTER",        // 2: same account, other case
		"Client",                // 3: the parent itself is another account
		"Other\t\t\t111",        // 4: PIN of line 1
		"CLIENT",                // 5: duplicate of line 3
		"Third\t\t\t222",        // 6
		"Fourth\t\t\t 222 ",     // 7: PIN of line 6 after trimming
		"Fifth\t\t\t111x",       // 8: different PIN
	}, "\n")
	res := parse(t, text)
	var got []string
	for _, s := range res.Skipped {
		got = append(got, s.Error())
	}
	want := []string{
		`line 2: "client\\MATTER" is a duplicate of line 1`,
		"line 4, field 4 (PIN / code): the PIN is already given to another account on line 1; PINs must be unique",
		`line 5: "CLIENT" is a duplicate of line 3`,
		"line 7, field 4 (PIN / code): the PIN is already given to another account on line 6; PINs must be unique",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("skipped\n got %q\nwant %q", got, want)
	}
	if len(res.Records) != 4 {
		t.Fatalf("records = %d, want 4", len(res.Records))
	}
}

// A skipped line does not reserve its name or PIN: the corrected line
// further down is used.
func TestParseImportFileSkippedLineReservesNothing(t *testing.T) {
	res := parse(t, "A\t\t\t9\tbad\nA\t\t\t9\t1\n")
	if len(res.Skipped) != 1 || len(res.Records) != 1 || res.Records[0].Line != 2 {
		t.Fatalf("skipped %v records %+v", res.Skipped, res.Records)
	}
}

func TestParseImportFileLongLine(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("Before\n")
	b.WriteString("Huge\t\t\t\t\t\t\t\t\t\t")
	b.Write(bytes.Repeat([]byte("x"), 10<<20))
	b.WriteString("\nAfter\tSub\r\n")
	b.WriteString("Y" + strings.Repeat("\t", 10) + strings.Repeat("y", DefaultMaxLineBytes-11) + "\n") // exactly the limit: read
	b.WriteString(strings.Repeat("z", DefaultMaxLineBytes+1))                                          // one over, at EOF
	res, err := ParseImportFile(&b, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 3 || res.Records[1].Parent != "After" || res.Records[1].Line != 3 || res.Records[2].Line != 4 {
		t.Fatalf("records %+v", res.Records)
	}
	if len(res.Skipped) != 2 {
		t.Fatalf("skipped = %v, want lines 2 and 5", res.Skipped)
	}
	for i, line := range []int{2, 5} {
		if s := res.Skipped[i]; s.Line != line || !strings.Contains(s.Reason, "longer than 65536 bytes") {
			t.Fatalf("skipped[%d] = %v", i, s)
		}
	}
	if res.LinesRead != 5 {
		t.Fatalf("LinesRead = %d", res.LinesRead)
	}
}

func TestParseImportFileEmpty(t *testing.T) {
	for _, text := range []string{"", "\n\n", "# only a header\n", "\xef\xbb\xbf"} {
		if res := parse(t, text); !res.Empty() {
			t.Errorf("%q: Empty() = false", text)
		}
	}
	if res := parse(t, "Dept\t\t\t\tbad\n"); res.Empty() {
		t.Error("a file with only a skipped line is not empty: the caller must report the line")
	}
}

type failingReader struct{ after io.Reader }

var errDisk = errors.New("disk read error")

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.after.Read(p)
	if err == io.EOF {
		return n, errDisk
	}
	return n, err
}

func TestParseImportFileReadError(t *testing.T) {
	_, err := ParseImportFile(&failingReader{strings.NewReader("A\nB\nC")}, ParseOptions{})
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v, want the disk error at line 3", err)
	}
}

func TestParseImportFileProgress(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSampleImportFile(&b, 25_000, 1); err != nil {
		t.Fatal(err)
	}
	var calls []int
	res, err := ParseImportFile(&b, ParseOptions{Progress: func(n int) { calls = append(calls, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(calls, []int{10_000, 20_000, 25_001}) {
		t.Fatalf("progress calls %v", calls)
	}
	if len(res.Records) != 25_000 || len(res.Skipped) != 0 {
		t.Fatalf("sample file: %d records, skipped %v", len(res.Records), res.Skipped[:min(3, len(res.Skipped))])
	}
}

func TestWriteSampleImportFileDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteSampleImportFile(&a, 500, 7); err != nil {
		t.Fatal(err)
	}
	if err := WriteSampleImportFile(&b, 500, 7); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed gave different files")
	}
	res := parse(t, a.String())
	subs := 0
	for _, r := range res.Records {
		if r.Sub != "" {
			subs++
		}
	}
	if len(res.Records) != 500 || subs != 400 {
		t.Fatalf("records %d, sub-accounts %d", len(res.Records), subs)
	}
}

func FuzzParseImportFile(f *testing.F) {
	for _, s := range []string{
		"", "A", "\xef\xbb\xbfA\tB\tY\t1\t2.5\tN\ta|b\t[All Users]\tNEVER_INVOICE\tNO_COMMENT\tnote\r\n",
		"# c\n\nA\\B\n", "\tX\n", "A\t\t\t\t1,2\n", "A\x00\n", "A\nA\n", "A\t\t\t1\nB\t\t\t1\n",
		"A\t-\t\t\t\t\t-\t-\n", "\xff\xfe", strings.Repeat("\t", 20),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseImportFile(bytes.NewReader(data), ParseOptions{MaxLineBytes: 300})
		if err != nil {
			t.Fatalf("error from an in-memory reader: %v", err)
		}
		lines := bytes.Count(data, []byte{'\n'})
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lines++
		}
		if res.LinesRead != lines {
			t.Fatalf("LinesRead = %d, want %d", res.LinesRead, lines)
		}
		seen := map[string]bool{}
		for _, r := range res.Records {
			if r.Line < 1 || r.Line > res.LinesRead {
				t.Fatalf("record line %d out of 1..%d", r.Line, res.LinesRead)
			}
			if err := CheckName(r.Parent); err != nil || r.Parent != strings.TrimSpace(r.Parent) {
				t.Fatalf("line %d: parent %q accepted: %v", r.Line, r.Parent, err)
			}
			if r.Sub != "" {
				if err := CheckName(r.Sub); err != nil || r.Sub != strings.TrimSpace(r.Sub) {
					t.Fatalf("line %d: sub %q accepted: %v", r.Line, r.Sub, err)
				}
			}
			key := strings.ToLower(r.FullName())
			if seen[key] {
				t.Fatalf("account %q given twice", r.FullName())
			}
			seen[key] = true
		}
		for _, s := range append(res.Skipped, res.Warnings...) {
			if s.Line < 1 || s.Line > res.LinesRead || s.Reason == "" {
				t.Fatalf("bad report entry %+v (lines read %d)", s, res.LinesRead)
			}
		}
	})
}

func BenchmarkParseImportFile100k(b *testing.B) {
	var file bytes.Buffer
	if err := WriteSampleImportFile(&file, 100_000, 1); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(file.Len()))
	b.ReportAllocs()
	for b.Loop() {
		res, err := ParseImportFile(bytes.NewReader(file.Bytes()), ParseOptions{})
		if err != nil || len(res.Records) != 100_000 {
			b.Fatalf("records %d, err %v", len(res.Records), err)
		}
	}
}

func BenchmarkParseImportFile1M(b *testing.B) {
	var file bytes.Buffer
	if err := WriteSampleImportFile(&file, 1_000_000, 1); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(file.Len()))
	b.ReportAllocs()
	for b.Loop() {
		res, err := ParseImportFile(bytes.NewReader(file.Bytes()), ParseOptions{})
		if err != nil || len(res.Records) != 1_000_000 {
			b.Fatalf("records %d, err %v", len(res.Records), err)
		}
	}
}
