package papercutimport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// applyUsers writes users: details, flags, cards, balance and account selection.
func (ap *applier) applyUsers(ctx context.Context) error {
	recs := make([]*userRecord, 0, len(ap.snap.Users))
	seen := make(map[string]bool, len(ap.snap.Users))
	for _, su := range ap.snap.Users {
		r, err := parseUser(su)
		if err == nil && seen[r.user.Username] {
			err = fmt.Errorf("the source lists this username twice")
		}
		if err == nil && r.user.Internal {
			if verr := auth.ValidateUsername(r.user.Username); verr != nil {
				err = fmt.Errorf("not a valid internal username in Ream: %v", verr)
			}
		}
		if err != nil {
			ap.report.Users.Read++
			ap.report.Users.Skipped++
			ap.report.skip("user", su.Username, "%v", err)
			ap.tick()
			continue
		}
		seen[r.user.Username] = true
		recs = append(recs, r)
	}
	// Card numbers that move between users are released first, so that a
	// swap at the source never meets the one-owner rule half-way; the
	// numbers held before are kept to tell what changed.
	ap.cardsBefore = map[int64][2]string{}
	for _, r := range recs {
		cur := ap.users[r.user.Username]
		if cur == nil || (cur.PrimaryCard == r.user.PrimaryCard && cur.SecondaryCard == r.user.SecondaryCard) {
			continue
		}
		if err := ap.tx.SetUserCards(ctx, cur.ID, "", "", model.CardOriginAdmin); err != nil {
			return err
		}
		ap.cardsBefore[cur.ID] = [2]string{cur.PrimaryCard, cur.SecondaryCard}
		for _, c := range []string{cur.PrimaryCard, cur.SecondaryCard} {
			if ap.cardOwner[c] == cur.ID {
				delete(ap.cardOwner, c)
			}
		}
		cur.PrimaryCard, cur.SecondaryCard = "", ""
	}
	// New users go in with multi-row inserts, their free card numbers with them.
	var fresh []*model.User
	for _, r := range recs {
		if ap.users[r.user.Username] != nil {
			continue
		}
		u := r.user
		u.PrimaryCard = ap.freeCard(u.Username, 0, u.PrimaryCard)
		u.SecondaryCard = ap.freeCard(u.Username, 0, u.SecondaryCard)
		for _, c := range []string{u.PrimaryCard, u.SecondaryCard} {
			if c != "" {
				ap.cardOwner[c] = -1 // taken by a user not yet inserted
			}
		}
		fresh = append(fresh, &u)
	}
	if err := ap.tx.CreateUsers(ctx, fresh); err != nil {
		return fmt.Errorf("unable to create the new users: %w", err)
	}
	created := make(map[string]bool, len(fresh))
	for _, u := range fresh {
		ap.users[u.Username] = u
		created[u.Username] = true
		for _, c := range []string{u.PrimaryCard, u.SecondaryCard} {
			if c != "" {
				ap.cardOwner[c] = u.ID
			}
		}
	}
	for _, r := range recs {
		ap.report.Users.Read++
		if err := ap.applyUser(ctx, r, created[r.user.Username]); err != nil {
			return err
		}
		ap.tick()
	}
	return nil
}

// freeCard returns number when nobody else in Ream holds it, or "" after
// reporting why it was left out.
func (ap *applier) freeCard(username string, self int64, number string) string {
	if number == "" {
		return ""
	}
	if owner, taken := ap.cardOwner[number]; taken && owner != self {
		ap.report.skip("user card/ID number", username, "the number %s belongs to another user in Ream; the user is imported without it", number)
		return ""
	}
	return number
}

func (ap *applier) applyUser(ctx context.Context, r *userRecord, created bool) error {
	want := &r.user
	cur := ap.users[want.Username]
	self := cur.ID
	var changed []string
	primary, secondary := cur.PrimaryCard, cur.SecondaryCard
	if created {
		if err := ap.audit(ctx, "user.create", cur.Username, "created by the import from PaperCut at "+ap.snap.URL); err != nil {
			return err
		}
		if cur.Balance != 0 {
			if err := ap.initialBalance(ctx, "user", cur.Username, cur.ID, cur.Balance); err != nil {
				return err
			}
		}
	} else {
		primary = ap.freeCard(want.Username, self, want.PrimaryCard)
		secondary = ap.freeCard(want.Username, self, want.SecondaryCard)
		next := *cur
		for _, f := range []struct {
			name     string
			cur, val *string
			want     string
		}{{"full name", &cur.FullName, &next.FullName, want.FullName}, {"email", &cur.Email, &next.Email, want.Email},
			{"other emails", &cur.OtherEmails, &next.OtherEmails, want.OtherEmails}, {"department", &cur.Department, &next.Department, want.Department},
			{"office", &cur.Office, &next.Office, want.Office}, {"notes", &cur.Notes, &next.Notes, want.Notes},
			{"username alias", &cur.Alias, &next.Alias, want.Alias}, {"home folder", &cur.HomeFolder, &next.HomeFolder, want.HomeFolder}} {
			if *f.cur != f.want {
				changed = append(changed, f.name)
				*f.val = f.want
			}
		}
		for _, f := range []struct {
			name     string
			cur, val *bool
			want     bool
		}{{"restricted", &cur.Restricted, &next.Restricted, want.Restricted}, {"printing disabled", &cur.PrintDisabled, &next.PrintDisabled, want.PrintDisabled},
			{"internal", &cur.Internal, &next.Internal, want.Internal}} {
			if *f.cur != f.want {
				changed = append(changed, fmt.Sprintf("%s %t→%t", f.name, *f.cur, f.want))
				*f.val = f.want
			}
		}
		if next.SourceID != want.SourceID {
			changed = append(changed, fmt.Sprintf("source %q→%q", next.SourceID, want.SourceID))
			next.SourceID = want.SourceID
		}
		if len(changed) > 0 {
			if err := ap.tx.UpdateUser(ctx, &next); err != nil {
				return fmt.Errorf("user %q: %w", want.Username, err)
			}
			if err := ap.audit(ctx, "user.update", want.Username, "changed by the import from PaperCut at "+ap.snap.URL+": "+strings.Join(changed, ", ")); err != nil {
				return err
			}
			*cur = next
		}
	}
	before, released := ap.cardsBefore[cur.ID]
	if !released {
		before = [2]string{cur.PrimaryCard, cur.SecondaryCard}
	}
	if cur.PrimaryCard != primary || cur.SecondaryCard != secondary || before != [2]string{primary, secondary} {
		if err := ap.tx.SetUserCards(ctx, cur.ID, primary, secondary, model.CardOriginAdmin); err != nil {
			if !errors.Is(err, store.ErrCardInUse) {
				return fmt.Errorf("user %q: %w", want.Username, err)
			}
			ap.report.skip("user card/ID number", want.Username, "a number belongs to another user in Ream; the numbers are left as they are")
		} else {
			if !created && before != [2]string{primary, secondary} {
				changed = append(changed, "card/ID numbers")
				if err := ap.audit(ctx, "user.cards", want.Username, "card/ID numbers set by the import from PaperCut at "+ap.snap.URL); err != nil {
					return err
				}
			}
			for _, c := range []string{primary, secondary} {
				if c != "" {
					ap.cardOwner[c] = cur.ID
				}
			}
			cur.PrimaryCard, cur.SecondaryCard = primary, secondary
		}
	}
	if cur.Balance != want.Balance {
		if !created {
			changed = append(changed, fmt.Sprintf("balance %s→%s", cur.Balance, want.Balance))
		}
		if err := ap.setBalance(ctx, "user", want.Username, cur.ID, cur.Balance, want.Balance); err != nil {
			return err
		}
		cur.Balance = want.Balance
	}
	if ch, err := ap.applySelection(ctx, cur, r); err != nil {
		return err
	} else if ch && !created {
		changed = append(changed, "account selection")
	}
	if cur.Internal && cur.PasswordHash == "" {
		ap.report.NoPassword = append(ap.report.NoPassword, cur.Username)
	}
	switch {
	case created:
		ap.report.Users.Created++
		ap.report.Changes = append(ap.report.Changes, "create user "+cur.Username)
	case len(changed) > 0:
		ap.report.Users.Updated++
		ap.report.Changes = append(ap.report.Changes, "update user "+cur.Username+": "+strings.Join(changed, ", "))
	default:
		ap.report.Users.Unchanged++
	}
	return nil
}

// applySelection sets the user's account selection when the source's differs.
func (ap *applier) applySelection(ctx context.Context, u *model.User, r *userRecord) (bool, error) {
	want := r.selection
	resolve := func(name string, dst *int64) bool {
		if name == "" {
			return true
		}
		acc := ap.accounts[store.AccountKey(name)]
		if acc == nil {
			ap.report.skip("user account selection", u.Username, "it names the shared account %q, which is not in Ream; the selection is left as it is", name)
			return false
		}
		*dst = acc.ID
		return true
	}
	if !resolve(r.autoAccount, &want.AccountID) || !resolve(r.defaultAccount, &want.DefaultAccountID) {
		return false, nil
	}
	cur, ok := ap.selections[u.ID]
	if !ok {
		cur = model.DefaultAccountSelection()
	}
	cur.AccountName, cur.DefaultAccountName = "", ""
	if cur == want {
		return false, nil
	}
	if err := ap.tx.SetAccountSelection(ctx, []int64{u.ID}, want); err != nil {
		return false, err
	}
	ap.selections[u.ID] = want
	return true, ap.audit(ctx, "user.account-selection", u.Username, "account selection "+want.Mode+" set by the import from PaperCut at "+ap.snap.URL)
}

// applyGroups creates the source's groups and brings their members in
// line: the members the source lists are added, those it knows as users
// but not as members are removed, and Ream's own users are left alone.
func (ap *applier) applyGroups(ctx context.Context) error {
	names := make([]string, 0, len(ap.snap.Groups))
	for g := range ap.snap.Groups {
		names = append(names, g)
	}
	slices.Sort(names)
	known := map[int64]bool{} // the source's users that are in Ream
	for _, su := range ap.snap.Users {
		if u := ap.users[store.NormalizeUsername(su.Username)]; u != nil {
			known[u.ID] = true
		}
	}
	for _, name := range names {
		ap.report.Groups.Read++
		if model.IsAllUsersGroup(name) || name == model.GroupInternalUsers || name == model.GroupInternalUsersAlt {
			ap.report.Groups.Skipped++
			ap.report.skip("group", name, "a pseudo-group: Ream has it built in")
			ap.tick()
			continue
		}
		if err := checkText("group name", name, 255); err != nil || strings.TrimSpace(name) == "" || strings.ContainsAny(name, "\n") {
			ap.report.Groups.Skipped++
			ap.report.skip("group", name, "the name is not usable: %v", orEmpty(err))
			ap.tick()
			continue
		}
		if err := ap.applyGroup(ctx, name, known); err != nil {
			return err
		}
		ap.tick()
	}
	return nil
}

func (ap *applier) applyGroup(ctx context.Context, name string, known map[int64]bool) error {
	key := strings.ToLower(strings.TrimSpace(name))
	g := ap.groups[key]
	created := false
	if g == nil {
		if !ap.parts.Groups {
			return nil // memberships only of groups Ream has, when groups are left out
		}
		g = &model.Group{Name: strings.TrimSpace(name), SourceID: SourceID}
		if err := ap.tx.CreateGroup(ctx, g); err != nil {
			return fmt.Errorf("group %q: %w", name, err)
		}
		ap.groups[key] = g
		created = true
		if err := ap.audit(ctx, "group.create", g.Name, "created by the import from PaperCut at "+ap.snap.URL); err != nil {
			return err
		}
	}
	var want []int64
	for _, id := range ap.members[g.ID] {
		if !known[id] {
			want = append(want, id) // Ream's own users stay members
		}
	}
	var missing int
	for _, m := range ap.snap.Groups[name] {
		if u := ap.users[store.NormalizeUsername(m)]; u != nil {
			want = append(want, u.ID)
		} else {
			missing++
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if missing > 0 {
		ap.report.skip("group members", name, "%d member(s) are not users in Ream (left out of the import or skipped)", missing)
	}
	same := slices.Equal(want, ap.members[g.ID])
	if !same {
		if err := ap.tx.SetGroupMembers(ctx, g.ID, want); err != nil {
			return fmt.Errorf("group %q: %w", name, err)
		}
		if err := ap.audit(ctx, "group.members", g.Name, fmt.Sprintf("%d member(s) set by the import from PaperCut at %s", len(want), ap.snap.URL)); err != nil {
			return err
		}
		ap.members[g.ID] = want
	}
	switch {
	case created:
		ap.report.Groups.Created++
		ap.report.Changes = append(ap.report.Changes, fmt.Sprintf("create group %s (%d members)", g.Name, len(want)))
	case !same:
		ap.report.Groups.Updated++
		ap.report.Changes = append(ap.report.Changes, fmt.Sprintf("update group %s: members (%d)", g.Name, len(want)))
	default:
		ap.report.Groups.Unchanged++
	}
	return nil
}
