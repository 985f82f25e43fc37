package store

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
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

var auditColumns = []string{"actor", "actor_kind", "actor_user_id", "address", "action", "target", "detail", "created_at"}

// AuditMany writes many audit entries with multi-row inserts: an import
// audits every user and account it creates or changes.
func (t *Tx) AuditMany(ctx context.Context, entries []model.AuditEntry) error {
	now := t.s.nowMS()
	return t.bulkInsert(ctx, "audit_log", auditColumns, "", len(entries), func(i int, args []any) []any {
		e := &entries[i]
		kind := e.ActorKind
		if kind == "" {
			kind = model.ActorSystem
		}
		var userID any
		if e.ActorUserID != 0 {
			userID = e.ActorUserID
		}
		return append(args, e.Actor, kind, userID, e.Address, e.Action, e.Target, truncate(e.Detail, 4000), now)
	})
}

// ImportTransaction is the transaction row of a balance an import set on
// a user or an account it created (one of UserID and AccountID is set).
type ImportTransaction struct {
	UserID, AccountID int64
	Balance           money.Amount // from zero: the amount and the balance after
	Comment, Actor    string
}

var importTransactionColumns = []string{"user_id", "account_id", "amount", "balance_after", "comment", "actor", "created_at"}

// InsertImportTransactions records many such transactions with multi-row inserts.
func (t *Tx) InsertImportTransactions(ctx context.Context, txs []ImportTransaction) error {
	now := t.s.nowMS()
	null := func(id int64) any {
		if id == 0 {
			return nil
		}
		return id
	}
	return t.bulkInsert(ctx, "transactions", importTransactionColumns, "", len(txs), func(i int, args []any) []any {
		x := &txs[i]
		return append(args, null(x.UserID), null(x.AccountID), int64(x.Balance), int64(x.Balance), x.Comment, x.Actor, now)
	})
}

// CreateImportedAccount inserts an account with its balance as given; the
// caller records the balance's transaction (InsertImportTransactions).
func (t *Tx) CreateImportedAccount(ctx context.Context, a *model.Account) error {
	now := t.s.nowMS()
	err := t.queryRow(ctx, `INSERT INTO accounts (parent_id, name, name_key, enabled, disabled_until, pin, balance, overdraft,
		restricted, access_users, access_groups, invoice_option, comment_option, notes, source, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$16) RETURNING id`,
		a.ParentID, strings.TrimSpace(a.Name), AccountKey(a.Name), a.Enabled, timePtrMS(a.DisabledUntil), a.PINHash, int64(a.Balance),
		int64(a.Overdraft), a.Restricted, joinList(a.AccessUsers), joinList(a.AccessGroups), a.InvoiceOption,
		a.CommentOption, a.Notes, a.SourceID, now).Scan(&a.ID)
	if err != nil {
		return classifyAccountErr(err, a)
	}
	a.CreatedAt, a.UpdatedAt = msToTime(now), msToTime(now)
	return nil
}

// ExistingAccountPINKey returns the site's key for shared-account PIN
// hashes if one was made, without making it (AccountPINKey makes it).
func (s *Store) ExistingAccountPINKey(ctx context.Context) ([]byte, bool, error) {
	v, ok, err := s.Setting(ctx, accountPINKeySetting)
	if err != nil || !ok {
		return nil, false, err
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, false, fmt.Errorf("store: the account PIN key in the settings table is damaged")
	}
	return key, true, nil
}
