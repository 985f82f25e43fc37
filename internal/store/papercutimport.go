package store

import (
	"context"
	"fmt"

	"github.com/reamprint/ream/internal/model"
)

// The whole-site reads of `ream import-papercut`: it compares everything a
// PaperCut server holds with everything Ream holds, inside the transaction
// that then applies the difference, so nothing changes between the two.

// ImportUsers returns every live user with every field, card numbers included.
func (t *Tx) ImportUsers(ctx context.Context) ([]*model.User, error) {
	rows, err := t.tx.QueryContext(ctx, t.s.q(`SELECT `+userColumns+userFrom+` WHERE u.deleted_at IS NULL ORDER BY u.id`))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list users: %w", err)
	}
	defer rows.Close()
	var out []*model.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to read user: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to list users: %w", err)
	}
	return out, nil
}

// ImportAccounts returns every live shared account and sub-account, parents first.
func (t *Tx) ImportAccounts(ctx context.Context) ([]*model.Account, error) {
	rows, err := t.tx.QueryContext(ctx, t.s.q(`SELECT `+accountColumns+accountFrom+` WHERE a.deleted_at IS NULL ORDER BY a.parent_id <> 0, a.id`))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list accounts: %w", err)
	}
	defer rows.Close()
	var out []*model.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to read account: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to list accounts: %w", err)
	}
	return out, nil
}

// GroupMemberships returns the member ids of every group, tracked or not, sorted.
func (t *Tx) GroupMemberships(ctx context.Context) (map[int64][]int64, error) {
	rows, err := t.tx.QueryContext(ctx, t.s.q(`SELECT group_id, user_id FROM group_members ORDER BY group_id, user_id`))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list group members: %w", err)
	}
	defer rows.Close()
	out := map[int64][]int64{}
	for rows.Next() {
		var g, u int64
		if err := rows.Scan(&g, &u); err != nil {
			return nil, fmt.Errorf("store: unable to read group member: %w", err)
		}
		out[g] = append(out[g], u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to list group members: %w", err)
	}
	return out, nil
}

// AccountSelections returns the account selection of every user who has
// one set (the others have model.DefaultAccountSelection), without names.
func (t *Tx) AccountSelections(ctx context.Context) (map[int64]model.AccountSelection, error) {
	rows, err := t.tx.QueryContext(ctx, t.s.q(`SELECT user_id, mode, account_id, default_account_id, allow_personal, allow_list,
		allow_pin, allow_other_user, charge_personal FROM user_account_selection`))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list account selections: %w", err)
	}
	defer rows.Close()
	out := map[int64]model.AccountSelection{}
	for rows.Next() {
		var id int64
		var s model.AccountSelection
		if err := rows.Scan(&id, &s.Mode, &s.AccountID, &s.DefaultAccountID, &s.AllowPersonal, &s.AllowList,
			&s.AllowPIN, &s.AllowOtherUser, &s.ChargePersonal); err != nil {
			return nil, fmt.Errorf("store: unable to read an account selection: %w", err)
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to list account selections: %w", err)
	}
	return out, nil
}
