package source

import (
	"encoding/binary"
	"strings"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
)

// Packed holds a source's records one after another, encoded, in large
// blocks of text, and reads each back as a Row whose strings point into its
// block.
//
// Why not []Record: a million-account first import held, as Records, 120
// bytes of struct per line, one allocation per line for its values, and the
// whole text of every line (the fields were substrings of it) — 627 MiB of
// heap by the end of reading, on top of which the plan copied every record
// into a 176-byte account row (issue 13 measured 1,025 MiB peak RSS). Packed,
// a record costs its own bytes plus about 8: 78 MB for the sample million,
// in blocks the garbage collector never has to scan.
type Packed struct {
	blocks []string         // full blocks
	cur    *strings.Builder // the block being filled; never grown past its capacity
	at     []uint64         // each record: block index << 32 | offset
	access bool             // some record has an access list
}

// blockSize is the size of one block of packed records. A record is never
// larger than its line (at most DefaultMaxLineBytes plus a few bytes of
// lengths), so it always fits in a fresh block.
const blockSize = 1 << 20

// The bits of Row.Has: which fields the source gave.
const (
	HasEnabled uint16 = 1 << iota
	HasPIN
	HasBalance
	HasRestricted
	HasUsers
	HasGroups
	HasInvoice
	HasComment
	HasNotes
	// Values of the yes/no fields, kept in the same word.
	valEnabled
	valRestricted
	valAllUsers
)

// options are the invoice and comment options by index, as packed.
var options = [...]string{"", model.InvoiceAlways, model.InvoiceNever, model.InvoiceUserOn, model.InvoiceUserOff,
	model.CommentNone, model.CommentOptional, model.CommentRequired}

func optionIndex(s string) byte {
	for i, o := range options {
		if o == s {
			return byte(i)
		}
	}
	return 0
}

// Row is one packed record read back. Its strings share the block they were
// packed in and stay valid for as long as anything refers to them.
type Row struct {
	Line             int
	Parent, Sub      string
	Full             string // "Parent\Sub" or "Parent", as FullName gives it
	Has              uint16 // Has… bits
	Enabled          bool
	Restricted       bool
	AllUsers         bool // the everyone token was in an access list
	PIN              string
	Balance          money.Amount
	Users, Groups    string // newline separated, as accounts store them; "" with Has set clears the list
	Invoice, Comment string // upper case, model's constants
	Notes            string
}

// Len is the number of records.
func (p *Packed) Len() int { return len(p.at) }

// HasAccessLists reports whether any record gives users or groups.
func (p *Packed) HasAccessLists() bool { return p.access }

// Add packs a copy of r.
func (p *Packed) Add(r *Record) {
	var buf [8 * binary.MaxVarintLen64]byte
	head := binary.AppendUvarint(buf[:0], uint64(r.Line))
	var has uint16
	flag := func(b *bool, bit, val uint16) {
		if b != nil {
			has |= bit
			if *b {
				has |= val
			}
		}
	}
	flag(r.Enabled, HasEnabled, valEnabled)
	flag(r.Restricted, HasRestricted, valRestricted)
	if r.AllUsers != nil && *r.AllUsers {
		has |= valAllUsers
	}
	var users, groups string
	if r.PIN != nil {
		has |= HasPIN
	}
	if r.Balance != nil {
		has |= HasBalance
	}
	if r.Users != nil {
		has |= HasUsers
		users = strings.Join(*r.Users, "\n")
	}
	if r.Groups != nil {
		has |= HasGroups
		groups = strings.Join(*r.Groups, "\n")
	}
	if r.InvoiceOption != nil {
		has |= HasInvoice
	}
	if r.CommentOption != nil {
		has |= HasComment
	}
	if r.Notes != nil {
		has |= HasNotes
	}
	p.access = p.access || r.Users != nil || r.Groups != nil
	head = binary.AppendUvarint(head, uint64(has))
	head = binary.AppendUvarint(head, uint64(len(r.Parent)))
	head = binary.AppendUvarint(head, uint64(len(r.Sub)))

	size := len(head) + len(r.Parent) + 1 + len(r.Sub) + 4*binary.MaxVarintLen64 + 2
	for _, s := range []*string{r.PIN, r.Notes} {
		if s != nil {
			size += len(*s)
		}
	}
	size += len(users) + len(groups)
	b := p.room(size)
	b.Write(head)
	b.WriteString(r.Parent)
	if r.Sub != "" {
		b.WriteByte('\\')
		b.WriteString(r.Sub)
	}
	var tmp [binary.MaxVarintLen64]byte
	str := func(s string) {
		b.Write(binary.AppendUvarint(tmp[:0], uint64(len(s))))
		b.WriteString(s)
	}
	if r.PIN != nil {
		str(*r.PIN)
	}
	if r.Balance != nil {
		b.Write(binary.AppendVarint(tmp[:0], int64(*r.Balance)))
	}
	if r.Users != nil {
		str(users)
	}
	if r.Groups != nil {
		str(groups)
	}
	if r.InvoiceOption != nil {
		b.WriteByte(optionIndex(*r.InvoiceOption))
	}
	if r.CommentOption != nil {
		b.WriteByte(optionIndex(*r.CommentOption))
	}
	if r.Notes != nil {
		str(*r.Notes)
	}
}

// room returns the block to write a record of at most size bytes into,
// starting a new one when the current one has too little room left, and
// notes where the record starts.
func (p *Packed) room(size int) *strings.Builder {
	if p.cur == nil || p.cur.Cap()-p.cur.Len() < size {
		if p.cur != nil {
			p.blocks = append(p.blocks, p.cur.String())
		}
		p.cur = new(strings.Builder)
		p.cur.Grow(max(blockSize, size))
	}
	p.at = append(p.at, uint64(len(p.blocks))<<32|uint64(p.cur.Len()))
	return p.cur
}

// Row reads record i into r.
func (p *Packed) Row(i int, r *Row) {
	block, off := int(p.at[i]>>32), int(uint32(p.at[i]))
	var s string
	if block < len(p.blocks) {
		s = p.blocks[block]
	} else {
		// The block being filled: its bytes so far never move, since it
		// is never grown past its capacity.
		s = p.cur.String()
	}
	s = s[off:]
	uv := func() int {
		v, n := uvarint(s)
		s = s[n:]
		return int(v)
	}
	str := func() string {
		n := uv()
		v := s[:n]
		s = s[n:]
		return v
	}
	*r = Row{}
	r.Line = uv()
	r.Has = uint16(uv())
	lp, ls := uv(), uv()
	if ls > 0 {
		r.Full = s[:lp+1+ls]
		r.Parent, r.Sub = r.Full[:lp], r.Full[lp+1:]
	} else {
		r.Full = s[:lp]
		r.Parent = r.Full
	}
	s = s[len(r.Full):]
	r.Enabled, r.Restricted, r.AllUsers = r.Has&valEnabled != 0, r.Has&valRestricted != 0, r.Has&valAllUsers != 0
	r.Has &^= valEnabled | valRestricted | valAllUsers
	if r.Has&HasPIN != 0 {
		r.PIN = str()
	}
	if r.Has&HasBalance != 0 {
		u, n := uvarint(s)
		// Zig-zag, as binary.AppendVarint wrote it.
		v := int64(u >> 1)
		if u&1 != 0 {
			v = ^v
		}
		r.Balance, s = money.Amount(v), s[n:]
	}
	if r.Has&HasUsers != 0 {
		r.Users = str()
	}
	if r.Has&HasGroups != 0 {
		r.Groups = str()
	}
	if r.Has&HasInvoice != 0 {
		r.Invoice, s = options[s[0]], s[1:]
	}
	if r.Has&HasComment != 0 {
		r.Comment, s = options[s[0]], s[1:]
	}
	if r.Has&HasNotes != 0 {
		r.Notes = str()
	}
}

// uvarint is binary.Uvarint over a string; packed data is always well formed.
func uvarint(s string) (uint64, int) {
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return v, len(s)
}
