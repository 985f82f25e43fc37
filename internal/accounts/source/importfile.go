package source

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/importfile"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
)

// DefaultMaxLineBytes is the longest line of an import file that is read;
// a longer line is skipped as damaged without being held in memory.
const DefaultMaxLineBytes = 64 << 10

// progressEvery is how many lines pass between two ParseOptions.Progress calls.
const progressEvery = 10_000

// ParseOptions tune ParseImportFile; the zero value is the product default.
type ParseOptions struct {
	MaxLineBytes int             // 0: DefaultMaxLineBytes
	Progress     func(lines int) // called every 10,000 lines, for getTaskStatus
	// Pack keeps the records in Result.Packed rather than Records: what a
	// sync does, since a million Records hold several times the memory.
	Pack bool
}

// The columns of SPEC §3.1, numbered from 1 as the administrator sees them.
const (
	fieldParent = iota + 1
	fieldSub
	fieldEnabled
	fieldPIN
	fieldBalance
	fieldRestricted
	fieldUsers
	fieldGroups
	fieldInvoice
	fieldComment
	fieldNotes
	fieldCount = fieldNotes
)

// fieldLabels name each column in reports, "field 5 (Credit balance)".
var fieldLabels = [fieldCount + 1]string{
	"",
	"field 1 (Parent account name)",
	"field 2 (Sub-account name)",
	"field 3 (Enabled)",
	"field 4 (PIN / code)",
	"field 5 (Credit balance)",
	"field 6 (Restricted)",
	"field 7 (Users allowed)",
	"field 8 (Groups allowed)",
	"field 9 (Invoice option)",
	"field 10 (Comment option)",
	"field 11 (Notes)",
}

// ParseImportFile reads a batch account import file (SPEC §3.1) line by line.
// Lines it cannot use are in Result.Skipped with their line number and
// reason; the error is only for failing to read r.
func ParseImportFile(r io.Reader, opts ParseOptions) (*Result, error) {
	maxLine := opts.MaxLineBytes
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	lines := importfile.NewReader(r, maxLine)
	p := importParser{
		res:  &Result{},
		pack: opts.Pack,
	}
	p.accounts = NewNameIndex(0, p.sameAccount)
	p.pins = NewNameIndex(0, p.samePIN)
	reported := 0 // lines at the last Progress call
	for {
		l, err := lines.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("source: unable to read the import file at line %d: %w", l.Number, err)
		}
		p.parseLine(l, maxLine)
		if opts.Progress != nil && lines.Lines()/progressEvery > reported/progressEvery {
			reported = lines.Lines()
			opts.Progress(reported)
		}
	}
	p.res.LinesRead = lines.Lines()
	if opts.Progress != nil && reported != p.res.LinesRead {
		opts.Progress(p.res.LinesRead)
	}
	return p.res, nil
}

// importParser holds what one file's lines are checked against.
type importParser struct {
	res      *Result
	pack     bool
	accounts *NameIndex // lower-case "parent\sub" → record index
	pins     *NameIndex // PIN → record index
	key      []byte     // reused to build the accounts key without allocating
	key2     []byte     // the same, for sameAccount
	pinKey   []byte
	row      Row
}

// record returns the line, names and PIN of record i.
func (p *importParser) record(i int32) (line int, parent, sub, pin string) {
	if p.pack {
		p.res.Packed.Row(int(i), &p.row)
		return p.row.Line, p.row.Parent, p.row.Sub, p.row.PIN
	}
	r := &p.res.Records[i]
	if r.PIN != nil {
		pin = *r.PIN
	}
	return r.Line, r.Parent, r.Sub, pin
}

// accountKey is the key that finds duplicate accounts: the lower-case full name.
func accountKey(b []byte, parent, sub string) []byte {
	b = AppendLower(AppendLower(b[:0], parent), `\`)
	return AppendLower(b, sub)
}

func (p *importParser) sameAccount(i int32, key []byte) bool {
	_, parent, sub, _ := p.record(i)
	p.key2 = accountKey(p.key2, parent, sub)
	return string(p.key2) == string(key)
}

func (p *importParser) samePIN(i int32, key []byte) bool {
	_, _, _, pin := p.record(i)
	return pin == string(key)
}

// AppendLower appends s in lower case, without allocating for ASCII text
// (account name keys are built this way on the hot path of a sync).
func AppendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// lineValues backs every pointer of one Record, so that a line costs one
// allocation rather than one per field.
type lineValues struct {
	enabled, restricted, allUsers bool
	balance                       money.Amount
	pin, invoice, comment, notes  string
	users, groups                 []string
}

func (p *importParser) skip(line, field int, reason string) {
	p.res.Skipped = append(p.res.Skipped, LineError{Line: line, Field: fieldLabels[field], Reason: reason})
}

func (p *importParser) warn(line, field int, reason string) {
	p.res.Warnings = append(p.res.Warnings, LineError{Line: line, Field: fieldLabels[field], Reason: reason})
}

func (p *importParser) parseLine(l importfile.Line, maxLine int) {
	n := l.Number
	if l.Problem == importfile.TooLong {
		p.skip(n, 0, fmt.Sprintf("the line is longer than %d bytes", maxLine))
		return
	}
	if len(l.Fields) > fieldCount {
		p.skip(n, 0, fmt.Sprintf("the line has %d tab-separated fields; at most %d are allowed", len(l.Fields), fieldCount))
		return
	}
	var f [fieldCount + 1]string
	for i, cell := range l.Fields {
		f[i+1] = strings.TrimSpace(cell)
	}
	if l.Problem == importfile.NotUTF8 {
		for i := 1; i <= fieldCount; i++ {
			if !utf8.ValidString(f[i]) {
				p.skip(n, i, "not valid UTF-8 text; save the file as UTF-8")
				return
			}
		}
	}
	rec, field, reason := p.buildRecord(n, &f)
	if reason != "" {
		p.skip(n, field, reason)
		return
	}
	p.key = accountKey(p.key, rec.Parent, rec.Sub)
	if i, dup := p.accounts.Get(p.key); dup {
		first, _, _, _ := p.record(i)
		p.skip(n, 0, fmt.Sprintf("%s is a duplicate of line %d", quote(rec.FullName()), first))
		return
	}
	if rec.PIN != nil {
		p.pinKey = append(p.pinKey[:0], *rec.PIN...)
		if i, dup := p.pins.Get(p.pinKey); dup {
			first, _, _, _ := p.record(i)
			p.skip(n, fieldPIN, fmt.Sprintf("the PIN is already given to another account on line %d; PINs must be unique", first))
			return
		}
	}
	i := int32(p.res.Count())
	p.addRecord(rec)
	p.accounts.Put(p.key, i)
	if rec.PIN != nil {
		p.pins.Put(p.pinKey, i)
	}
}

// addRecord appends rec, doubling the slice when full: append's gentler
// growth for large slices copies a million records several times over.
func (p *importParser) addRecord(rec Record) {
	if p.pack {
		if p.res.Packed == nil {
			p.res.Packed = &Packed{}
		}
		p.res.Packed.Add(&rec)
		return
	}
	recs := p.res.Records
	if len(recs) == cap(recs) {
		grown := make([]Record, len(recs), max(1024, 2*cap(recs)))
		copy(grown, recs)
		recs = grown
	}
	p.res.Records = append(recs, rec)
}

// buildRecord checks every field of a split line; on a bad value it returns
// the field number and the reason.
func (p *importParser) buildRecord(n int, f *[fieldCount + 1]string) (Record, int, string) {
	rec := Record{Line: n, Parent: f[fieldParent], Sub: f[fieldSub]}
	if rec.Parent == "" {
		return rec, fieldParent, "the parent account name is required"
	}
	if err := CheckName(rec.Parent); err != nil {
		return rec, fieldParent, err.Error()
	}
	if rec.Sub != "" {
		if err := CheckName(rec.Sub); err != nil {
			return rec, fieldSub, err.Error()
		}
	}
	if allBlank(f[fieldEnabled:]) {
		return rec, 0, ""
	}
	v := new(lineValues)
	var err error
	if f[fieldEnabled] != "" {
		if v.enabled, err = parseYesNo(f[fieldEnabled]); err != nil {
			return rec, fieldEnabled, err.Error()
		}
		rec.Enabled = &v.enabled
	}
	if f[fieldPIN] != "" {
		if err := checkText(f[fieldPIN]); err != nil {
			return rec, fieldPIN, "the PIN contains a control character"
		}
		if len(f[fieldPIN]) > MaxNameLength {
			return rec, fieldPIN, fmt.Sprintf("the PIN is longer than %d bytes", MaxNameLength)
		}
		v.pin = f[fieldPIN]
		rec.PIN = &v.pin
	}
	if f[fieldBalance] != "" {
		if v.balance, err = money.Parse(f[fieldBalance]); err != nil {
			if errors.Is(err, money.ErrSyntax) {
				return rec, fieldBalance, fmt.Sprintf("%s is not a decimal number (use \".\" as the decimal separator)", quote(f[fieldBalance]))
			}
			return rec, fieldBalance, fmt.Sprintf("%s: %v", quote(f[fieldBalance]), err)
		}
		rec.Balance = &v.balance
	}
	if f[fieldRestricted] != "" {
		if v.restricted, err = parseYesNo(f[fieldRestricted]); err != nil {
			return rec, fieldRestricted, err.Error()
		}
		rec.Restricted = &v.restricted
	}
	usersAll, groupsAll := false, false
	if f[fieldUsers] != "" {
		if v.users, usersAll, err = p.parseAccessList(n, fieldUsers, f[fieldUsers]); err != nil {
			return rec, fieldUsers, err.Error()
		}
		rec.Users = &v.users
	}
	if f[fieldGroups] != "" {
		if v.groups, groupsAll, err = p.parseAccessList(n, fieldGroups, f[fieldGroups]); err != nil {
			return rec, fieldGroups, err.Error()
		}
		rec.Groups = &v.groups
	}
	if usersAll || groupsAll || rec.Groups != nil {
		v.allUsers = usersAll || groupsAll
		rec.AllUsers = &v.allUsers
	}
	if f[fieldInvoice] != "" {
		v.invoice = strings.ToUpper(f[fieldInvoice])
		if !model.ValidInvoiceOption(v.invoice) {
			return rec, fieldInvoice, fmt.Sprintf("%s is not an invoice option; use %s, %s, %s or %s", quote(f[fieldInvoice]),
				model.InvoiceAlways, model.InvoiceNever, model.InvoiceUserOn, model.InvoiceUserOff)
		}
		rec.InvoiceOption = &v.invoice
	}
	if f[fieldComment] != "" {
		v.comment = strings.ToUpper(f[fieldComment])
		if !model.ValidCommentOption(v.comment) {
			return rec, fieldComment, fmt.Sprintf("%s is not a comment option; use %s, %s or %s", quote(f[fieldComment]),
				model.CommentNone, model.CommentOptional, model.CommentRequired)
		}
		rec.CommentOption = &v.comment
	}
	if f[fieldNotes] != "" {
		if err := checkText(f[fieldNotes]); err != nil {
			return rec, fieldNotes, err.Error()
		}
		v.notes = f[fieldNotes]
		rec.Notes = &v.notes
	}
	return rec, 0, ""
}

func allBlank(fields []string) bool {
	for _, s := range fields {
		if s != "" {
			return false
		}
	}
	return true
}

func parseYesNo(s string) (bool, error) {
	switch s {
	case "Y", "y":
		return true, nil
	case "N", "n":
		return false, nil
	}
	return false, fmt.Errorf("%s is not Y or N", quote(s))
}

// parseAccessList reads a "|"-separated list of user or group names. "-"
// alone clears the list (an empty, non-nil slice). The everyone token is
// taken out and reported through all.
func (p *importParser) parseAccessList(n, field int, s string) (names []string, all bool, err error) {
	names = []string{}
	if s == "-" {
		return names, false, nil
	}
	var seen map[string]bool
	for entry := range strings.SplitSeq(s, "|") {
		entry = strings.TrimSpace(entry)
		switch {
		case entry == "":
			continue
		case model.IsAllUsersGroup(entry):
			all = true
			continue
		case entry == "-":
			return nil, false, errors.New(`"-" clears the list only when it is the whole field`)
		}
		if err := checkText(entry); err != nil {
			return nil, false, err
		}
		if utf8.RuneCountInString(entry) > MaxNameLength {
			return nil, false, fmt.Errorf("%s is longer than %d characters", quote(entry), MaxNameLength)
		}
		key := strings.ToLower(entry)
		if seen[key] {
			p.warn(n, field, fmt.Sprintf("%s is listed more than once; it is kept once", quote(entry)))
			continue
		}
		if seen == nil {
			seen = make(map[string]bool)
		}
		seen[key] = true
		names = append(names, entry)
	}
	if len(names) == 0 && !all {
		return nil, false, fmt.Errorf("%s names no one; write \"-\" to clear the list", quote(s))
	}
	return names, all, nil
}
