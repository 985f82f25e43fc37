// Package source reads the shared-account sources of SPEC §3: a batch account
// import file (§3.1) and a file-system directory scan. Each source produces
// the same Records; the planner in package accounts turns them into a plan.
package source

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/money"
)

// MaxNameLength is the longest account, sub-account, user or group name
// accepted, in characters.
const MaxNameLength = 255

// ErrEmptySource is what callers return when a source has no accounts and
// no skipped lines: an empty export is far more likely a failed export than
// an organisation with no accounts, and syncing it would delete everything.
var ErrEmptySource = errors.New("the source has no accounts; refusing to synchronize from an empty source")

// Record is one account as a source describes it. A nil pointer means the
// source left the value blank: "leave as it is" for an existing account and
// "default" for a new one.
//
// Everyone access ([All Users] / !!All Users!!) is kept out of Groups and
// Users and carried by AllUsers: true when the token is in either column;
// false when the groups column is given without it (the group list,
// where everyone access lives, is replaced); nil otherwise.
type Record struct {
	Line          int // line number in the import file; 0 for a directory scan
	Parent, Sub   string
	Enabled       *bool
	PIN           *string
	Balance       *money.Amount
	Restricted    *bool
	Users         *[]string // pointer to an empty slice: "-" clears the list
	Groups        *[]string
	AllUsers      *bool
	InvoiceOption *string // upper-case, model.ValidInvoiceOption
	CommentOption *string // upper-case, model.ValidCommentOption
	Notes         *string
}

// FullName is the API name of the account: "Parent\Sub" or "Parent".
func (r *Record) FullName() string {
	if r.Sub != "" {
		return r.Parent + `\` + r.Sub
	}
	return r.Parent
}

// LineError is a line (or directory) a source could not use, or a warning
// about one.
type LineError struct {
	Line   int    // 1-based line number; 0 for a directory scan
	Path   string // directory scan: the directory, relative to the scanned root
	Field  string // e.g. "field 5 (Credit balance)", "directory"; "" for the whole line
	Reason string
}

// Error says where and why, for the sync report.
func (e LineError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
	}
	if e.Path != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %q", e.Field, e.Path)
	} else if e.Field != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Result is what a source produced.
type Result struct {
	// The records: in Records, or packed (ParseOptions.Pack, Pack); never
	// both.
	Records   []Record
	Packed    *Packed
	Skipped   []LineError // lines or directories that were not used
	Warnings  []LineError // used, but worth telling the administrator
	LinesRead int         // physical lines read (0 for a directory scan)
}

// Empty reports whether the source gave nothing at all: no accounts and no
// skipped lines. Callers then fail the run with ErrEmptySource.
func (r *Result) Empty() bool {
	return r.Count() == 0 && len(r.Skipped) == 0
}

// Count is the number of records.
func (r *Result) Count() int {
	if r.Packed != nil {
		return r.Packed.Len() + len(r.Records)
	}
	return len(r.Records)
}

// Pack moves Records into Packed (a no-op when they are there already)
// and returns it.
func (r *Result) Pack() *Packed {
	if r.Packed == nil {
		r.Packed = &Packed{}
	}
	for i := range r.Records {
		r.Packed.Add(&r.Records[i])
	}
	r.Records = nil
	return r.Packed
}

// CheckName returns why s is not acceptable as an account or sub-account
// name, or nil. s must already be trimmed.
func CheckName(s string) error {
	switch {
	case s == "":
		return errors.New("the name is empty")
	case !utf8.ValidString(s):
		return errors.New("the name is not valid UTF-8 text")
	case strings.IndexByte(s, '\\') >= 0:
		return fmt.Errorf("%s contains \"\\\", which separates an account from its sub-account", quote(s))
	}
	if err := checkText(s); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(s); n > MaxNameLength {
		return fmt.Errorf("the name is %d characters long; at most %d are allowed", n, MaxNameLength)
	}
	return nil
}

// checkText refuses control characters (NUL, escape, DEL, C1 codes…) and
// stray byte-order marks, which in a name or an access list are almost
// always a damaged or concatenated export, invisible on the admin pages.
func checkText(s string) error {
	for i, r := range s {
		if r == '\ufeff' {
			return fmt.Errorf("%s contains a byte-order mark (U+FEFF) at byte %d; only the start of a file may have one", quote(s), i+1)
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && unicode.IsControl(r)) {
			return fmt.Errorf("%s contains the control character %U at byte %d", quote(s), r, i+1)
		}
	}
	return nil
}

// quote quotes s for a report, shortened so that one bad line cannot make
// the report huge.
func quote(s string) string {
	const keep = 60
	if len(s) <= keep {
		return fmt.Sprintf("%q", s)
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}
