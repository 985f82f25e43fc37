package usersync

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/model"
)

// Options are the choices of one run.
type Options struct {
	ImportNew     bool     // create users the source has and Ream does not
	UpdateDetails bool     // change details of existing users to the source's
	OnlyGroups    []string // import only members of these groups (empty: everyone)
	SkipDisabled  bool     // leave out accounts the directory marks disabled (AD)
	// DeleteMissing deletes users of this source that it no longer has. It
	// is given per run and never stored or scheduled.
	DeleteMissing bool
	// ConfirmDelete is the number of deletions the admin confirmed, for a
	// run that deletes more than the delete limit.
	ConfirmDelete int
	// DeleteLimitPercent and DeleteLimitMax are the delete limit of SPEC §3:
	// the smaller of this share of the source's users and this count.
	DeleteLimitPercent int
	DeleteLimitMax     int
}

// Snapshot is Ream's side of a plan: the live users and the groups.
type Snapshot struct {
	Users          []*model.User
	Groups         []model.Group
	TrackedMembers map[int64][]int64 // group id → live member ids
}

// Change is one field of a user that a run changes.
type Change struct {
	Field    string
	Old, New string
}

// UserChange is a user the run creates or updates.
type UserChange struct {
	User    *model.User // the user as the run leaves it; ID 0 for a new user
	Old     *model.User // nil for a new user
	Changes []Change
	Merged  bool   // an internal user that becomes a directory user
	PIN     string // card PIN to set (plain text from a users file)
	Line    int    // line in the users file, 0 for a directory entry
}

// GroupChange is a group whose members the run sets.
type GroupChange struct {
	Name        string
	GroupID     int64 // 0: the run creates the group
	Add, Remove []string
	NotInSource bool // tracked, but the source has no such group: left as it is
	// streamed are the members of Add already added while the source was
	// still being read, and streamedID the id of the group if it was
	// created then (GroupID stays 0: the run still created it).
	streamed   map[string]bool
	streamedID int64
}

// Plan is everything a run would do. A test run shows it; a real run applies it.
type Plan struct {
	Source      string
	Read        int
	Create      []UserChange
	Update      []UserChange
	Unchanged   int
	NotImported []string // new users left out because importing new users is off
	Delete      []*model.User
	// DeleteLimit is the most users the run may delete without confirmation.
	DeleteLimit int
	// Refusal, when set, is why the run must not be applied.
	Refusal string
	Skipped []directory.LineError
	// Disabled are the directory's disabled and expired accounts, left out.
	Disabled []directory.DisabledAccount
	// Server is the directory server that answered, for an LDAP source,
	// and BoundAs the service account ("" when anonymous).
	Server, BoundAs string
	BaseDN          string // the users' base DN, found
	// Sample is the first user read, to show how the fields map.
	Sample *directory.UserRecord
	// Nesting is what following nested groups found, when they are followed.
	Nesting  *directory.Nesting
	Warnings []string
	Groups   []GroupChange
	// DirectoryGroups are the names of every group the source has, for
	// choosing which ones Ream tracks.
	DirectoryGroups []string

	users map[string]*model.User // the snapshot's users (and the new ones) by name, for group changes
}

// Counts are the plan's totals as a sync run records them.
func (p *Plan) Counts() model.SyncCounts {
	return model.SyncCounts{Read: p.Read, Created: len(p.Create), Updated: len(p.Update), Unchanged: p.Unchanged,
		Deleted: len(p.Delete), Skipped: len(p.Skipped) + len(p.NotImported) + len(p.Disabled), Errors: len(p.Warnings)}
}

// writes reports whether applying the plan changes anything.
func (p *Plan) writes() bool {
	if len(p.Create) > 0 || len(p.Update) > 0 || len(p.Delete) > 0 {
		return true
	}
	for _, g := range p.Groups {
		if !g.NotInSource && (g.GroupID == 0 || len(g.Add) > 0 || len(g.Remove) > 0) {
			return true
		}
	}
	return false
}

// BuildPlan compares what the source read with Ream's users and groups.
// It never fails: problems become skipped lines, warnings or a refusal.
func BuildPlan(src *Source, res *directory.Result, snap *Snapshot, opts Options) *Plan {
	name := src.Name()
	p := &Plan{Source: name, Read: len(res.Users), Skipped: res.Skipped, Disabled: res.Disabled, Nesting: res.Nesting, Server: res.Server, BoundAs: res.BoundAs, BaseDN: res.BaseDN}
	if len(res.Users) > 0 {
		sample := res.Users[0]
		p.Sample = &sample
	}
	// Sized for the users created too: a first import creates them all.
	byName := make(map[string]*model.User, max(len(snap.Users), len(res.Users)))
	if opts.ImportNew {
		p.Create = make([]UserChange, 0, max(len(res.Users)-len(snap.Users), 0))
	}
	managed := 0
	for _, u := range snap.Users {
		byName[u.Username] = u
		if u.SourceID == name && !u.Internal {
			managed++
		}
	}
	p.users = byName
	deleted := make(map[int64]bool)
	// The numbers of deleted users are free for others.
	cardOwner := &cardOwners{users: snap.Users, free: deleted, more: len(res.Users)}
	if opts.DeleteMissing {
		present := make(map[string]bool, len(res.Users))
		for _, r := range res.Users {
			present[r.Username] = true
		}
		for _, u := range snap.Users {
			if u.SourceID == name && !u.Internal && !present[u.Username] {
				p.Delete = append(p.Delete, u)
				deleted[u.ID] = true
			}
		}
		p.DeleteLimit = deleteLimit(managed, opts)
		switch {
		case len(p.Delete) > 0 && len(p.Skipped) > 0:
			p.Refusal = fmt.Sprintf("the source had %d entries that could not be used, and any of them may be a user that would be deleted: fix them or run without deleting", len(p.Skipped))
		case len(p.Delete) > p.DeleteLimit && opts.ConfirmDelete != len(p.Delete):
			p.Refusal = fmt.Sprintf("the run would delete %d users, more than the delete limit of %d: confirm the number %d to go ahead", len(p.Delete), p.DeleteLimit, len(p.Delete))
		}
	}
	var pending int64 = -1 // card owners of users not created yet
	var spare *model.User  // the copy an unchanged user left unused
	for _, r := range res.Users {
		old := byName[r.Username]
		if old == nil {
			if !opts.ImportNew {
				p.NotImported = append(p.NotImported, r.Username)
				continue
			}
			u := &model.User{Username: r.Username, SourceID: name}
			uc := UserChange{User: u, Line: r.Line}
			applyRecord(p, src, &uc, r, cardOwner, pending, true)
			pending--
			p.Create = append(p.Create, uc)
			continue
		}
		if spare == nil {
			spare = new(model.User)
		}
		u := spare
		*u = *old
		uc := UserChange{User: u, Old: old, Line: r.Line}
		if old.Internal {
			uc.Merged = true
			u.Internal, u.PasswordHash = false, ""
			uc.Changes = append(uc.Changes, Change{Field: "internal user", Old: "yes", New: "no (merged with the directory user)"})
		}
		if old.SourceID != name {
			u.SourceID = name
			uc.Changes = append(uc.Changes, Change{Field: "source", Old: old.SourceID, New: name})
		}
		if opts.UpdateDetails || uc.Merged {
			applyRecord(p, src, &uc, r, cardOwner, old.ID, false)
		}
		if len(uc.Changes) == 0 && uc.PIN == "" {
			p.Unchanged++
			continue
		}
		spare = nil
		p.Update = append(p.Update, uc)
	}
	planGroups(p, res, snap, opts, byName, deleted)
	return p
}

// byIDUsers finds users by id with a binary search over their ids, in
// order (LiveUsers reads them so), instead of a map of every user.
type byIDUsers struct {
	users []*model.User
	ids   []int64
}

// usersByID indexes users by id; users is sorted first if it is not.
func usersByID(users []*model.User) byIDUsers {
	byID := func(a, b *model.User) int { return cmp.Compare(a.ID, b.ID) }
	if !slices.IsSortedFunc(users, byID) {
		users = slices.SortedFunc(slices.Values(users), byID)
	}
	l := byIDUsers{users: users, ids: make([]int64, len(users))}
	for i, u := range users {
		l.ids[i] = u.ID
	}
	return l
}

// find returns the user with id, or nil.
func (l byIDUsers) find(id int64) *model.User {
	i, ok := slices.BinarySearch(l.ids, id)
	if !ok {
		return nil
	}
	return l.users[i]
}

// cardOwners maps card numbers to the users holding them. It is built on
// the first card a run gives out: an unchanged run never needs it.
type cardOwners struct {
	m     map[string]int64
	users []*model.User  // holders, from the snapshot
	free  map[int64]bool // users whose numbers do not count (deleted)
	more  int            // how many more numbers the run may give out, for sizing
}

func (c *cardOwners) index() map[string]int64 {
	if c.m == nil {
		c.m = make(map[string]int64, len(c.users)+c.more)
		for _, u := range c.users {
			if c.free[u.ID] {
				continue
			}
			if u.PrimaryCard != "" {
				c.m[u.PrimaryCard] = u.ID
			}
			if u.SecondaryCard != "" {
				c.m[u.SecondaryCard] = u.ID
			}
		}
	}
	return c.m
}

// deleteLimit is the smaller of the percentage of the source's users
// (rounded up, so that a small site can lose one user without asking) and
// the maximum.
func deleteLimit(managed int, opts Options) int {
	limit := (managed*opts.DeleteLimitPercent + 99) / 100
	if opts.DeleteLimitMax < limit {
		limit = opts.DeleteLimitMax
	}
	return limit
}

// applyRecord copies the source's provided fields into uc.User and records
// each change. A blank card in the source never clears a card: Ream may
// have given the user one. A card that belongs to another user is left out
// with a warning.
func applyRecord(p *Plan, src *Source, uc *UserChange, r directory.UserRecord, owners *cardOwners, owner int64, isNew bool) {
	u := uc.User
	text := []struct {
		field string
		dst   *string
		value string
	}{
		{FieldFullName, &u.FullName, r.FullName},
		{FieldEmail, &u.Email, r.Email},
		{FieldDepartment, &u.Department, r.Department},
		{FieldOffice, &u.Office, r.Office},
		{FieldOtherEmails, &u.OtherEmails, r.OtherEmails},
		{FieldAlias, &u.Alias, r.Alias},
		{FieldHomeFolder, &u.HomeFolder, r.HomeFolder},
	}
	for _, f := range text {
		if !src.Fields[f.field] || *f.dst == f.value {
			continue
		}
		if !isNew {
			uc.Changes = append(uc.Changes, Change{Field: f.field, Old: *f.dst, New: f.value})
		}
		*f.dst = f.value
	}
	cards := []struct {
		field string
		dst   *string
		value string
	}{
		{FieldPrimaryCard, &u.PrimaryCard, r.PrimaryCard},
		{FieldSecondaryCard, &u.SecondaryCard, r.SecondaryCard},
	}
	for _, c := range cards {
		if !src.Fields[c.field] || c.value == "" || *c.dst == c.value {
			continue
		}
		cardOwner := owners.index()
		if o, taken := cardOwner[c.value]; taken && o != owner {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: %s %q already belongs to another user; left unchanged", u.Username, c.field, c.value))
			continue
		}
		if *c.dst != "" && cardOwner[*c.dst] == owner {
			delete(cardOwner, *c.dst)
		}
		cardOwner[c.value] = owner
		if !isNew {
			uc.Changes = append(uc.Changes, Change{Field: c.field, Old: *c.dst, New: c.value})
		}
		*c.dst = c.value
	}
	// A disabled or expired directory account (read only with skip
	// disabled off) is imported with printing disabled. Printing follows
	// the account when it changes in the directory; an administrator's own
	// Printing disabled on an account the directory has enabled all along
	// is left alone.
	if r.Disabled != u.DirectoryDisabled {
		old := yesNo(u.PrintDisabled)
		u.DirectoryDisabled, u.PrintDisabled = r.Disabled, r.Disabled
		if !isNew {
			why := "enabled again in the directory"
			if r.Disabled {
				why = r.DisabledWhy
			}
			uc.Changes = append(uc.Changes, Change{Field: FieldPrintDisabled, Old: old, New: yesNo(r.Disabled) + " (" + why + ")"})
		}
	}
	if src.Fields[FieldPIN] && r.PIN != "" && (isNew || !u.HasPIN()) {
		uc.PIN = r.PIN
		if !isNew {
			uc.Changes = append(uc.Changes, Change{Field: FieldPIN, Old: "", New: "set"})
		}
	}
}

// planGroups refreshes the members of every tracked group and creates the
// groups chosen in "import only members of these groups".
func planGroups(p *Plan, res *directory.Result, snap *Snapshot, opts Options, byName map[string]*model.User, deleted map[int64]bool) {
	dir := make(map[string]directory.GroupRecord, len(res.Groups))
	for _, g := range res.Groups {
		dir[strings.ToLower(g.Name)] = g
		p.DirectoryGroups = append(p.DirectoryGroups, g.Name)
	}
	slices.SortFunc(p.DirectoryGroups, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	for _, c := range p.Create {
		byName[c.User.Username] = c.User // ID 0: never in deleted
	}
	willExist := func(name string) bool {
		u := byName[name]
		return u != nil && !deleted[u.ID]
	}
	live := usersByID(snap.Users)
	existing := make(map[string]bool, len(snap.Groups))
	for _, g := range snap.Groups {
		existing[strings.ToLower(g.Name)] = true
		if !g.Tracked {
			continue
		}
		rec, ok := dir[strings.ToLower(g.Name)]
		if !ok {
			p.Groups = append(p.Groups, GroupChange{Name: g.Name, GroupID: g.ID, NotInSource: true})
			p.Warnings = append(p.Warnings, fmt.Sprintf("group %q is tracked but the source has no such group; its members are left as they are", g.Name))
			continue
		}
		// Members are compared by id, as sorted lists: a group of a
		// directory may have most of its users. A new user (id 0) is
		// never a member yet.
		var current []int64
		for _, id := range snap.TrackedMembers[g.ID] {
			if live.find(id) != nil && !deleted[id] {
				current = append(current, id)
			}
		}
		slices.Sort(current)
		gc := GroupChange{Name: g.Name, GroupID: g.ID}
		want := make([]int64, 0, len(rec.Members))
		for _, m := range rec.Members {
			u := byName[m]
			if u == nil || deleted[u.ID] {
				continue
			}
			if u.ID != 0 {
				want = append(want, u.ID)
				if _, member := slices.BinarySearch(current, u.ID); member {
					continue
				}
			}
			gc.Add = append(gc.Add, m)
		}
		slices.Sort(want)
		for _, id := range current {
			if _, wanted := slices.BinarySearch(want, id); !wanted {
				gc.Remove = append(gc.Remove, live.find(id).Username)
			}
		}
		slices.Sort(gc.Remove)
		if len(gc.Add) > 0 || len(gc.Remove) > 0 {
			p.Groups = append(p.Groups, gc)
		}
	}
	for _, name := range opts.OnlyGroups {
		key := strings.ToLower(strings.TrimSpace(name))
		if key == "" || existing[key] {
			continue
		}
		existing[key] = true
		rec, ok := dir[key]
		if !ok {
			p.Warnings = append(p.Warnings, fmt.Sprintf("group %q was chosen but the source has no such group", name))
			continue
		}
		gc := GroupChange{Name: rec.Name}
		for _, m := range rec.Members {
			if willExist(m) {
				gc.Add = append(gc.Add, m)
			}
		}
		p.Groups = append(p.Groups, gc)
	}
}

// Report is the plan as text, one line per item, for the run's record,
// the task status and the CLI.
func (p *Plan) Report() string {
	var b strings.Builder
	c := p.Counts()
	fmt.Fprintf(&b, "Source %s: %d users read; %d to create, %d to update, %d unchanged, %d to delete, %d skipped, %d warnings.\n",
		p.Source, c.Read, c.Created, c.Updated, c.Unchanged, c.Deleted, c.Skipped, c.Errors)
	if p.Refusal != "" {
		fmt.Fprintf(&b, "Refused: %s.\n", p.Refusal)
	}
	if p.Server != "" {
		as := "anonymously"
		if p.BoundAs != "" {
			as = "as " + p.BoundAs
		}
		base := ""
		if p.BaseDN != "" {
			base = fmt.Sprintf(" base DN %q found;", p.BaseDN)
		}
		fmt.Fprintf(&b, "Directory server %s answered; bound %s;%s %d users and %d groups match the filters.\n",
			p.Server, as, base, c.Read+len(p.Disabled), len(p.DirectoryGroups))
	}
	if u := p.Sample; u != nil && p.Server != "" {
		fmt.Fprintf(&b, "Sample user %s: full name %q, email %q, department %q, office %q, primary card %q, secondary card %q, home folder %q, %d groups.\n",
			u.Username, u.FullName, u.Email, u.Department, u.Office, u.PrimaryCard, u.SecondaryCard, u.HomeFolder, len(u.Groups))
	}
	if n := p.Nesting; n != nil {
		fmt.Fprintf(&b, "Nested groups followed to depth %d", n.Depth)
		if n.Cycle {
			b.WriteString("; a cycle of groups was found and followed once")
		}
		if n.Truncated {
			fmt.Fprintf(&b, "; nesting deeper than %d levels was not followed", directory.MaxNestingDepth)
		}
		b.WriteString(".\n")
	}
	b.Grow(len(p.Create) * 32) // a first import lists every new user
	for _, uc := range p.Create {
		b.WriteString("create ")
		b.WriteString(uc.User.Username)
		if uc.User.FullName != "" {
			b.WriteString(" (")
			b.WriteString(uc.User.FullName)
			b.WriteByte(')')
		}
		b.WriteByte('\n')
	}
	for _, uc := range p.Update {
		fmt.Fprintf(&b, "update %s:", uc.User.Username)
		for i, ch := range uc.Changes {
			if i > 0 {
				b.WriteByte(';')
			}
			fmt.Fprintf(&b, " %s %q → %q", ch.Field, ch.Old, ch.New)
		}
		b.WriteByte('\n')
	}
	for _, u := range p.Delete {
		fmt.Fprintf(&b, "delete %s\n", u.Username)
	}
	for _, n := range p.NotImported {
		fmt.Fprintf(&b, "not imported %s: importing new users is off\n", n)
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(&b, "skipped %s\n", s.Error())
	}
	for _, d := range p.Disabled {
		fmt.Fprintf(&b, "left out %s: %s (skip disabled accounts is on)\n", d.Username, d.Why)
	}
	for _, g := range p.Groups {
		switch {
		case g.NotInSource:
			continue
		case g.GroupID == 0:
			fmt.Fprintf(&b, "create group %s with %d members\n", g.Name, len(g.Add))
		default:
			fmt.Fprintf(&b, "group %s: %d members added, %d removed\n", g.Name, len(g.Add), len(g.Remove))
		}
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
