package directory

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLineLength bounds one line of a users or groups file, in bytes. A
// longer line is reported and skipped; parsing goes on with the next one.
const MaxLineLength = 64 << 10

// lineReader yields the lines of an import file under the text rules of
// SPEC §3.1: UTF-8 with an optional byte-order mark, CRLF or LF, blank and
// `#` lines skipped, lines bounded by MaxLineLength.
type lineReader struct {
	r    *bufio.Reader
	line int
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line that carries data, without its line end. A
// line that is too long comes back as a LineError; io.EOF ends the file.
func (lr *lineReader) next() (string, *LineError, error) {
	for {
		raw, tooLong, err := lr.readLine()
		if err != nil {
			return "", nil, err
		}
		lr.line++
		if lr.line == 1 {
			raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
		}
		raw = bytes.TrimSuffix(raw, []byte("\r"))
		if tooLong || len(raw) > MaxLineLength {
			return "", &LineError{Line: lr.line, Reason: fmt.Sprintf("line is longer than %d bytes", MaxLineLength)}, nil
		}
		if len(bytes.TrimSpace(raw)) == 0 || raw[0] == '#' {
			continue
		}
		return string(raw), nil, nil
	}
}

// readLine reads up to the next LF. It never holds more than MaxLineLength
// bytes: the rest of a longer line is read and thrown away.
func (lr *lineReader) readLine() ([]byte, bool, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > MaxLineLength+5 { // room for a byte-order mark and CR LF
				tooLong = true
				buf = nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case err == nil:
			return bytes.TrimSuffix(buf, []byte("\n")), tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(buf) == 0 && !tooLong && len(chunk) == 0 {
				return nil, false, io.EOF
			}
			return buf, tooLong, nil
		default:
			return nil, false, fmt.Errorf("directory: unable to read line %d: %w", lr.line+1, err)
		}
	}
}
