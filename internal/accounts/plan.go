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
}

// Counts are the plan's totals, as a sync run records them.
func (p *Plan) Counts() model.SyncCounts {
	return model.SyncCounts{Read: p.Read, Created: len(p.Creates), Updated: len(p.Updates),
		Unchanged: len(p.Unchanged), Deleted: len(p.Deletes), Skipped: len(p.Skipped)}
}

// planWrites are the rows the applier writes.
type planWrites struct {
	creates     []store.SyncAccount // ID filled in by the applier
	parentIndex []int32             // creates[i]'s parent among creates, or -1 when ParentID is known
	updates     []store.SyncAccount // full new state of updated and restored accounts
	clearPINs   []int64             // live accounts whose PIN moves: cleared before updates
	deletes     []int64
	balances    []balanceSet
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

// planner holds one planning pass.
type planner struct {
	opts    PlanOptions
	current []store.SyncAccount
	names   *store.AccessNames
	plan    *Plan

	live    map[string]int32 // keyOf → index in current; negative: a planned account (createIndex)
	deleted map[string]int32 // keyOf → the most recently deleted account of that name
	key     []byte
	// The current accounts the source names, in first-seen order: their
	// new state, their index in current, the line that named them, and
	// whether a line named them directly (not only as a parent).
	touchedAt []int32 // current index → index in nexts, or -1
	nexts     []store.SyncAccount
	nextCur   []int32
	nextLine  []int
	direct    []bool
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
// no record has an access list. Build consumes res.Records (they are
// cleared as they are planned); the skipped lines and warnings stay.
func Build(res *source.Result, current []store.SyncAccount, names *store.AccessNames, opts PlanOptions) *Plan {
	p := &planner{
		opts:      opts,
		current:   current,
		names:     names,
		plan:      &Plan{Skipped: append([]source.LineError(nil), res.Skipped...), Warnings: append([]source.LineError(nil), res.Warnings...)},
		live:      make(map[string]int32, len(current)+len(res.Records)),
		deleted:   make(map[string]int32),
		touchedAt: make([]int32, len(current)),
		// Full capacity up front: pointers into nexts must stay valid.
		nexts:   make([]store.SyncAccount, 0, len(current)),
		unknown: make(map[string]*unknownName),
	}
	p.plan.Read = len(res.Records) + len(res.Skipped)
	// Room for every line to be a new account once the current ones are
	// out of the count: a first import then never grows (and copies) these.
	if n := len(res.Records) - len(current); n > 0 {
		p.plan.write.creates = make([]store.SyncAccount, 0, n)
		p.plan.write.parentIndex = make([]int32, 0, n)
		p.plan.Creates = make([]Item, 0, n)
	}
	p.plan.comment = opts.Comment
	for i := range p.touchedAt {
		p.touchedAt[i] = -1
	}
	p.index()
	records := p.dropPINConflicts(res.Records)
	for i := range records {
		p.apply(&records[i])
		// Let the record's values go as soon as they are planned: a big
		// run's memory then falls while it plans rather than peaking.
		records[i] = source.Record{}
	}
	res.Records = nil
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
		k := string(p.keyOf(a.ParentID, a.Name))
		if a.DeletedAt == 0 {
			p.live[k] = int32(i)
			if a.SourceID == SourceSync || p.opts.DeleteAll {
				p.plan.Managed++
			}
			continue
		}
		if j, ok := p.deleted[k]; !ok || p.current[j].DeletedAt <= a.DeletedAt {
			p.deleted[k] = int32(i)
		}
	}
}

// liveIndex returns the index in current of the live account a record
// names, or -1.
func (p *planner) liveIndex(r *source.Record) int32 {
	parent, ok := p.live[string(p.keyOf(0, r.Parent))]
	if !ok {
		return -1
	}
	if r.Sub == "" {
		return parent
	}
	sub, ok := p.live[string(p.keyOf(p.current[parent].ID, r.Sub))]
	if !ok {
		return -1
	}
	return sub
}

// dropPINConflicts skips the lines whose PIN would belong to two live
// accounts after the run: a PIN held by an account the run leaves with it.
// Skipping a line keeps its account's old PIN, which may in turn clash with
// another line, so it repeats until nothing changes.
func (p *planner) dropPINConflicts(records []source.Record) []source.Record {
	records = p.checkValues(records)
	// From here on a record's PIN is the form it is stored and compared in.
	for i := range records {
		if r := &records[i]; r.PIN != nil && *r.PIN != "" {
			h := auth.AccountPINHash(p.opts.PINKey, *r.PIN)
			r.PIN = &h
		}
	}
	// The current accounts' PINs are unique, so only a PIN that its
	// account does not have yet can clash; usually there is none.
	ids := make([]int64, len(records))
	moving := false
	for i := range records {
		r := &records[i]
		if r.PIN == nil {
			continue
		}
		cur := p.liveIndex(r)
		if cur >= 0 {
			ids[i] = p.current[cur].ID
		}
		moving = moving || cur < 0 || p.current[cur].PINHash != *r.PIN
	}
	if !moving {
		return records
	}
	owner := make(map[string]int64) // live PIN → account id
	for i := range p.current {
		if a := &p.current[i]; a.DeletedAt == 0 && a.PINHash != "" {
			owner[a.PINHash] = a.ID
		}
	}
	newPIN := make(map[int64]string) // account id → PIN its line gives
	for i := range records {
		if ids[i] != 0 {
			newPIN[ids[i]] = *records[i].PIN
		}
	}
	dropped := make([]bool, len(records))
	for changed := true; changed; {
		changed = false
		for i := range records {
			r := &records[i]
			if dropped[i] || r.PIN == nil {
				continue
			}
			holder, held := owner[*r.PIN]
			if !held || holder == ids[i] {
				continue
			}
			if moved, ok := newPIN[holder]; ok && moved != *r.PIN {
				continue
			}
			h := &p.current[p.indexByID(holder)]
			p.plan.Skipped = append(p.plan.Skipped, source.LineError{Line: r.Line, Field: "field 4 (PIN / code)",
				Reason: fmt.Sprintf("the PIN is already used by the account %q, which keeps it; PINs must be unique", p.fullName(h))})
			dropped[i], changed = true, true
			if ids[i] != 0 {
				delete(newPIN, ids[i])
			}
		}
	}
	// Kept in place: a copy would hold a second set of records (a million
	// of them on a first import) while the first is still alive.
	kept := records[:0]
	for i := range records {
		if !dropped[i] {
			kept = append(kept, records[i])
		}
	}
	clear(records[len(kept):])
	return kept
}

// checkValues skips lines whose values the accounts table cannot hold, with
// the same limits that editing an account has.
func (p *planner) checkValues(records []source.Record) []source.Record {
	bad := false
	for i := range records {
		r := &records[i]
		if (r.PIN != nil && len(*r.PIN) > maxPINBytes) || (r.Notes != nil && utf8.RuneCountInString(*r.Notes) > maxNotesRune) {
			bad = true
			break
		}
	}
	if !bad {
		return records
	}
	kept := make([]source.Record, 0, len(records))
	for i := range records {
		r := &records[i]
		switch {
		case r.PIN != nil && len(*r.PIN) > maxPINBytes:
			p.plan.Skipped = append(p.plan.Skipped, source.LineError{Line: r.Line, Field: "field 4 (PIN / code)",
				Reason: fmt.Sprintf("the PIN is longer than %d bytes", maxPINBytes)})
		case r.Notes != nil && utf8.RuneCountInString(*r.Notes) > maxNotesRune:
			p.plan.Skipped = append(p.plan.Skipped, source.LineError{Line: r.Line, Field: "field 11 (Notes)",
				Reason: fmt.Sprintf("the notes are longer than %d characters", maxNotesRune)})
		default:
			kept = append(kept, *r)
		}
	}
	return kept
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
func (p *planner) newAccount(parentID int64, name string) store.SyncAccount {
	return store.SyncAccount{ParentID: parentID, Name: name, Enabled: true, InvoiceOption: model.InvoiceUserOff,
		CommentOption: model.CommentOptional, SourceID: p.opts.SourceID}
}

// resolve returns the state an account named by the source will have, as a
// pointer the record's fields are written into, creating or restoring it
// (and for a sub-account its parent) in the plan when needed.
func (p *planner) resolve(parentID int64, name string, line int, direct bool) *store.SyncAccount {
	k := p.keyOf(parentID, name)
	if i, ok := p.live[string(k)]; ok {
		return p.touch(i, line, direct)
	}
	if i, ok := p.deleted[string(k)]; ok {
		// Brought back under its id; a live name now takes the key.
		delete(p.deleted, string(k))
		p.live[string(k)] = i
		a := p.touch(i, line, direct)
		a.DeletedAt = 0
		p.restores = true
		if p.opts.SourceID == SourceSync {
			a.SourceID = SourceSync
		}
		return a
	}
	w := &p.plan.write
	idx := int32(len(w.creates))
	parentIndex := int32(-1)
	if parentID < 0 {
		parentIndex = int32(-parentID - 1)
	}
	w.creates = append(w.creates, p.newAccount(max(parentID, 0), name))
	w.parentIndex = append(w.parentIndex, parentIndex)
	item := Item{}
	if direct {
		item.Line = line
	}
	p.plan.Creates = append(p.plan.Creates, item)
	p.live[string(k)] = -(idx + 1) // a planned account: see createIndex
	return &w.creates[idx]
}

// touch returns the planned state of the account at live index i, copying
// a current account on first use. direct is false when the account is only
// implied, as the parent of a sub-account line.
func (p *planner) touch(i int32, line int, direct bool) *store.SyncAccount {
	if i < 0 {
		c := createIndex(i)
		if direct {
			p.plan.Creates[c].Line = line
		}
		return &p.plan.write.creates[c]
	}
	n := p.touchedAt[i]
	if n < 0 {
		n = int32(len(p.nexts))
		p.touchedAt[i] = n
		p.nexts = append(p.nexts, p.current[i])
		p.nextCur = append(p.nextCur, i)
		p.nextLine = append(p.nextLine, 0)
		p.direct = append(p.direct, false)
	}
	if direct {
		p.nextLine[n] = line
		p.direct[n] = true
	}
	return &p.nexts[n]
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

// apply writes one record's fields into the planned state of its account.
// A sub-account line implies its parent: found, restored or created.
func (p *planner) apply(r *source.Record) {
	target := p.resolve(0, r.Parent, r.Line, r.Sub == "")
	if r.Sub != "" {
		pi := p.live[string(p.keyOf(0, r.Parent))]
		target = p.resolve(p.idOrPlanned(pi), r.Sub, r.Line, true)
	}
	p.setFields(target, r)
}

// setFields copies the fields a record gives; blank ones stay as they are.
func (p *planner) setFields(a *store.SyncAccount, r *source.Record) {
	if r.Enabled != nil {
		a.Enabled = *r.Enabled
	}
	if r.PIN != nil {
		a.PINHash = *r.PIN
	}
	if r.Balance != nil {
		a.Balance = *r.Balance
	}
	if r.Restricted != nil {
		a.Restricted = *r.Restricted
	}
	if r.Users != nil {
		p.checkNames(r.Line, "user", *r.Users)
		a.AccessUsers = store.JoinAccessList(*r.Users)
	}
	if r.Groups != nil {
		p.checkNames(r.Line, "group", *r.Groups)
		groups := *r.Groups
		if r.AllUsers != nil && *r.AllUsers {
			groups = append([]string{model.GroupAllUsers}, groups...)
		}
		a.AccessGroups = store.JoinAccessList(groups)
	} else if r.AllUsers != nil && *r.AllUsers && !hasAllUsers(a.AccessGroups) {
		a.AccessGroups = store.JoinAccessList(append([]string{model.GroupAllUsers}, store.SplitAccessList(a.AccessGroups)...))
	}
	if r.InvoiceOption != nil {
		a.InvoiceOption = store.InternOption(*r.InvoiceOption)
	}
	if r.CommentOption != nil {
		a.CommentOption = store.InternOption(*r.CommentOption)
	}
	if r.Notes != nil {
		a.Notes = *r.Notes
	}
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
func (p *planner) checkNames(line int, kind string, names []string) {
	if p.names == nil {
		return
	}
	set := p.names.Users
	if kind == "group" {
		set = p.names.Groups
	}
	for _, n := range names {
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
	final := make(map[string]int64)
	for i := range p.current {
		a := &p.current[i]
		if a.DeletedAt != 0 || a.PINHash == "" {
			continue
		}
		if n := p.touchedAt[i]; n >= 0 && p.nexts[n].PINHash != a.PINHash {
			continue
		}
		final[a.PINHash] = a.ID
	}
	for n := range p.nexts {
		if next := &p.nexts[n]; next.PINHash != "" && p.current[p.nextCur[n]].DeletedAt == 0 {
			final[next.PINHash] = next.ID
		}
	}
	for _, c := range p.plan.write.creates {
		if c.PINHash != "" {
			final[c.PINHash] = -1
		}
	}
	for k := range p.nexts {
		cur, n := &p.current[p.nextCur[k]], &p.nexts[k]
		if cur.DeletedAt == 0 || n.PINHash == "" {
			continue
		}
		if holder, ok := final[n.PINHash]; ok && holder != n.ID {
			p.plan.Warnings = append(p.plan.Warnings, source.LineError{Line: p.nextLine[k], Field: "field 4 (PIN / code)",
				Reason: fmt.Sprintf("the restored account %q had a PIN that another account now has; it is restored without a PIN", p.fullName(cur))})
			n.PINHash = ""
			continue
		}
		final[n.PINHash] = n.ID
	}
}

// classify sorts the touched accounts into restored, updated and unchanged,
// and fills in the names of planned creates.
func (p *planner) classify() {
	w := &p.plan.write
	for i := range w.creates {
		c := &w.creates[i]
		name := c.Name
		if pi := w.parentIndex[i]; pi >= 0 {
			name = w.creates[pi].Name + `\` + name
		} else if c.ParentID != 0 {
			name = p.parentName(c.ParentID) + `\` + name
		}
		p.plan.Creates[i].Name = name
		if c.Balance != 0 {
			w.balances = append(w.balances, balanceSet{create: int32(i), delta: c.Balance, balance: c.Balance})
		}
	}
	for k := range p.nexts {
		cur, n := &p.current[p.nextCur[k]], &p.nexts[k]
		item := Item{Line: p.nextLine[k], Name: p.fullName(cur)}
		if cur.DeletedAt != 0 {
			item.Restored = true
			p.plan.Creates = append(p.plan.Creates, item)
			w.updates = append(w.updates, *n)
			p.noteBalance(cur, n)
			continue
		}
		item.Changed = changedFields(cur, n)
		if item.Changed == 0 && cur.SourceID == n.SourceID {
			if p.direct[k] {
				p.plan.Unchanged = append(p.plan.Unchanged, item)
			}
			continue
		}
		p.plan.Updates = append(p.plan.Updates, item)
		w.updates = append(w.updates, *n)
		if item.Changed&FieldPIN != 0 && cur.PINHash != "" {
			w.clearPINs = append(w.clearPINs, cur.ID)
		}
		p.noteBalance(cur, n)
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
