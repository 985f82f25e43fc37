package csvexport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
)

func TestCell(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"alice", "alice"},
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"+SUM(A1)", "'+SUM(A1)"},
		{"@x", "'@x"},
		{"-2+3", "'-2+3"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\n=1"},
		{"=HYPERLINK(\"http://evil.example\")", "'=HYPERLINK(\"http://evil.example\")"},
		{"-12.50", "-12.50"},
		{"-0.000001", "-0.000001"},
		{"12.50", "12.50"},
		{"7", "7"},
		{"-7", "-7"},
		{"-", "'-"},
		{"--1", "'--1"},
		{"-1e5", "'-1e5"},
		{"-12,50", "'-12,50"},
		{"-.5", "'-.5"},
		{"-5.", "'-5."},
		{"-1.2.3", "'-1.2.3"},
		{"-١٢", "'-١٢"}, // non-ASCII digits are not a plain number
		{"+12", "'+12"},
		{"a=b", "a=b"},
		{" =1", " =1"}, // a leading space makes it text in a spreadsheet
		{"Zoë Ångström", "Zoë Ångström"},
		{"line one\r\nline two\rthree", "line one\nline two\nthree"},
		{"bad \xff byte", "bad \uFFFD byte"},
	}
	for _, tc := range cases {
		if got := Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriterFileFormat(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	for _, rec := range [][]string{
		{"username", "full name", "balance"},
		{"=cmd|' /C calc'!A0", "+SUM(A1)", "-12.50"},
		{"zoë", "Zoë \"Z\" Ångström", "3.00"},
		{"multi", "a\nb", "0.00"},
	} {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFFusername,full name,balance\r\n" +
		"'=cmd|' /C calc'!A0,'+SUM(A1),-12.50\r\n" +
		"zoë,\"Zoë \"\"Z\"\" Ångström\",3.00\r\n" +
		"multi,\"a\r\nb\",0.00\r\n"
	if got := b.String(); got != want {
		t.Errorf("file =\n%q\nwant\n%q", got, want)
	}
}

func TestWriterWithoutRecordsWritesNothing(t *testing.T) {
	var b bytes.Buffer
	if err := NewWriter(&b).Flush(); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 0 {
		t.Errorf("an empty export wrote %q", b.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errBroken }

var errBroken = errors.New("broken pipe")

func TestWriterReportsWriteErrors(t *testing.T) {
	w := NewWriter(failingWriter{})
	err := w.Write([]string{"a", "b"})
	if err == nil {
		err = w.Flush()
	}
	if err == nil || !strings.Contains(err.Error(), "csvexport: unable to write") {
		t.Fatalf("error = %v, want a csvexport write error", err)
	}
}

// FuzzWriter checks the export's promise: every cell read back by
// encoding/csv starts with none of = + - @ TAB CR unless it is a plain
// number, and otherwise reads back as written.
func FuzzWriter(f *testing.F) {
	for _, seed := range [][2]string{
		{"=cmd|' /C calc'!A0", "+SUM(A1)"},
		{"-12.50", "@x"},
		{"\t=1", "\r\n=1"},
		{"\"=1\"", "a,b"},
		{"", "\xff=1"},
		{"-", "-1e5"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		record := []string{a, b, "end"}
		if err := w.Write(record); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		body, ok := bytes.CutPrefix(buf.Bytes(), []byte(bom))
		if !ok {
			t.Fatalf("no byte-order mark: %q", buf.Bytes())
		}
		got, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("reading back %q: %v", body, err)
		}
		if len(got) != 1 || len(got[0]) != len(record) {
			t.Fatalf("read back %q from %q, want one record of %d cells", got, body, len(record))
		}
		for i, cell := range got[0] {
			if cell != "" && formulaStart(cell[0]) && !IsNumber(cell) {
				t.Errorf("cell %d %q read back as %q, which a spreadsheet would run", i, record[i], cell)
			}
			if want := Cell(record[i]); cell != want {
				t.Errorf("cell %d %q read back as %q, want %q", i, record[i], cell, want)
			}
		}
	})
}
