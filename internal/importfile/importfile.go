// Package importfile reads the lines of Ream's tab-separated import files
// under the text rules they all share (SPEC §3.1): UTF-8 with an optional
// byte-order mark, CRLF or LF line ends, blank lines and lines starting
// with "#" skipped, and a bound on line length. Each parser keeps its own
// field rules and its own report wording; this package only finds the
// lines and says what is wrong with a whole line.
package importfile

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// Problem is what is wrong with a whole line. Parsers word it themselves,
// because each import report has its own voice.
type Problem uint8

// The problems a line can have, in the order they are looked for.
const (
	NoProblem Problem = iota
	// TooLong: the line is longer than the limit. It was read and thrown
	// away without being held in memory, so Line.Fields is empty.
	TooLong
	// NotUTF8: the line is not valid UTF-8. Fields are given so that a
	// parser can name the field at fault.
	NotUTF8
	// HasNUL: the line is valid UTF-8 but contains a NUL byte. Fields are
	// given; parsers that check for control characters may ignore this.
	HasNUL
)

// String is a plain wording of the problem, for parsers without their own.
func (p Problem) String() string {
	switch p {
	case NoProblem:
		return ""
	case TooLong:
		return "line is too long"
	case NotUTF8:
		return "not valid UTF-8"
	case HasNUL:
		return "contains a NUL byte"
	}
	return "unknown problem"
}

// Line is one line of an import file that is neither blank nor a comment.
type Line struct {
	Number  int      // from 1, counting every line of the file
	Fields  []string // tab-separated, untrimmed; reused by the next call to Next
	Problem Problem
}

// Reader yields the data lines of an import file one at a time, holding at
// most one line of the file in memory.
type Reader struct {
	br      *bufio.Reader
	maxLine int
	lines   int
	err     error // sticky: io.EOF or the reader's error, once seen
	fields  []string
}

// bom is the UTF-8 byte-order mark some editors put at the start of a file.
var bom = []byte("\xef\xbb\xbf")

// NewReader reads r; lines longer than maxLine bytes, not counting the line
// end or a byte-order mark, come back as TooLong.
func NewReader(r io.Reader, maxLine int) *Reader {
	maxLine = max(maxLine, 1)
	// Room for a byte-order mark and CR LF, so that every line within the
	// limit fits in the buffer and is never copied.
	return &Reader{br: bufio.NewReaderSize(r, maxLine+len(bom)+2), maxLine: maxLine}
}

// MaxLine is the line length limit, in bytes, for report wording.
func (r *Reader) MaxLine() int { return r.maxLine }

// Lines is the number of lines read so far, blank and comment lines
// included.
func (r *Reader) Lines() int { return r.lines }

// Next returns the next line that is not blank and not a comment. At the
// end of the file it returns io.EOF. If the underlying reader fails, Next
// returns its error with Line.Number set to the line being read.
func (r *Reader) Next() (Line, error) {
	for {
		if r.err != nil {
			return Line{Number: r.lines}, r.err
		}
		raw, err := r.br.ReadSlice('\n')
		tooLong := false
		for errors.Is(err, bufio.ErrBufferFull) {
			// Drain the rest of the line in buffer-sized pieces.
			tooLong = true
			_, err = r.br.ReadSlice('\n')
		}
		if err != nil {
			if err == io.EOF && len(raw) == 0 && !tooLong {
				r.err = io.EOF
				continue
			}
			r.err = err
			if err != io.EOF {
				r.lines++
				return Line{Number: r.lines}, err
			}
		}
		r.lines++
		if tooLong {
			return Line{Number: r.lines, Problem: TooLong}, nil
		}
		raw = bytes.TrimSuffix(raw, []byte{'\n'})
		raw = bytes.TrimSuffix(raw, []byte{'\r'})
		if r.lines == 1 {
			raw = bytes.TrimPrefix(raw, bom)
		}
		if len(raw) > r.maxLine {
			return Line{Number: r.lines, Problem: TooLong}, nil
		}
		if len(raw) == 0 || raw[0] == '#' || len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		l := Line{Number: r.lines}
		switch {
		case !utf8.Valid(raw):
			l.Problem = NotUTF8
		case bytes.IndexByte(raw, 0) >= 0:
			l.Problem = HasNUL
		}
		// One string for the whole line: the fields share it.
		text := string(raw)
		r.fields = r.fields[:0]
		for {
			field, rest, more := strings.Cut(text, "\t")
			r.fields = append(r.fields, field)
			if !more {
				break
			}
			text = rest
		}
		l.Fields = r.fields
		return l, nil
	}
}
