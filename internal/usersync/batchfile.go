package usersync

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/money"
)

// BatchLine is one line of a batch user import file (SPEC §4.1). A nil
// field was blank: it leaves the user's value as it is.
type BatchLine struct {
	Line          int
	Username      string
	Balance       *money.Amount
	Restricted    *bool
	FullName      *string
	Email         *string
	Department    *string
	Office        *string
	PrimaryCard   *string
	PIN           *string
	Notes         *string
	SecondaryCard *string
	OtherEmails   *string
	Alias         *string
	HomeFolder    *string
}

// batchColumns names the file's columns in order, for errors.
var batchColumns = [...]string{"username", "credit balance", "restricted", "full name", "email", "department", "office",
	"primary card/ID", "card PIN", "notes", "secondary card/ID", "other emails", "username alias", "home folder"}

// MaxBatchLineLength bounds a line of a batch user import file, in bytes.
const MaxBatchLineLength = 64 << 10

const maxBatchTextLength = 1000

// ParseBatchUsers reads a batch user import file: UTF-8 (a byte-order mark
// is accepted), tab-separated, CRLF or LF, blank and "#" lines skipped,
// trailing empty fields optional. Bad lines are returned as LineErrors and
// left out; only a failing reader is an error.
func ParseBatchUsers(r io.Reader) ([]BatchLine, []directory.LineError, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var lines []BatchLine
	var skipped []directory.LineError
	seen := make(map[string]int)
	for n := 1; ; n++ {
		raw, tooLong, err := readBatchLine(br)
		if errors.Is(err, io.EOF) {
			return lines, skipped, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("usersync: unable to read line %d of the import file: %w", n, err)
		}
		if n == 1 {
			raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
		}
		raw = bytes.TrimSuffix(raw, []byte("\r"))
		if tooLong {
			skipped = append(skipped, directory.LineError{Line: n, Reason: fmt.Sprintf("line is longer than %d bytes", MaxBatchLineLength)})
			continue
		}
		if len(bytes.TrimSpace(raw)) == 0 || raw[0] == '#' {
			continue
		}
		bl, lerr := parseBatchLine(n, string(raw))
		if lerr != nil {
			skipped = append(skipped, *lerr)
			continue
		}
		if first, dup := seen[bl.Username]; dup {
			skipped = append(skipped, directory.LineError{Line: n, Field: "username",
				Reason: fmt.Sprintf("%q is already on line %d", bl.Username, first)})
			continue
		}
		seen[bl.Username] = n
		lines = append(lines, bl)
	}
}

// readBatchLine reads up to the next LF, holding at most
// MaxBatchLineLength bytes of it.
func readBatchLine(br *bufio.Reader) ([]byte, bool, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > MaxBatchLineLength+5 {
				tooLong, buf = true, nil
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
			if len(buf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
			return buf, tooLong, nil
		default:
			return nil, false, err
		}
	}
}

func parseBatchLine(n int, text string) (BatchLine, *directory.LineError) {
	bad := func(col int, format string, args ...any) (BatchLine, *directory.LineError) {
		return BatchLine{}, &directory.LineError{Line: n, Field: batchColumns[col], Reason: fmt.Sprintf(format, args...)}
	}
	if !utf8.ValidString(text) {
		return BatchLine{}, &directory.LineError{Line: n, Reason: "is not valid UTF-8"}
	}
	f := strings.Split(text, "\t")
	if len(f) > len(batchColumns) {
		return BatchLine{}, &directory.LineError{Line: n, Reason: fmt.Sprintf("has %d fields, at most %d are allowed", len(f), len(batchColumns))}
	}
	for len(f) < len(batchColumns) {
		f = append(f, "")
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	bl := BatchLine{Line: n, Username: strings.ToLower(f[0])}
	switch {
	case bl.Username == "":
		return bad(0, "is required")
	case utf8.RuneCountInString(bl.Username) > 255:
		return bad(0, "is longer than 255 characters")
	case strings.ContainsFunc(bl.Username, func(r rune) bool { return !unicode.IsPrint(r) }):
		return bad(0, "contains a control or invisible character")
	}
	if f[1] != "" {
		amount, err := money.Parse(f[1])
		if err != nil {
			return bad(1, "%q is not an amount like 12.50", f[1])
		}
		bl.Balance = &amount
	}
	if f[2] != "" {
		switch strings.ToUpper(f[2]) {
		case "Y":
			v := true
			bl.Restricted = &v
		case "N":
			v := false
			bl.Restricted = &v
		default:
			return bad(2, "%q is not Y or N", f[2])
		}
	}
	textFields := []struct {
		col int
		dst **string
	}{{3, &bl.FullName}, {5, &bl.Department}, {6, &bl.Office}, {9, &bl.Notes}, {12, &bl.Alias}, {13, &bl.HomeFolder}}
	for _, t := range textFields {
		if f[t.col] == "" {
			continue
		}
		if utf8.RuneCountInString(f[t.col]) > maxBatchTextLength {
			return bad(t.col, "is longer than %d characters", maxBatchTextLength)
		}
		if strings.ContainsFunc(f[t.col], unicode.IsControl) {
			return bad(t.col, "contains a control character")
		}
		v := f[t.col]
		*t.dst = &v
	}
	if v := f[4]; v != "" {
		if !isEmail(v) {
			return bad(4, "%q is not an email address", v)
		}
		bl.Email = &v
	}
	for _, c := range []struct {
		col int
		dst **string
	}{{7, &bl.PrimaryCard}, {10, &bl.SecondaryCard}} {
		v := f[c.col]
		if v == "" {
			continue
		}
		if len(v) > 64 || strings.ContainsFunc(v, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) {
			return bad(c.col, "%q must be 1 to 64 letters and digits", v)
		}
		*c.dst = &v
	}
	if bl.PrimaryCard != nil && bl.SecondaryCard != nil && *bl.PrimaryCard == *bl.SecondaryCard {
		return bad(10, "is the same number as the primary card/ID")
	}
	if v := f[8]; v != "" {
		if len(v) < 4 || len(v) > 32 || strings.ContainsFunc(v, func(r rune) bool { return r < '!' || r > '~' }) {
			return bad(8, "must be 4 to 32 printable ASCII characters")
		}
		bl.PIN = &v
	}
	if v := f[11]; v != "" {
		var list []string
		for _, e := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
			if !isEmail(e) {
				return bad(11, "%q is not an email address", e)
			}
			list = append(list, e)
		}
		joined := strings.Join(list, ",")
		bl.OtherEmails = &joined
	}
	return bl, nil
}

func isEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && len(s) <= 254 && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>,;\"", r)
	})
}
