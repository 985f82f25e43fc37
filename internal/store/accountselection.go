package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/reamprint/ream/internal/model"
)

const accountSelectionQuery = `SELECT s.mode, s.account_id, s.default_account_id, s.allow_personal, s.allow_list, s.allow_pin,
	s.allow_other_user, s.charge_personal,
	COALESCE((SELECT CASE WHEN a.parent_id <> 0 THEN p.name || '\' || a.name ELSE a.name END
		FROM accounts a LEFT JOIN accounts p ON p.id = a.parent_id WHERE a.id = s.account_id AND a.deleted_at IS NULL), ''),
	COALESCE((SELECT CASE WHEN a.parent_id <> 0 THEN p.name || '\' || a.name ELSE a.name END
		FROM accounts a LEFT JOIN accounts p ON p.id = a.parent_id WHERE a.id = s.default_account_id AND a.deleted_at IS NULL), '')
	FROM user_account_selection s WHERE s.user_id = $1`

func (s *Store) accountSelection(ctx context.Context, q querier, userID int64) (model.AccountSelection, error) {
	var sel model.AccountSelection
	err := q.QueryRowContext(ctx, s.q(accountSelectionQuery), userID).Scan(&sel.Mode, &sel.AccountID, &sel.DefaultAccountID,
		&sel.AllowPersonal, &sel.AllowList, &sel.AllowPIN, &sel.AllowOtherUser, &sel.ChargePersonal, &sel.AccountName, &sel.DefaultAccountName)
	if errors.Is(err, sql.ErrNoRows) {
		return model.DefaultAccountSelection(), nil
	}
	if err != nil {
		return sel, fmt.Errorf("store: unable to read the account selection of user #%d: %w", userID, err)
	}
	return sel, nil
}

// AccountSelection returns a user's account selection (the default,
// auto-charge to the personal account, when none was set).
func (s *Store) AccountSelection(ctx context.Context, userID int64) (model.AccountSelection, error) {
	return s.accountSelection(ctx, s.r, userID)
}

// AccountSelection reads a user's account selection inside the transaction.
func (t *Tx) AccountSelection(ctx context.Context, userID int64) (model.AccountSelection, error) {
	return t.s.accountSelection(ctx, t.tx, userID)
}

// SetAccountSelection stores the account selection of each listed user
// (the caller has validated it), many users per statement.
func (t *Tx) SetAccountSelection(ctx context.Context, userIDs []int64, sel model.AccountSelection) error {
	now := t.s.nowMS()
	for start := 0; start < len(userIDs); start += cardBatch {
		batch := userIDs[start:min(start+cardBatch, len(userIDs))]
		args := make([]any, 0, 10)
		args = append(args, sel.Mode, sel.AccountID, sel.DefaultAccountID, sel.AllowPersonal, sel.AllowList, sel.AllowPIN,
			sel.AllowOtherUser, sel.ChargePersonal, now)
		values := ""
		for i, id := range batch {
			if i > 0 {
				values += ","
			}
			args = append(args, id)
			values += fmt.Sprintf("($%d,$1,$2,$3,$4,$5,$6,$7,$8,$9)", len(args))
		}
		_, err := t.exec(ctx, `INSERT INTO user_account_selection (user_id, mode, account_id, default_account_id, allow_personal,
			allow_list, allow_pin, allow_other_user, charge_personal, updated_at) VALUES `+values+`
			ON CONFLICT (user_id) DO UPDATE SET mode = excluded.mode, account_id = excluded.account_id,
			default_account_id = excluded.default_account_id, allow_personal = excluded.allow_personal,
			allow_list = excluded.allow_list, allow_pin = excluded.allow_pin, allow_other_user = excluded.allow_other_user,
			charge_personal = excluded.charge_personal, updated_at = excluded.updated_at`, args...)
		if err != nil {
			return fmt.Errorf("store: unable to set the account selection of %d user(s): %w", len(batch), err)
		}
	}
	return nil
}
