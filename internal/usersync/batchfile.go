package usersync

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/importfile"
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
	lr := importfile.NewReader(r, MaxBatchLineLength)
	var lines []BatchLine
	var skipped []directory.LineError
	seen := make(map[string]int)
	for {
		fl, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return lines, skipped, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("usersync: unable to read line %d of the import file: %w", fl.Number, err)
		}
		bl, lerr := parseBatchLine(fl)
		if lerr != nil {
			skipped = append(skipped, *lerr)
			continue
		}
		if first, dup := seen[bl.Username]; dup {
			skipped = append(skipped, directory.LineError{Line: fl.Number, Field: "username",
				Reason: fmt.Sprintf("%q is already on line %d", bl.Username, first)})
			continue
		}
		seen[bl.Username] = fl.Number
		lines = append(lines, bl)
	}
}

func parseBatchLine(fl importfile.Line) (BatchLine, *directory.LineError) {
	n := fl.Number
	bad := func(col int, format string, args ...any) (BatchLine, *directory.LineError) {
		return BatchLine{}, &directory.LineError{Line: n, Field: batchColumns[col], Reason: fmt.Sprintf(format, args...)}
	}
	switch fl.Problem {
	case importfile.TooLong:
		return BatchLine{}, &directory.LineError{Line: n, Reason: fmt.Sprintf("line is longer than %d bytes", MaxBatchLineLength)}
	case importfile.NotUTF8:
		return BatchLine{}, &directory.LineError{Line: n, Reason: "is not valid UTF-8"}
	}
	if len(fl.Fields) > len(batchColumns) {
		return BatchLine{}, &directory.LineError{Line: n, Reason: fmt.Sprintf("has %d fields, at most %d are allowed", len(fl.Fields), len(batchColumns))}
	}
	var f [len(batchColumns)]string
	for i, v := range fl.Fields {
		f[i] = strings.TrimSpace(v)
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
