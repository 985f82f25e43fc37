// Package userfile is Ream's one parser of user batch files, PaperCut's
// tab-separated user lists, in their two layouts:
//
//   - Batch, the batch user import (SPEC §4.1, batchImportUsers): username,
//     credit balance, restricted, full name, email, department, office,
//     primary card/ID, card PIN, notes, secondary card/ID, other emails,
//     username alias, home folder;
//   - Internal, the internal user import (SPEC §6,
//     batchImportInternalUsers): username, password, credit balance,
//     restricted, full name, email, department, office, primary card/ID,
//     card PIN, notes.
//
// Both are UTF-8 (a byte-order mark is accepted), CRLF or LF, blank lines and
// lines starting with "#" ignored, trailing empty fields optional. What
// differs between them is passed in the Layout: the columns, and how strict
// the username check is (an internal user is made here and must pass every
// rule of a new name; a batch line may name a user a directory made).
package userfile

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

// Column is one kind of field a layout may have.
type Column int

// The columns, named in errors by ColumnNames.
const (
	Username Column = iota
	Password
	Balance
	Restricted
	FullName
	Email
	Department
	Office
	PrimaryCard
	PIN
	Notes
	SecondaryCard
	OtherEmails
	Alias
	HomeFolder
)

// ColumnNames name the columns in errors.
var ColumnNames = [...]string{
	Username: "username", Password: "password", Balance: "credit balance", Restricted: "restricted",
	FullName: "full name", Email: "email", Department: "department", Office: "office",
	PrimaryCard: "primary card/ID", PIN: "card PIN", Notes: "notes", SecondaryCard: "secondary card/ID",
	OtherEmails: "other emails", Alias: "username alias", HomeFolder: "home folder",
}

// Layout is one file format: its columns in order and its username rule.
type Layout struct {
	Name    string // for messages: "batch user import"
	Columns []Column
	// StrictUsernames applies every rule of a new username
	// (auth.ValidateUsername, look-alikes included); otherwise a name need
	// only be present, at most 255 characters and printable, and the
	// importer checks the rest against the user it names.
	StrictUsernames bool
}

// The two layouts.
var (
	Batch = Layout{Name: "batch user import", Columns: []Column{Username, Balance, Restricted, FullName, Email, Department,
		Office, PrimaryCard, PIN, Notes, SecondaryCard, OtherEmails, Alias, HomeFolder}}
	Internal = Layout{Name: "internal user import", StrictUsernames: true, Columns: []Column{Username, Password, Balance,
		Restricted, FullName, Email, Department, Office, PrimaryCard, PIN, Notes}}
)

// Line is one user of a file. A nil field was blank (or is not in the
// layout): it leaves an existing user's value as it is. Password is ""
// when blank.
type Line struct {
	Line          int
	Username      string
	Password      string
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
	OtherEmails   *string // comma-separated
	Alias         *string
	HomeFolder    *string
}

// LineError is a line that was left out, and why. Reason never repeats a
// password or PIN from the file.
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

// MaxLineLength bounds a line, in bytes. A longer line is reported and
// skipped; reading goes on with the next one.
const MaxLineLength = 64 << 10

// MaxTextLength bounds a text field, in characters.
const MaxTextLength = 1000

// Parse reads a file in layout l. Bad lines are returned as LineErrors and
// left out, as is a second line for a username already read; only a
// failing reader is an error.
func Parse(r io.Reader, l Layout) ([]Line, []LineError, error) {
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
			return nil, nil, fmt.Errorf("unable to read line %d of the %s file: %w", fl.Number, l.Name, err)
		}
		line, lerr := l.parseLine(fl)
		if lerr != nil {
			skipped = append(skipped, *lerr)
			continue
		}
		if first, dup := seen[line.Username]; dup {
			skipped = append(skipped, LineError{Line: fl.Number, Field: ColumnNames[Username],
				Reason: fmt.Sprintf("%q is already on line %d", line.Username, first)})
			continue
		}
		seen[line.Username] = fl.Number
		lines = append(lines, line)
	}
}

func (l Layout) parseLine(fl importfile.Line) (Line, *LineError) {
	n := fl.Number
	bad := func(col Column, format string, args ...any) (Line, *LineError) {
		return Line{}, &LineError{Line: n, Field: ColumnNames[col], Reason: fmt.Sprintf(format, args...)}
	}
	switch fl.Problem {
	case importfile.TooLong:
		return Line{}, &LineError{Line: n, Reason: fmt.Sprintf("is longer than %d bytes", MaxLineLength)}
	case importfile.NotUTF8:
		return Line{}, &LineError{Line: n, Reason: "is not valid UTF-8"}
	}
	if len(fl.Fields) > len(l.Columns) {
		return Line{}, &LineError{Line: n, Reason: fmt.Sprintf("has %d fields, at most %d are allowed", len(fl.Fields), len(l.Columns))}
	}
	var f, raw [len(ColumnNames)]string
	for i, v := range fl.Fields {
		raw[l.Columns[i]] = v
		f[l.Columns[i]] = strings.TrimSpace(v)
	}
	line := Line{Line: n}
	if l.StrictUsernames {
		line.Username = auth.NormalizeUsername(f[Username])
		if err := auth.ValidateUsername(line.Username); err != nil {
			return bad(Username, "is refused: %s", policyMessage(err))
		}
	} else {
		line.Username = strings.ToLower(f[Username])
		switch {
		case line.Username == "":
			return bad(Username, "is required")
		case utf8.RuneCountInString(line.Username) > 255:
			return bad(Username, "is longer than 255 characters")
		case strings.ContainsFunc(line.Username, func(r rune) bool { return !unicode.IsPrint(r) }):
			return bad(Username, "contains a control or invisible character")
		}
	}
	// The password is taken as written: spaces at its ends are part of it.
	if password := raw[Password]; password != "" {
		if err := auth.CheckPassword(password); err != nil {
			return bad(Password, "is refused: %s", policyMessage(err))
		}
		line.Password = password
	}
	if v := f[Balance]; v != "" {
		amount, err := money.Parse(v)
		if err != nil {
			return bad(Balance, "%q is not an amount like 12.50", v)
		}
		line.Balance = &amount
	}
	if v := f[Restricted]; v != "" {
		var b bool
		switch strings.ToUpper(v) {
		case "Y":
			b = true
		case "N":
		default:
			return bad(Restricted, "%q is not Y or N", v)
		}
		line.Restricted = &b
	}
	for _, t := range []struct {
		col Column
		dst **string
	}{{FullName, &line.FullName}, {Department, &line.Department}, {Office, &line.Office}, {Notes, &line.Notes},
		{Alias, &line.Alias}, {HomeFolder, &line.HomeFolder}} {
		v := f[t.col]
		if v == "" {
			continue
		}
		if utf8.RuneCountInString(v) > MaxTextLength {
			return bad(t.col, "is longer than %d characters", MaxTextLength)
		}
		if strings.ContainsFunc(v, unicode.IsControl) {
			return bad(t.col, "contains a control character")
		}
		*t.dst = &v
	}
	if v := f[Email]; v != "" {
		if !IsEmail(v) {
			return bad(Email, "%q is not an email address", v)
		}
		line.Email = &v
	}
	for _, c := range []struct {
		col Column
		dst **string
	}{{PrimaryCard, &line.PrimaryCard}, {SecondaryCard, &line.SecondaryCard}} {
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
	if line.PrimaryCard != nil && line.SecondaryCard != nil && *line.PrimaryCard == *line.SecondaryCard {
		return bad(SecondaryCard, "is the same number as the primary card/ID")
	}
	if v := f[PIN]; v != "" {
		// The PIN itself is never put in the message.
		if len(v) < 4 || len(v) > 32 || strings.ContainsFunc(v, func(r rune) bool { return r < '!' || r > '~' }) {
			return bad(PIN, "must be 4 to 32 printable ASCII characters")
		}
		line.PIN = &v
	}
	if v := f[OtherEmails]; v != "" {
		var list []string
		for _, e := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
			if !IsEmail(e) {
				return bad(OtherEmails, "%q is not an email address", e)
			}
			list = append(list, e)
		}
		joined := strings.Join(list, ",")
		line.OtherEmails = &joined
	}
	return line, nil
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

// IsEmail is the address check of both layouts: one "@" with text on both
// sides, no spaces, controls or list separators, at most 254 bytes.
func IsEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && len(s) <= 254 && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>,;\"", r)
	})
}
