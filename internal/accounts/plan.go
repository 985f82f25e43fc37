// Package accounts is Ream's shared account synchronization and batch
// import (SPEC §3): a source (package source) produces records, one planner
// turns records and the current accounts into a Plan, and one applier
// applies a Plan in one database transaction. The admin pages, the CLI and
// the API all go through Service.
package accounts

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/accounts/source"
	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/store"
)

// SourceSync is the SourceID of accounts the shared account sync manages.
// Only these are ever deleted by a sync; accounts made by hand ("") are not.
const SourceSync = "sync"

// Longest PIN and notes an account may have, as core enforces for edits.
const (
	maxPINBytes  = 64
	maxNotesRune = 4000
)

// Field is one changeable field of an account, for the "updated" list.
type Field uint16

// The fields a source line can change.
const (
	FieldEnabled Field = 1 << iota
	FieldPIN
	FieldBalance
	FieldRestricted
	FieldUsers
	FieldGroups
	FieldInvoice
	FieldComment
	FieldNotes
)

var fieldNames = [...]string{"enabled", "PIN", "balance", "restricted", "users allowed", "groups allowed",
	"invoice option", "comment option", "notes"}

// Names lists the fields in the order of the import file's columns.
func (f Field) Names() []string {
	out := make([]string, 0, bits.OnesCount16(uint16(f)))
	for i, name := range fieldNames {
		if f&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}

// String joins the field names, for reports.
func (f Field) String() string { return strings.Join(f.Names(), ", ") }

// Item is one account in a plan's lists.
type Item struct {
	Line     int    // line of the import file that named it; 0 for a directory or an implied parent
	Name     string // "Parent" or "Parent\Sub"
	Changed  Field  // updates: what changes
	Restored bool   // creates: a deleted account that comes back under its id
}

// Plan is what a sync or import would do. Test shows it; Run applies it.
type Plan struct {
	Creates   []Item
	Updates   []Item
	Unchanged []Item
	Deletes   []Item
	Skipped   []source.LineError
	Warnings  []source.LineError
	Read      int // records the source gave plus lines it skipped

	// Managed is how many live accounts the delete limit is measured
	// against: source-managed ones for a sync, every live one for an import.
	Managed     int
	DeleteLimit int
	// Refusal says why a run asked to delete must not go ahead ("" when
	// it may): skipped lines, or more deletions than the limit without
	// the matching confirmation. A refused run changes nothing.
	Refusal string
	// NeedsConfirmation is true when Refusal is the delete limit: the run
	// may be repeated confirming exactly len(Deletes).
	NeedsConfirmation bool

	comment string
	write   planWrites
	applied bool
}

// Counts are the plan's totals, as a sync run records them.
func (p *Plan) Counts() model.SyncCounts {
	return model.SyncCounts{Read: p.Read, Created: len(p.Creates), Updated: len(p.Updates),
		Unchanged: len(p.Unchanged), Deleted: len(p.Deletes), Skipped: len(p.Skipped)}
}

// planWrites are the rows the applier writes.
type planWrites struct {
	creates   []plannedCreate
	updates   []store.SyncAccount // full new state of updated and restored accounts
	clearPINs []int64             // live accounts whose PIN moves: cleared before updates
	deletes   []int64
	balances  []balanceSet

	// What a create's row is made from: its record, the run's source id
	// and the PIN key. A create's row is only made when it is written, a
	// batch at a time, so that a first import never holds a million rows.
	records  *source.Packed
	sourceID string
	pinKey   []byte
}

// plannedCreate is a new account: its name and parent, and the record
// whose line gives its values (-1 for a parent only implied by its
// sub-accounts' lines, which has the defaults).
type plannedCreate struct {
	name     string
	parentID int64 // an existing parent's id; 0 for none or a planned parent
	parent   int32 // the planned parent's index among creates, or -1
	rec      int32
}

// row is the account a create writes, with parentID filled in by the
// applier for a planned parent.
func (w *planWrites) row(c *plannedCreate, r *source.Row) store.SyncAccount {
	a := newAccount(c.parentID, c.name, w.sourceID)
	if c.rec >= 0 {
		w.records.Row(int(c.rec), r)
		setValues(&a, r, w.pinKey)
	}
	return a
}

// balanceSet is a balance the source sets; the transaction row records it.
type balanceSet struct {
	create  int32 // index into creates, or -1
	id      int64 // existing account, when create is -1
	delta   money.Amount
	balance money.Amount
}

// PlanOptions are what a plan depends on besides records and accounts.
type PlanOptions struct {
	// SourceID is given to accounts the run creates or restores: SourceSync
	// for a sync, "" for a batch import (an administrator's one-off file).
	SourceID string
	// DeleteMissing asks to delete accounts the source does not name:
	// source-managed ones for a sync, every live account with DeleteAll
	// (a batch import).
	DeleteMissing bool
	DeleteAll     bool
	// ConfirmDelete is the number of deletions the administrator confirmed.
	ConfirmDelete int
	// Delete limit: the smaller of LimitPercent % of Managed and LimitMax.
	LimitPercent, LimitMax int
	// Comment names the run on balance transactions, e.g. "shared account sync".
	Comment string
	// PINKey is the site's key of shared-account PIN hashes
	// (store.AccountPINKey): the source's PINs are compared and stored as
	// auth.AccountPINHash under it.
	PINKey []byte
}

// keyOf writes the key that identifies an account in the name maps into
// p.key: its parent's id (8 bytes; a planned parent has a negative stand-in,
// see idOrPlanned) and its lower-case name, as store.AccountKey compares.
// Looking up m[string(p.key)] does not allocate.
func (p *planner) keyOf(parent int64, name string) []byte {
	p.key = binary.LittleEndian.AppendUint64(p.key[:0], uint64(parent))
	p.key = source.AppendLower(p.key, strings.TrimSpace(name))
	return p.key
}

// sameLive reports whether the account at live index i has the key
// keyOf gives.
func (p *planner) sameLive(i int32, key []byte) bool {
	var parent int64
	var name string
	if i < 0 {
		c := &p.plan.write.creates[createIndex(i)]
		parent, name = c.parentID, c.name
		if c.parent >= 0 {
			parent = int64(-(c.parent + 1)) // idOrPlanned of the planned parent
		}
	} else {
		a := &p.current[i]
		parent, name = a.ParentID, a.Name
	}
	p.key2 = binary.LittleEndian.AppendUint64(p.key2[:0], uint64(parent))
	p.key2 = source.AppendLower(p.key2, strings.TrimSpace(name))
	return string(p.key2) == string(key)
}

// planner holds one planning pass.
type planner struct {
	opts    PlanOptions
	current []store.SyncAccount
	names   *store.AccessNames
	plan    *Plan

	live    *source.NameIndex // keyOf → index in current; negative: a planned account (createIndex)
	deleted map[string]int32  // keyOf → the most recently deleted account of that name
	key     []byte
	key2    []byte // keyOf's buffer for sameLive
	records *source.Packed
	skip    []bool // records not planned: their lines are skipped
	row     source.Row
	// The current accounts the source names, in first-seen order (see
	// touched), and where each is in that list (-1: not named).
	touched   []touched
	touchedAt []int32
	restores  bool

	unknown      map[string]*unknownName
	unknownOrder []string
}

// unknownName is an access-list name that is neither a user nor a group.
type unknownName struct {
	kind     string
	name     string
	first, n int
}

// Build plans records against the current accounts. names may be nil when
// no record has an access list. Build packs res.Records (see
// source.Result.Pack), and the plan keeps the packed records until it is
// applied: new accounts are made from them as they are written.
func Build(res *source.Result, current []store.SyncAccount, names *store.AccessNames, opts PlanOptions) *Plan {
	records := res.Pack()
	n := records.Len()
	p := &planner{
		opts:      opts,
		current:   current,
		names:     names,
		records:   records,
		skip:      make([]bool, n),
		plan:      &Plan{Skipped: append([]source.LineError(nil), res.Skipped...), Warnings: append([]source.LineError(nil), res.Warnings...)},
		deleted:   make(map[string]int32),
		touchedAt: make([]int32, len(current)),
		touched:   make([]touched, 0, min(n, len(current))),
		unknown:   make(map[string]*unknownName),
	}
	p.live = source.NewNameIndex(len(current)+n, p.sameLive)
	p.plan.Read = n + len(res.Skipped)
	w := &p.plan.write
	w.records, w.sourceID, w.pinKey = records, opts.SourceID, opts.PINKey
	// Room for every line to be a new account once the current ones are
	// out of the count: a first import then never grows (and copies) these.
	if n := n - len(current); n > 0 {
		w.creates = make([]plannedCreate, 0, n)
		p.plan.Creates = make([]Item, 0, n)
	}
	p.plan.comment = opts.Comment
	for i := range p.touchedAt {
		p.touchedAt[i] = -1
	}
	p.index()
	p.checkValues()
	p.dropPINConflicts()
	for i := range n {
		if !p.skip[i] {
			records.Row(i, &p.row)
			p.apply(int32(i), &p.row)
		}
	}
	p.skip = nil
	p.reportUnknownNames()
	p.settleRestoredPINs()
	p.classify()
	p.planDeletes()
	p.checkSafety()
	return p.plan
}

// index builds the name maps of the current accounts.
func (p *planner) index() {
	for i := range p.current {
		a := &p.current[i]
		k := p.keyOf(a.ParentID, a.Name)
		if a.DeletedAt == 0 {
			p.live.Put(k, int32(i))
			if a.SourceID == SourceSync || p.opts.DeleteAll {
				p.plan.Managed++
			}
			continue
		}
		if j, ok := p.deleted[string(k)]; !ok || p.current[j].DeletedAt <= a.DeletedAt {
			p.deleted[string(k)] = int32(i)
		}
	}
}

// liveIndex returns the index in current of the live account a record
// names, or -1.
func (p *planner) liveIndex(r *source.Row) int32 {
	parent, ok := p.live.Get(p.keyOf(0, r.Parent))
	if !ok {
		return -1
	}
	if r.Sub == "" {
		return parent
	}
	sub, ok := p.live.Get(p.keyOf(p.current[parent].ID, r.Sub))
	if !ok {
		return -1
	}
	return sub
}

// dropPINConflicts skips the lines whose PIN would belong to two live
// accounts after the run: a PIN held by an account the run leaves with it.
// Skipping a line keeps its account's old PIN, which may in turn clash with
// another line, so it repeats until nothing changes.
func (p *planner) dropPINConflicts() {
	// Only a PIN that a live account has can clash (the source's own PINs
	// are unique): on a first import there is none.
	owner := make(map[string]int64) // live PIN → account id
	for i := range p.current {
		if a := &p.current[i]; a.DeletedAt == 0 && a.PINHash != "" {
			owner[a.PINHash] = a.ID
		}
	}
	if len(owner) == 0 {
		return
	}
	n := p.records.Len()
	r := &p.row
	// Usually no PIN moves (a sync of the same export): find out before
	// holding anything for each line.
	moving := false
	for i := 0; i < n && !moving; i++ {
		if p.records.Row(i, r); p.skip[i] || r.Has&source.HasPIN == 0 {
			continue
		}
		cur := p.liveIndex(r)
		moving = cur < 0 || p.current[cur].PINHash != auth.AccountPINHash(p.opts.PINKey, r.PIN)
	}
	if !moving {
		return
	}
	ids := make([]int64, n)   // the live account a line names
	pins := make([]string, n) // the PIN a line gives, as stored
	for i := range n {
		if p.records.Row(i, r); p.skip[i] || r.Has&source.HasPIN == 0 {
			continue
		}
		pins[i] = auth.AccountPINHash(p.opts.PINKey, r.PIN)
		if cur := p.liveIndex(r); cur >= 0 {
			ids[i] = p.current[cur].ID
		}
	}
	newPIN := make(map[int64]string) // account id → PIN its line gives
	for i := range n {
		if ids[i] != 0 {
			newPIN[ids[i]] = pins[i]
		}
	}
	for changed := true; changed; {
		changed = false
		for i := range n {
			if p.skip[i] || pins[i] == "" {
				continue
			}
			holder, held := owner[pins[i]]
			if !held || holder == ids[i] {
				continue
			}
			if moved, ok := newPIN[holder]; ok && moved != pins[i] {
				continue
			}
			h := &p.current[p.indexByID(holder)]
			p.records.Row(i, r)
			p.plan.Skipped = append(p.plan.Skipped, source.LineError{Line: r.Line, Field: "field 4 (PIN / code)",
				Reason: fmt.Sprintf("the PIN is already used by the account %q, which keeps it; PINs must be unique", p.fullName(h))})
			p.skip[i], changed = true, true
			if ids[i] != 0 {
				delete(newPIN, ids[i])
			}
		}
	}
}

// checkValues skips lines whose values the accounts table cannot hold, with
// the same limits that editing an account has.
func (p *planner) checkValues() {
	r := &p.row
	for i := range p.records.Len() {
		p.records.Row(i, r)
		switch {
		case len(r.PIN) > maxPINBytes:
			p.plan.Skipped = append(p.plan.Skipped, source.LineError{Line: r.Line, Field: "field 4 (PIN / code)",
				Reason: fmt.Sprintf("the PIN is longer than %d bytes", maxPINBytes)})
		case len(r.Notes) > maxNotesRune && utf8.RuneCountInString(r.Notes) > maxNotesRune:
			p.plan.Skipped = append(p.plan.Skipped, source.LineError{Line: r.Line, Field: "field 11 (Notes)",
				Reason: fmt.Sprintf("the notes are longer than %d characters", maxNotesRune)})
		default:
			continue
		}
		p.skip[i] = true
	}
}

func (p *planner) fullName(a *store.SyncAccount) string {
	if a.ParentID == 0 {
		return a.Name
	}
	return p.parentName(a.ParentID) + `\` + a.Name
}

// parentName finds a parent's name by id.
func (p *planner) parentName(id int64) string {
	if i := p.indexByID(id); i >= 0 {
		return p.current[i].Name
	}
	return fmt.Sprintf("#%d", id)
}

// indexByID finds an account in current by binary search (current is
// ordered by id); -1 when there is none.
func (p *planner) indexByID(id int64) int {
	i, found := slices.BinarySearchFunc(p.current, id, func(a store.SyncAccount, id int64) int { return cmp.Compare(a.ID, id) })
	if !found {
		return -1
	}
	return i
}

// newAccount is a new account with the defaults of SPEC §3.1.
func newAccount(parentID int64, name, sourceID string) store.SyncAccount {
	return store.SyncAccount{ParentID: parentID, Name: name, Enabled: true, InvoiceOption: model.InvoiceUserOff,
		CommentOption: model.CommentOptional, SourceID: sourceID}
}

// noParent is resolve's parent for a top-level account (-1 is a live
// index: the first planned create).
const noParent = math.MinInt32

// resolve returns the live index of the account named name under parent
// (a live index, or noParent for a top-level account), creating or restoring it
// in the plan when needed. r is the line being planned; rec is its record
// when the line names this account itself, -1 when it only implies it (as
// the parent of a sub-account line).
func (p *planner) resolve(parent int32, name string, r *source.Row, rec int32) int32 {
	parentKey := int64(0)
	if parent != noParent {
		parentKey = p.idOrPlanned(parent)
	}
	k := p.keyOf(parentKey, name)
	if i, ok := p.live.Get(k); ok {
		p.touch(i, r.Line, rec)
		return i
	}
	if i, ok := p.deleted[string(k)]; ok {
		// Brought back under its id; a live name now takes the key.
		delete(p.deleted, string(k))
		p.live.Put(k, i)
		p.touch(i, r.Line, rec)
		p.restores = true
		return i
	}
	w := &p.plan.write
	idx := int32(len(w.creates))
	c := plannedCreate{name: name, parent: -1, rec: rec}
	item := Item{Name: name}
	if parent != noParent {
		parentName := ""
		if parent < 0 {
			c.parent = createIndex(parent)
			parentName = w.creates[c.parent].name
		} else {
			c.parentID = p.current[parent].ID
			parentName = p.current[parent].Name
		}
		// The line's own "Parent\Sub" when it spells the parent as the
		// account has it: a million sub-accounts then add no strings.
		if rec >= 0 && r.Parent == parentName && r.Sub == name {
			item.Name = r.Full
		} else {
			item.Name = parentName + `\` + name
		}
	}
	if rec >= 0 {
		item.Line = r.Line
	}
	w.creates = append(w.creates, c)
	p.plan.Creates = append(p.plan.Creates, item)
	p.live.Put(k, -(idx + 1)) // a planned account: see createIndex
	return -(idx + 1)
}

// touched is a current account the source names or implies (as the
// parent of a sub-account line). Its planned state is not kept but made
// when needed (planner.next): from the account, the record that names it,
// and what the plan decided about it. A sync of a million unchanged
// accounts then holds 12 bytes for each rather than a copy of its row.
type touched struct {
	cur      int32 // index in current
	rec      int32 // the record that names it; -1 when it is only implied
	clearPIN bool  // restored without its old PIN (settleRestoredPINs)
}

// touch notes that the line names (rec >= 0) or implies the account at
// live index i.
func (p *planner) touch(i int32, line int, rec int32) {
	if i < 0 {
		if c := createIndex(i); rec >= 0 {
			p.plan.Creates[c].Line = line
			p.plan.write.creates[c].rec = rec
		}
		return
	}
	n := p.touchedAt[i]
	if n < 0 {
		n = int32(len(p.touched))
		p.touchedAt[i] = n
		p.touched = append(p.touched, touched{cur: i, rec: -1})
	}
	if rec >= 0 {
		p.touched[n].rec = rec
	}
}

// next makes the planned state of touched account k into a; when the
// account is named by a record, p.row holds that record afterwards.
func (p *planner) next(k int, a *store.SyncAccount) {
	t := &p.touched[k]
	*a = p.current[t.cur]
	if a.DeletedAt != 0 {
		// Restored: a sync's restored account is the sync's again.
		a.DeletedAt = 0
		if p.opts.SourceID == SourceSync {
			a.SourceID = SourceSync
		}
	}
	if t.rec >= 0 {
		p.records.Row(int(t.rec), &p.row)
		setValues(a, &p.row, p.opts.PINKey)
	}
	if t.clearPIN {
		a.PINHash = ""
	}
}

// lineOf is the line that names touched account k; 0 when it is only implied.
func (p *planner) lineOf(k int) int {
	if rec := p.touched[k].rec; rec >= 0 {
		var r source.Row
		p.records.Row(int(rec), &r)
		return r.Line
	}
	return 0
}

// createIndex decodes a negative live index: an account the plan creates.
func createIndex(i int32) int32 { return -i - 1 }

// idOrPlanned is the parent id a sub-account of the account at live index i
// is keyed under: its id, or for a planned account the (negative) index
// itself, which never matches a real or deleted account.
func (p *planner) idOrPlanned(i int32) int64 {
	if i < 0 {
		return int64(i)
	}
	return p.current[i].ID
}

// apply plans one record. A sub-account line implies its parent: found,
// restored or created. The record's fields are applied when the account's
// new state is needed: planner.next for a current account, planWrites.row
// for a new one.
func (p *planner) apply(rec int32, r *source.Row) {
	if r.Sub == "" {
		p.resolve(noParent, r.Parent, r, rec)
	} else {
		parent := p.resolve(noParent, r.Parent, r, -1)
		p.resolve(parent, r.Sub, r, rec)
	}
	p.checkNames(r)
}

// setValues copies the fields a record gives; blank ones stay as they are.
// The record's PIN is stored as its hash under pinKey.
func setValues(a *store.SyncAccount, r *source.Row, pinKey []byte) {
	if r.Has&source.HasEnabled != 0 {
		a.Enabled = r.Enabled
	}
	if r.Has&source.HasPIN != 0 {
		a.PINHash = auth.AccountPINHash(pinKey, r.PIN)
	}
	if r.Has&source.HasBalance != 0 {
		a.Balance = r.Balance
	}
	if r.Has&source.HasRestricted != 0 {
		a.Restricted = r.Restricted
	}
	if r.Has&source.HasUsers != 0 {
		a.AccessUsers = r.Users
	}
	if r.Has&source.HasGroups != 0 {
		a.AccessGroups = r.Groups
		if r.AllUsers {
			a.AccessGroups = withAllUsers(r.Groups)
		}
	} else if r.AllUsers && !hasAllUsers(a.AccessGroups) {
		a.AccessGroups = withAllUsers(a.AccessGroups)
	}
	if r.Has&source.HasInvoice != 0 {
		a.InvoiceOption = r.Invoice
	}
	if r.Has&source.HasComment != 0 {
		a.CommentOption = r.Comment
	}
	if r.Has&source.HasNotes != 0 {
		a.Notes = r.Notes
	}
}

// withAllUsers puts everyone access first in a stored group list.
func withAllUsers(groups string) string {
	if groups == "" {
		return model.GroupAllUsers
	}
	return model.GroupAllUsers + "\n" + groups
}

func hasAllUsers(groups string) bool {
	for _, g := range store.SplitAccessList(groups) {
		if model.IsAllUsersGroup(g) {
			return true
		}
	}
	return false
}

// checkNames notes access-list names that are neither users nor groups.
// They are warnings, not failures (SPEC §3.1): the user may be synced later.
func (p *planner) checkNames(r *source.Row) {
	if p.names == nil {
		return
	}
	p.checkList(r.Line, "user", r.Users, p.names.Users)
	p.checkList(r.Line, "group", r.Groups, p.names.Groups)
}

func (p *planner) checkList(line int, kind, list string, set map[string]struct{}) {
	if list == "" {
		return
	}
	for n := range strings.SplitSeq(list, "\n") {
		key := strings.ToLower(n)
		if _, ok := set[key]; ok {
			continue
		}
		uk := kind + "\x00" + key
		if u, ok := p.unknown[uk]; ok {
			u.n++
			continue
		}
		p.unknown[uk] = &unknownName{kind: kind, name: n, first: line, n: 1}
		p.unknownOrder = append(p.unknownOrder, uk)
	}
}

// reportUnknownNames adds one warning per unknown name, not one per line:
// a name missing from a whole export is one problem.
func (p *planner) reportUnknownNames() {
	for _, k := range p.unknownOrder {
		u := p.unknown[k]
		field := "field 7 (Users allowed)"
		if u.kind == "group" {
			field = "field 8 (Groups allowed)"
		}
		reason := fmt.Sprintf("there is no %s %q; it is kept in the access list", u.kind, u.name)
		if u.n > 1 {
			reason += fmt.Sprintf(" (also on %d more lines)", u.n-1)
		}
		p.plan.Warnings = append(p.plan.Warnings, source.LineError{Line: u.first, Field: field, Reason: reason})
	}
}

// settleRestoredPINs clears the old PIN of a restored account when another
// account now has it, with a warning, rather than failing the run.
func (p *planner) settleRestoredPINs() {
	if !p.restores {
		return
	}
	var next store.SyncAccount
	final := make(map[string]int64)
	for i := range p.current {
		a := &p.current[i]
		if a.DeletedAt != 0 || a.PINHash == "" {
			continue
		}
		if k := p.touchedAt[i]; k >= 0 {
			if p.next(int(k), &next); next.PINHash != a.PINHash {
				continue
			}
		}
		final[a.PINHash] = a.ID
	}
	for k := range p.touched {
		if p.current[p.touched[k].cur].DeletedAt != 0 {
			continue
		}
		if p.next(k, &next); next.PINHash != "" {
			final[next.PINHash] = next.ID
		}
	}
	for _, c := range p.plan.write.creates {
		if c.rec < 0 {
			continue
		}
		if p.records.Row(int(c.rec), &p.row); p.row.PIN != "" {
			final[auth.AccountPINHash(p.opts.PINKey, p.row.PIN)] = -1
		}
	}
	for k := range p.touched {
		cur := &p.current[p.touched[k].cur]
		if cur.DeletedAt == 0 {
			continue
		}
		if p.next(k, &next); next.PINHash == "" {
			continue
		}
		if holder, ok := final[next.PINHash]; ok && holder != next.ID {
			p.plan.Warnings = append(p.plan.Warnings, source.LineError{Line: p.lineOf(k), Field: "field 4 (PIN / code)",
				Reason: fmt.Sprintf("the restored account %q had a PIN that another account now has; it is restored without a PIN", p.fullName(cur))})
			p.touched[k].clearPIN = true
			continue
		}
		final[next.PINHash] = next.ID
	}
}

// classify sorts the touched accounts into restored, updated and unchanged,
// and notes the initial balances of planned creates.
func (p *planner) classify() {
	w := &p.plan.write
	for i := range w.creates {
		c := &w.creates[i]
		if c.rec < 0 {
			continue
		}
		if p.records.Row(int(c.rec), &p.row); p.row.Has&source.HasBalance != 0 && p.row.Balance != 0 {
			w.balances = append(w.balances, balanceSet{create: int32(i), delta: p.row.Balance, balance: p.row.Balance})
		}
	}
	// Room for every named account to be unchanged, as on most syncs.
	named := 0
	for k := range p.touched {
		if p.touched[k].rec >= 0 {
			named++
		}
	}
	p.plan.Unchanged = make([]Item, 0, named)
	var n store.SyncAccount
	for k := range p.touched {
		t := &p.touched[k]
		cur := &p.current[t.cur]
		p.next(k, &n)
		item := Item{Name: cur.Name}
		if t.rec >= 0 {
			item.Line = p.row.Line
		}
		if cur.ParentID != 0 {
			// The line's own "Parent\Sub" when it spells both names as
			// the accounts have them: no new string for each.
			if parent := p.parentName(cur.ParentID); t.rec >= 0 && p.row.Parent == parent && p.row.Sub == cur.Name {
				item.Name = p.row.Full
			} else {
				item.Name = parent + `\` + cur.Name
			}
		}
		if cur.DeletedAt != 0 {
			item.Restored = true
			p.plan.Creates = append(p.plan.Creates, item)
			w.updates = append(w.updates, n)
			p.noteBalance(cur, &n)
			continue
		}
		item.Changed = changedFields(cur, &n)
		if item.Changed == 0 && cur.SourceID == n.SourceID {
			if t.rec >= 0 {
				p.plan.Unchanged = append(p.plan.Unchanged, item)
			}
			continue
		}
		p.plan.Updates = append(p.plan.Updates, item)
		w.updates = append(w.updates, n)
		if item.Changed&FieldPIN != 0 && cur.PINHash != "" {
			w.clearPINs = append(w.clearPINs, cur.ID)
		}
		p.noteBalance(cur, &n)
	}
}

func (p *planner) noteBalance(cur, n *store.SyncAccount) {
	if n.Balance != cur.Balance {
		p.plan.write.balances = append(p.plan.write.balances,
			balanceSet{create: -1, id: n.ID, delta: n.Balance - cur.Balance, balance: n.Balance})
	}
}

func changedFields(a, b *store.SyncAccount) Field {
	var f Field
	if a.Enabled != b.Enabled {
		f |= FieldEnabled
	}
	if a.PINHash != b.PINHash {
		f |= FieldPIN
	}
	if a.Balance != b.Balance {
		f |= FieldBalance
	}
	if a.Restricted != b.Restricted {
		f |= FieldRestricted
	}
	if a.AccessUsers != b.AccessUsers {
		f |= FieldUsers
	}
	if a.AccessGroups != b.AccessGroups {
		f |= FieldGroups
	}
	if a.InvoiceOption != b.InvoiceOption {
		f |= FieldInvoice
	}
	if a.CommentOption != b.CommentOption {
		f |= FieldComment
	}
	if a.Notes != b.Notes {
		f |= FieldNotes
	}
	return f
}

// planDeletes lists the live accounts the source no longer names, when the
// run asks for it: source-managed ones for a sync, all for an import. A
// parent that still has a live sub-account which is not deleted stays.
func (p *planner) planDeletes() {
	if !p.opts.DeleteMissing {
		return
	}
	deletable := func(i int) bool {
		a := &p.current[i]
		if a.DeletedAt != 0 {
			return false
		}
		if p.touchedAt[i] >= 0 {
			return false
		}
		return p.opts.DeleteAll || a.SourceID == SourceSync
	}
	keepParent := make(map[int64]bool)
	for i := range p.current {
		a := &p.current[i]
		if a.ParentID != 0 && a.DeletedAt == 0 && !deletable(i) {
			keepParent[a.ParentID] = true
		}
	}
	w := &p.plan.write
	for i := range p.current {
		a := &p.current[i]
		if !deletable(i) {
			continue
		}
		if a.ParentID == 0 && keepParent[a.ID] {
			p.plan.Warnings = append(p.plan.Warnings, source.LineError{Field: "account " + fmt.Sprintf("%q", a.Name),
				Reason: "is not in the source but keeps sub-accounts that are (or that were made by hand), so it is not deleted"})
			continue
		}
		p.plan.Deletes = append(p.plan.Deletes, Item{Name: p.fullName(a)})
		w.deletes = append(w.deletes, a.ID)
	}
}

// checkSafety applies the deletion rules of SPEC §3: no deletion with
// skipped lines, and no more than the delete limit without confirmation.
func (p *planner) checkSafety() {
	plan := p.plan
	plan.DeleteLimit = min(plan.Managed*p.opts.LimitPercent/100, p.opts.LimitMax)
	if !p.opts.DeleteMissing {
		return
	}
	if len(plan.Skipped) > 0 {
		plan.Refusal = fmt.Sprintf("%d line(s) of the source could not be used, and a run that deletes accounts must have none "+
			"(a skipped line may be an account that would otherwise be deleted). Fix those lines, or run without deleting.", len(plan.Skipped))
		return
	}
	if n := len(plan.Deletes); n > plan.DeleteLimit && p.opts.ConfirmDelete != n {
		plan.Refusal = fmt.Sprintf("This run would delete %d accounts, more than the delete limit of %d "+
			"(%d%% of %d managed accounts, at most %d). Nothing was changed. Repeat it confirming the deletion of exactly %d accounts.",
			n, plan.DeleteLimit, p.opts.LimitPercent, plan.Managed, p.opts.LimitMax, n)
		plan.NeedsConfirmation = true
	}
}
