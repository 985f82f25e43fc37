package store

import (
	"context"
	"fmt"

	"github.com/reamprint/ream/internal/model"
)

// CountInternalUsers returns the number of live internal users, for the dashboard.
func (s *Store) CountInternalUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE deleted_at IS NULL AND internal`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: unable to count internal users: %w", err)
	}
	return n, nil
}

// TopLevelAccounts lists live accounts without a parent, by name: the
// choices of "parent account" on the create-account page.
func (s *Store) TopLevelAccounts(ctx context.Context, scope *AccountScope, limit int) ([]*model.Account, error) {
	cond, args := scopeCondition(scope, 2)
	rows, err := s.query(ctx, `SELECT `+accountColumns+accountFrom+` WHERE a.deleted_at IS NULL AND a.parent_id = 0`+cond+` ORDER BY a.name_key LIMIT $1`, append([]any{limit}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list top-level accounts: %w", err)
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
	return out, rows.Err()
}
