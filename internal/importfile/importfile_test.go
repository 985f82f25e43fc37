package importfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// readAll gives every line as "number:problem:field|field".
func readAll(t testing.TB, input string, maxLine int) ([]string, int) {
	t.Helper()
	r := NewReader(strings.NewReader(input), maxLine)
	var got []string
	for {
		l, err := r.Next()
		if err == io.EOF {
			return got, r.Lines()
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, fmt.Sprintf("%d:%s:%s", l.Number, l.Problem, strings.Join(l.Fields, "|")))
	}
}

func TestReader(t *testing.T) {
	long := strings.Repeat("x", 11)
	for _, tc := range []struct {
		name, input string
		want        []string
		lines       int
	}{
		{"empty", "", nil, 0},
		{"only a byte-order mark", "\xef\xbb\xbf", nil, 1},
		{"LF", "a\tb\nc\n", []string{"1::a|b", "2::c"}, 2},
		{"CRLF and no final line end", "a\r\nb\tc", []string{"1::a", "2::b|c"}, 2},
		{"byte-order mark on line 1 only", "\xef\xbb\xbfa\n\xef\xbb\xbfb\n", []string{"1::a", "2::\ufeffb"}, 2},
		{"blank and comment lines", "# head\n\n  \t \r\n\t\n#x\tb\nd\n", []string{"6::d"}, 6},
		{"comment after a byte-order mark", "\xef\xbb\xbf# head\na\n", []string{"2::a"}, 2},
		{"indented # is data", " # x\n", []string{"1:: # x"}, 1},
		{"fields are not trimmed", " a \t b\t\t\n", []string{"1:: a | b||"}, 1},
		{"exactly the limit", strings.Repeat("y", 10) + "\r\n", []string{"1::" + strings.Repeat("y", 10)}, 1},
		{"limit with a byte-order mark", "\xef\xbb\xbf" + strings.Repeat("y", 10) + "\r\n", []string{"1::" + strings.Repeat("y", 10)}, 1},
		{"one over", long + "\nz\n", []string{"1:line is too long:", "2::z"}, 2},
		{"one over at the end", "z\n" + long, []string{"1::z", "2:line is too long:"}, 2},
		{"far over, CRLF", strings.Repeat("w", 1000) + "\r\nz\r\n", []string{"1:line is too long:", "2::z"}, 2},
		{"long comment", "#" + long + "\n", []string{"1:line is too long:"}, 1},
		{"invalid UTF-8", "a\xff\tb\n", []string{"1:not valid UTF-8:a\xff|b"}, 1},
		{"invalid UTF-8 in a comment", "#\xff\n", nil, 1},
		{"NUL", "a\x00\n", []string{"1:contains a NUL byte:a\x00"}, 1},
		{"invalid UTF-8 and NUL", "\x00\xff\n", []string{"1:not valid UTF-8:\x00\xff"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, lines := readAll(t, tc.input, 10)
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) || lines != tc.lines {
				t.Errorf("got %q after %d lines; want %q after %d", got, lines, tc.want, tc.lines)
			}
		})
	}
}

func TestReaderHugeLineIsNotHeld(t *testing.T) {
	input := "a\n" + strings.Repeat("x", 20<<20) + "\nb\n"
	r := NewReader(strings.NewReader(input), 64<<10)
	got, _ := readAll(t, input, 64<<10)
	if want := []string{"1::a", "2:line is too long:", "3::b"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if size := r.br.Size(); size > 64<<10+8 {
		t.Fatalf("buffer of %d bytes for a 64 KiB limit", size)
	}
}

type failingReader struct{ after io.Reader }

var errDisk = errors.New("disk read error")

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.after.Read(p)
	if err == io.EOF {
		return n, errDisk
	}
	return n, err
}

func TestReaderError(t *testing.T) {
	for _, input := range []string{"a\nb\nc", "a\nb\n" + strings.Repeat("c", 100)} {
		r := NewReader(failingReader{strings.NewReader(input)}, 10)
		var l Line
		var err error
		for range 5 {
			if l, err = r.Next(); err != nil {
				break
			}
		}
		if !errors.Is(err, errDisk) || l.Number != 3 {
			t.Errorf("%q: line %d, error %v; want the disk error on line 3", input, l.Number, err)
		}
		if _, again := r.Next(); !errors.Is(again, errDisk) {
			t.Errorf("%q: after the error Next gave %v", input, again)
		}
	}
}

func TestReaderAllocations(t *testing.T) {
	var b bytes.Buffer
	for i := range 1000 {
		fmt.Fprintf(&b, "Parent %d\tSub\tY\t\t1.00\n", i)
	}
	data := b.Bytes()
	allocs := testing.AllocsPerRun(5, func() {
		r := NewReader(bytes.NewReader(data), 64<<10)
		for {
			if _, err := r.Next(); err != nil {
				return
			}
		}
	})
	// One string a line, plus the reader itself.
	if allocs > 1000+10 {
		t.Fatalf("%v allocations for 1000 lines", allocs)
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{"", "a\tb\r\n#c\n\n", "\xef\xbb\xbfx\n", "\xff\x00\n" + strings.Repeat("z", 40), "\r\r\n\t\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxLine = 16
		r := NewReader(bytes.NewReader(data), maxLine)
		last := 0
		for {
			l, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("error from an in-memory reader: %v", err)
			}
			if l.Number <= last {
				t.Fatalf("line %d after line %d", l.Number, last)
			}
			last = l.Number
			if l.Problem == TooLong {
				if len(l.Fields) != 0 {
					t.Fatalf("line %d: fields of an over-long line", l.Number)
				}
				continue
			}
			text := strings.Join(l.Fields, "\t")
			switch {
			case len(text) > maxLine:
				t.Fatalf("line %d: %d bytes passed a %d-byte limit", l.Number, len(text), maxLine)
			case strings.TrimSpace(text) == "" || text[0] == '#':
				t.Fatalf("line %d: blank or comment %q returned", l.Number, text)
			case strings.ContainsAny(text, "\n") || strings.HasSuffix(text, "\r"):
				t.Fatalf("line %d: line end left in %q", l.Number, text)
			case (l.Problem == NotUTF8) == utf8.ValidString(text):
				t.Fatalf("line %d: problem %v for %q", l.Number, l.Problem, text)
			case l.Problem == HasNUL && !strings.Contains(text, "\x00"):
				t.Fatalf("line %d: NUL reported in %q", l.Number, text)
			}
		}
		want := bytes.Count(data, []byte{'\n'})
		if len(data) > 0 && data[len(data)-1] != '\n' {
			want++
		}
		if r.Lines() != want {
			t.Fatalf("Lines() = %d, want %d", r.Lines(), want)
		}
	})
}
