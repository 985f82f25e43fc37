// Package internalusers is the batch import of internal users (SPEC §6,
// batchImportInternalUsers): a tab-separated file of users that exist only
// in Ream and log in with a password Ream keeps. One parser, one planner and
// one applier serve the admin page, the API and server-command; the whole
// file is applied in one transaction or not at all.
package internalusers

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/importfile"
	"github.com/reamprint/ream/internal/money"
)

// Line is one user of an import file. A nil field was blank: it leaves an
// existing user's value as it is. Password is "" when blank.
type Line struct {
	Line        int
	Username    string
	Password    string
	Balance     *money.Amount
	Restricted  *bool
	FullName    *string
	Email       *string
	Department  *string
	Office      *string
	PrimaryCard *string
	PIN         *string
	Notes       *string
}

// LineError is a line of the file that was left out, and why. Reason never
// repeats a password or PIN from the file.
type LineError struct {
	Line   int
	Field  string // the column at fault; empty for the whole line
	Reason string
}

// Error names the line and the field.
func (e LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %s %s", e.Line, e.Field, e.Reason)
}

// columns names the file's columns in order, for errors.
var columns = [...]string{"username", "password", "credit balance", "restricted", "full name", "email",
	"department", "office", "primary card/ID", "card PIN", "notes"}

// Column positions.
const (
	colUsername = iota
	colPassword
	colBalance
	colRestricted
	colFullName
	colEmail
	colDepartment
	colOffice
	colCard
	colPIN
	colNotes
)

// MaxLineLength bounds a line of the file, in bytes. A longer line is
// reported and skipped; reading goes on with the next one.
const MaxLineLength = 64 << 10

const maxTextLength = 1000

// Parse reads an internal user import file: UTF-8 (a byte-order mark is
// accepted), tab-separated, CRLF or LF line ends, blank lines and lines
// starting with "#" ignored, trailing empty fields optional. Bad lines are
// returned as LineErrors and left out; only a failing reader is an error.
func Parse(r io.Reader) ([]Line, []LineError, error) {
	lr := importfile.NewReader(r, MaxLineLength)
	var lines []Line
	var skipped []LineError
	seen := make(map[string]int)
	for {
		fl, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return lines, skipped, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("internalusers: unable to read line %d of the import file: %w", fl.Number, err)
		}
		l, lerr := parseLine(fl)
		if lerr != nil {
			skipped = append(skipped, *lerr)
			continue
		}
		if first, dup := seen[l.Username]; dup {
			skipped = append(skipped, LineError{Line: fl.Number, Field: "username", Reason: fmt.Sprintf("%q is already on line %d", l.Username, first)})
			continue
		}
		seen[l.Username] = fl.Number
		lines = append(lines, l)
	}
}

func parseLine(fl importfile.Line) (Line, *LineError) {
	n := fl.Number
	bad := func(col int, format string, args ...any) (Line, *LineError) {
		return Line{}, &LineError{Line: n, Field: columns[col], Reason: fmt.Sprintf(format, args...)}
	}
	switch fl.Problem {
	case importfile.TooLong:
		return Line{}, &LineError{Line: n, Reason: fmt.Sprintf("is longer than %d bytes", MaxLineLength)}
	case importfile.NotUTF8:
		return Line{}, &LineError{Line: n, Reason: "is not valid UTF-8"}
	}
	if len(fl.Fields) > len(columns) {
		return Line{}, &LineError{Line: n, Reason: fmt.Sprintf("has %d fields, at most %d are allowed", len(fl.Fields), len(columns))}
	}
	var f [len(columns)]string
	copy(f[:], fl.Fields)
	// The password is taken as written: spaces at its ends are part of it.
	password := f[colPassword]
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	l := Line{Line: n, Username: auth.NormalizeUsername(f[colUsername])}
	if err := auth.ValidateUsername(l.Username); err != nil {
		return bad(colUsername, "is refused: %s", policyMessage(err))
	}
	if f[colPassword] != "" || password != "" {
		if err := auth.CheckPassword(password); err != nil {
			return bad(colPassword, "is refused: %s", policyMessage(err))
		}
		l.Password = password
	}
	if v := f[colBalance]; v != "" {
		amount, err := money.Parse(v)
		if err != nil {
			return bad(colBalance, "%q is not an amount like 12.50", v)
		}
		l.Balance = &amount
	}
	if v := f[colRestricted]; v != "" {
		switch strings.ToUpper(v) {
		case "Y":
			b := true
			l.Restricted = &b
		case "N":
			b := false
			l.Restricted = &b
		default:
			return bad(colRestricted, "%q is not Y or N", v)
		}
	}
	for _, t := range []struct {
		col int
		dst **string
	}{{colFullName, &l.FullName}, {colDepartment, &l.Department}, {colOffice, &l.Office}, {colNotes, &l.Notes}} {
		v := f[t.col]
		if v == "" {
			continue
		}
		if utf8.RuneCountInString(v) > maxTextLength {
			return bad(t.col, "is longer than %d characters", maxTextLength)
		}
		if strings.ContainsFunc(v, unicode.IsControl) {
			return bad(t.col, "contains a control character")
		}
		*t.dst = &v
	}
	if v := f[colEmail]; v != "" {
		if !isEmail(v) {
			return bad(colEmail, "%q is not an email address", v)
		}
		l.Email = &v
	}
	if v := f[colCard]; v != "" {
		if len(v) > 64 || strings.ContainsFunc(v, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) {
			return bad(colCard, "%q must be 1 to 64 letters and digits", v)
		}
		l.PrimaryCard = &v
	}
	if v := f[colPIN]; v != "" {
		// The PIN itself is never put in the message.
		if len(v) < 4 || len(v) > 32 || strings.ContainsFunc(v, func(r rune) bool { return r < '!' || r > '~' }) {
			return bad(colPIN, "must be 4 to 32 printable ASCII characters")
		}
		l.PIN = &v
	}
	return l, nil
}

// policyMessage is the sentence of a password or username refusal, which
// never repeats the value.
func policyMessage(err error) string {
	var pe *auth.PolicyError
	if errors.As(err, &pe) {
		return strings.TrimSuffix(pe.Message, ".")
	}
	return "not allowed"
}

func isEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && len(s) <= 254 && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>,;\"", r)
	})
}
