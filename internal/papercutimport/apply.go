package papercutimport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/store"
)

// errDryRun rolls back a dry run's transaction: a dry run does everything
// a real run does, so its report is the real one, and then keeps nothing.
var errDryRun = errors.New("papercutimport: dry run")

// ConflictError refuses an import that would take over users another
// directory source manages in Ream; nothing was written.
type ConflictError struct {
	Users []string // "alice (source ldap)"
}

func (e *ConflictError) Error() string {
	shown := e.Users
	if len(shown) > 10 {
		shown = shown[:10]
	}
	more := ""
	if len(e.Users) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(e.Users)-len(shown))
	}
	return fmt.Sprintf("%d user(s) already exist in Ream from another directory source: %s%s. Nothing was imported. "+
		"Import before setting up Ream's user/group sync, or remove those users from that source (or from Ream), "+
		"or leave users out with --only groups,accounts; then run the import again", len(e.Users), strings.Join(shown, ", "), more)
}

// applier holds the target's state during one run, inside its transaction.
type applier struct {
	tx      *store.Tx
	snap    *Snapshot
	parts   Parts
	actor   core.Actor
	report  *Report
	now     time.Time
	pinKey  []byte
	comment string // transaction comment: where the balance came from

	users     map[string]*model.User // username → target user (after writes)
	cardOwner map[string]int64       // card number → user id
	// cardsBefore are the numbers of users whose numbers were released
	// before the users were written.
	cardsBefore map[int64][2]string
	accounts    map[string]*model.Account
	pinOwner    map[string]int64 // PIN hash → account id
	groups      map[string]*model.Group
	members     map[int64][]int64
	selections  map[int64]model.AccountSelection

	audits      []model.AuditEntry
	newBalances []store.ImportTransaction

	progress func(done int)
	done     int
}

func (ap *applier) tick() {
	ap.done++
	if ap.progress != nil && ap.done%100 == 0 {
		ap.progress(ap.done)
	}
}

// audit keeps an audit entry for the end of the run, when they are all
// written together (flush), in the same transaction.
func (ap *applier) audit(_ context.Context, action, target, detail string) error {
	ap.audits = append(ap.audits, ap.actor.Entry(action, target, detail))
	return nil
}

// initialBalance records the balance a new user or account was created
// with: its transaction row and its audit entry, written in bulk by flush.
func (ap *applier) initialBalance(ctx context.Context, kind, name string, id int64, balance money.Amount) error {
	x := store.ImportTransaction{Balance: balance, Comment: ap.comment, Actor: ap.actor.Name}
	if kind == "user" {
		x.UserID = id
	} else {
		x.AccountID = id
	}
	ap.newBalances = append(ap.newBalances, x)
	return ap.audit(ctx, kind+".balance", name, fmt.Sprintf("balance set from 0.00 to %s by the import from PaperCut at %s", balance, ap.snap.URL))
}

// flush writes the run's audit entries and new balances' transactions.
func (ap *applier) flush(ctx context.Context) error {
	if err := ap.tx.InsertImportTransactions(ctx, ap.newBalances); err != nil {
		return err
	}
	err := ap.tx.AuditMany(ctx, ap.audits)
	ap.audits, ap.newBalances = nil, nil
	return err
}

func (ap *applier) load(ctx context.Context) error {
	users, err := ap.tx.ImportUsers(ctx)
	if err != nil {
		return err
	}
	ap.users = make(map[string]*model.User, len(users))
	ap.cardOwner = make(map[string]int64, len(users))
	for _, u := range users {
		ap.users[u.Username] = u
		for _, c := range []string{u.PrimaryCard, u.SecondaryCard} {
			if c != "" {
				ap.cardOwner[c] = u.ID
			}
		}
	}
	accs, err := ap.tx.ImportAccounts(ctx)
	if err != nil {
		return err
	}
	ap.accounts = make(map[string]*model.Account, len(accs))
	ap.pinOwner = map[string]int64{}
	for _, a := range accs {
		ap.accounts[store.AccountKey(a.FullName())] = a
		if a.PINHash != "" {
			ap.pinOwner[a.PINHash] = a.ID
		}
	}
	groups, err := ap.tx.AllGroups(ctx)
	if err != nil {
		return err
	}
	ap.groups = make(map[string]*model.Group, len(groups))
	for i := range groups {
		ap.groups[strings.ToLower(strings.TrimSpace(groups[i].Name))] = &groups[i]
	}
	if ap.members, err = ap.tx.GroupMemberships(ctx); err != nil {
		return err
	}
	ap.selections, err = ap.tx.AccountSelections(ctx)
	return err
}

// conflicts lists the source's users that Ream has from another directory source.
func (ap *applier) conflicts() error {
	var bad []string
	for _, su := range ap.snap.Users {
		u := ap.users[store.NormalizeUsername(su.Username)]
		if u != nil && !u.Internal && u.SourceID != "" && u.SourceID != SourceID {
			bad = append(bad, fmt.Sprintf("%s (source %s)", u.Username, u.SourceID))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return &ConflictError{Users: bad}
	}
	return nil
}

// setBalance sets a balance to the source's, recording a transaction and
// an audit entry with the old and the new value and where it came from.
func (ap *applier) setBalance(ctx context.Context, kind, name string, id int64, old, balance money.Amount) error {
	var err error
	if kind == "user" {
		_, err = ap.tx.AdjustUserBalance(ctx, id, balance, true, ap.comment, ap.actor.Name)
	} else {
		_, err = ap.tx.AdjustAccountBalance(ctx, id, balance, true, ap.comment, ap.actor.Name)
	}
	if err != nil {
		return fmt.Errorf("balance of %s %q: %w", kind, name, err)
	}
	return ap.audit(ctx, kind+".balance", name, fmt.Sprintf("balance set from %s to %s by the import from PaperCut at %s", old, balance, ap.snap.URL))
}

// applyAccounts writes shared accounts, parents before their sub-accounts.
func (ap *applier) applyAccounts(ctx context.Context) error {
	recs := make([]*accountRecord, 0, len(ap.snap.Accounts))
	for _, sa := range ap.snap.Accounts {
		r, err := parseAccount(sa)
		if err != nil {
			ap.report.Accounts.Read++
			ap.report.Accounts.Skipped++
			ap.report.skip("shared account", sa.Name, "%v", err)
			ap.tick()
			continue
		}
		recs = append(recs, r)
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].parent == "" && recs[j].parent != "" })
	// PINs that move between accounts are cleared first, so that a swap at
	// the source never meets the uniqueness of PINs half-way.
	hashes := make([]string, len(recs))
	var clear []int64
	for i, r := range recs {
		if r.pinHidden {
			continue
		}
		if r.pin != "" {
			if err := auth.CheckAccountPIN(r.pin); err != nil {
				ap.report.skip("shared account PIN", r.fullName(), "%v; the account is imported without it", err)
				r.pinHidden = true
				continue
			}
			hashes[i] = auth.AccountPINHash(ap.pinKey, r.pin)
		}
		if cur := ap.accounts[store.AccountKey(r.fullName())]; cur != nil && cur.PINHash != "" && cur.PINHash != hashes[i] {
			clear = append(clear, cur.ID)
			delete(ap.pinOwner, cur.PINHash)
			cur.PINHash = ""
		}
	}
	if len(clear) > 0 {
		if err := ap.tx.ClearAccountPINs(ctx, clear); err != nil {
			return err
		}
	}
	for i, r := range recs {
		ap.report.Accounts.Read++
		if err := ap.applyAccount(ctx, r, hashes[i]); err != nil {
			return err
		}
		ap.tick()
	}
	return nil
}

func (ap *applier) applyAccount(ctx context.Context, r *accountRecord, pinHash string) error {
	full := r.fullName()
	want := r.acc
	var parentID int64
	if r.parent != "" {
		parent := ap.accounts[store.AccountKey(r.parent)]
		if parent == nil {
			// As in the batch import: a sub-account brings its parent.
			parent = &model.Account{Name: r.parent, Enabled: true}
			if err := ap.tx.CreateAccount(ctx, parent); err != nil {
				return err
			}
			ap.accounts[store.AccountKey(r.parent)] = parent
			if err := ap.audit(ctx, "account.create", r.parent, "created as the parent of "+full+" by the import from PaperCut at "+ap.snap.URL); err != nil {
				return err
			}
		}
		parentID = parent.ID
	}
	cur := ap.accounts[store.AccountKey(full)]
	if r.pinHidden {
		ap.report.HiddenPINs = append(ap.report.HiddenPINs, full)
		if cur != nil {
			pinHash = cur.PINHash
		}
	}
	if pinHash != "" {
		if owner, taken := ap.pinOwner[pinHash]; taken && (cur == nil || owner != cur.ID) {
			ap.report.skip("shared account PIN", full, "another shared account in Ream already has this PIN; the account is imported without it")
			pinHash = ""
			if cur != nil {
				pinHash = cur.PINHash
			}
		}
	}
	if cur == nil {
		acc := want
		acc.ParentID, acc.ParentName, acc.Name = parentID, r.parent, r.name
		acc.PINHash = pinHash
		if err := ap.tx.CreateImportedAccount(ctx, &acc); err != nil {
			return fmt.Errorf("shared account %q: %w", full, err)
		}
		if acc.PINHash != "" {
			ap.pinOwner[acc.PINHash] = acc.ID
		}
		ap.accounts[store.AccountKey(full)] = &acc
		if err := ap.audit(ctx, "account.create", full, "created by the import from PaperCut at "+ap.snap.URL); err != nil {
			return err
		}
		if want.Balance != 0 {
			if err := ap.initialBalance(ctx, "account", full, acc.ID, want.Balance); err != nil {
				return err
			}
		}
		ap.report.Accounts.Created++
		ap.report.Changes = append(ap.report.Changes, "create shared account "+full)
		return nil
	}
	var changed []string
	next := *cur
	curDisabled := !core.AccountEnabled(cur, ap.now)
	if curDisabled != !want.Enabled {
		changed = append(changed, fmt.Sprintf("disabled %t→%t", curDisabled, !want.Enabled))
		next.Enabled, next.DisabledUntil = want.Enabled, nil
	}
	if cur.PINHash != pinHash {
		changed = append(changed, "PIN")
		next.PINHash = pinHash
	}
	if cur.Overdraft != want.Overdraft {
		changed = append(changed, fmt.Sprintf("overdraft %s→%s", cur.Overdraft, want.Overdraft))
		next.Overdraft = want.Overdraft
	}
	if cur.Restricted != want.Restricted {
		changed = append(changed, fmt.Sprintf("restricted %t→%t", cur.Restricted, want.Restricted))
		next.Restricted = want.Restricted
	}
	if !slices.Equal(cur.AccessUsers, want.AccessUsers) {
		changed = append(changed, "access users")
		next.AccessUsers = want.AccessUsers
	}
	if !slices.Equal(cur.AccessGroups, want.AccessGroups) {
		changed = append(changed, "access groups")
		next.AccessGroups = want.AccessGroups
	}
	if cur.InvoiceOption != want.InvoiceOption {
		changed = append(changed, "invoice option "+want.InvoiceOption)
		next.InvoiceOption = want.InvoiceOption
	}
	if cur.CommentOption != want.CommentOption {
		changed = append(changed, "comment option "+want.CommentOption)
		next.CommentOption = want.CommentOption
	}
	if cur.Notes != want.Notes {
		changed = append(changed, "notes")
		next.Notes = want.Notes
	}
	if len(changed) > 0 {
		if err := ap.tx.UpdateAccount(ctx, &next); err != nil {
			return fmt.Errorf("shared account %q: %w", full, err)
		}
		if next.PINHash != "" {
			ap.pinOwner[next.PINHash] = next.ID
		}
		if err := ap.audit(ctx, "account.update", full, "changed by the import from PaperCut at "+ap.snap.URL+": "+strings.Join(changed, ", ")); err != nil {
			return err
		}
	}
	if cur.Balance != want.Balance {
		changed = append(changed, fmt.Sprintf("balance %s→%s", cur.Balance, want.Balance))
		if err := ap.setBalance(ctx, "account", full, cur.ID, cur.Balance, want.Balance); err != nil {
			return err
		}
		next.Balance = want.Balance
	}
	*cur = next
	if len(changed) == 0 {
		ap.report.Accounts.Unchanged++
		return nil
	}
	ap.report.Accounts.Updated++
	ap.report.Changes = append(ap.report.Changes, "update shared account "+full+": "+strings.Join(changed, ", "))
	return nil
}
