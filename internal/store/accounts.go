package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
)

// AccountKey is how account names are compared: trimmed and lower-case.
func AccountKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// SplitAccountName splits the API form "Parent\Sub" into its two names.
func SplitAccountName(full string) (parent, sub string) {
	parent, sub, _ = strings.Cut(full, `\`)
	return strings.TrimSpace(parent), strings.TrimSpace(sub)
}

// Access lists are kept as newline-separated names: neither usernames nor
// group names may contain a newline.
func joinList(names []string) string { return strings.Join(names, "\n") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

const accountColumns = `a.id, a.parent_id, COALESCE(p.name, ''), a.name, a.enabled, a.disabled_until, a.pin, a.balance,
	a.overdraft, a.restricted, a.access_users, a.access_groups, a.invoice_option, a.comment_option, a.notes,
	a.source, a.created_at, a.updated_at, a.deleted_at`

const accountFrom = ` FROM accounts a LEFT JOIN accounts p ON p.id = a.parent_id AND a.parent_id <> 0`

func scanAccount(row rowScanner) (*model.Account, error) {
	var a model.Account
	var until, deleted sql.NullInt64
	var bal, od, created, updated int64
	var users, groups string
	err := row.Scan(&a.ID, &a.ParentID, &a.ParentName, &a.Name, &a.Enabled, &until, &a.PINHash, &bal, &od, &a.Restricted,
		&users, &groups, &a.InvoiceOption, &a.CommentOption, &a.Notes, &a.SourceID, &created, &updated, &deleted)
	if err != nil {
		return nil, err
	}
	a.Balance, a.Overdraft = money.Amount(bal), money.Amount(od)
	a.AccessUsers, a.AccessGroups = splitList(users), splitList(groups)
	a.DisabledUntil, a.DeletedAt = msPtr(until), msPtr(deleted)
	a.CreatedAt, a.UpdatedAt = msToTime(created), msToTime(updated)
	return &a, nil
}

func (s *Store) getAccount(ctx context.Context, q querier, where string, args ...any) (*model.Account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, s.q(`SELECT `+accountColumns+accountFrom+` WHERE `+where), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to read account: %w", err)
	}
	return a, nil
}

func (s *Store) accountByName(ctx context.Context, q querier, full string) (*model.Account, error) {
	parent, sub := SplitAccountName(full)
	if parent == "" {
		return nil, ErrNotFound
	}
	if sub == "" {
		return s.getAccount(ctx, q, `a.parent_id = 0 AND a.name_key = $1 AND a.deleted_at IS NULL`, AccountKey(parent))
	}
	return s.getAccount(ctx, q, `a.name_key = $2 AND a.deleted_at IS NULL AND a.parent_id =
		(SELECT id FROM accounts WHERE parent_id = 0 AND name_key = $1 AND deleted_at IS NULL)`, AccountKey(parent), AccountKey(sub))
}

// AccountByName returns the live account named "Parent" or "Parent\Sub" (case-insensitive).
func (s *Store) AccountByName(ctx context.Context, full string) (*model.Account, error) {
	return s.accountByName(ctx, s.r, full)
}

// AccountByName returns the live account by name inside the transaction.
func (t *Tx) AccountByName(ctx context.Context, full string) (*model.Account, error) {
	return t.s.accountByName(ctx, t.tx, full)
}

// AccountByNameForUpdate returns a live account with its row locked for the
// rest of the transaction, for read-modify-write changes.
func (t *Tx) AccountByNameForUpdate(ctx context.Context, full string) (*model.Account, error) {
	a, err := t.AccountByName(ctx, full)
	if err != nil {
		return nil, err
	}
	if t.s.flavor == Postgres {
		if _, err := t.exec(ctx, `SELECT id FROM accounts WHERE id = $1 FOR UPDATE`, a.ID); err != nil {
			return nil, fmt.Errorf("store: unable to lock account: %w", err)
		}
		// Read again now that nobody else can change it.
		return t.AccountByID(ctx, a.ID)
	}
	return a, nil
}

// AccountByID returns an account by id, deleted or not.
func (s *Store) AccountByID(ctx context.Context, id int64) (*model.Account, error) {
	return s.getAccount(ctx, s.r, `a.id = $1`, id)
}

// AccountByID returns an account by id inside the transaction.
func (t *Tx) AccountByID(ctx context.Context, id int64) (*model.Account, error) {
	return t.s.getAccount(ctx, t.tx, `a.id = $1`, id)
}

// AccountFilter selects accounts for a list page or the API.
type AccountFilter struct {
	Search   string
	Deleted  bool // list deleted accounts instead of live ones
	ParentID int64
	// Scope limits the list (and its count) to a delegated admin's
	// shared accounts; nil is every account.
	Scope  *AccountScope
	Offset int
	Limit  int
}

// ListAccounts returns one page of accounts ordered by full name, and the total matching.
func (s *Store) ListAccounts(ctx context.Context, f AccountFilter) ([]*model.Account, int, error) {
	where := `a.deleted_at IS NULL`
	if f.Deleted {
		where = `a.deleted_at IS NOT NULL`
	}
	var args []any
	if f.Search != "" {
		// PINs are stored hashed: a search finds the account whose whole
		// PIN/code is the search text, never a part of one.
		pinHash, err := s.HashAccountPIN(ctx, strings.TrimSpace(f.Search))
		if err != nil {
			return nil, 0, err
		}
		args = append(args, likePattern(f.Search), pinHash)
		where += fmt.Sprintf(` AND (LOWER(a.name) LIKE $%d ESCAPE '\' OR LOWER(COALESCE(p.name,'')) LIKE $%[1]d ESCAPE '\' OR a.pin = $%d)`, len(args)-1, len(args))
	}
	if f.ParentID != 0 {
		args = append(args, f.ParentID)
		where += fmt.Sprintf(` AND a.parent_id = $%d`, len(args))
	}
	cond, scopeArgs := scopeCondition(f.Scope, len(args)+1)
	where += cond
	args = append(args, scopeArgs...)
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*)`+accountFrom+` WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: unable to count accounts: %w", err)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	args = append(args, f.Limit, f.Offset)
	rows, err := s.query(ctx, `SELECT `+accountColumns+accountFrom+` WHERE `+where+
		fmt.Sprintf(` ORDER BY COALESCE(p.name_key, a.name_key) COLLATE "C", a.parent_id <> 0, a.name_key COLLATE "C", a.id LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: unable to list accounts: %w", err)
	}
	defer rows.Close()
	var out []*model.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: unable to read account: %w", err)
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// CountAccounts returns the number of live accounts (sub-accounts included).
func (s *Store) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE deleted_at IS NULL`).Scan(&n)
	return n, err
}

// ErrPINInUse is returned when an account PIN/code belongs to another account.
var ErrPINInUse = errors.New("account PIN/code is already used by another account")

func classifyAccountErr(err error, a *model.Account) error {
	if isUniqueViolation(err) {
		if strings.Contains(err.Error(), "pin") {
			return fmt.Errorf("store: account %q: %w", a.FullName(), ErrPINInUse)
		}
		return fmt.Errorf("store: account %q: %w", a.FullName(), ErrConflict)
	}
	return fmt.Errorf("store: unable to save account %q: %w", a.FullName(), err)
}

// CreateAccount inserts an account. For a sub-account, ParentID must be set.
func (t *Tx) CreateAccount(ctx context.Context, a *model.Account) error {
	now := t.s.nowMS()
	if a.InvoiceOption == "" {
		a.InvoiceOption = model.InvoiceUserOff
	}
	if a.CommentOption == "" {
		a.CommentOption = model.CommentOptional
	}
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
	if a.Balance != 0 {
		return t.recordTransaction(ctx, "account_id", a.ID, a.Balance, a.Balance, "initial balance", "")
	}
	return nil
}

// UpdateAccount writes every field of a except balance, parent and id.
func (t *Tx) UpdateAccount(ctx context.Context, a *model.Account) error {
	now := t.s.nowMS()
	res, err := t.exec(ctx, `UPDATE accounts SET name=$2, name_key=$3, enabled=$4, disabled_until=$5, pin=$6, overdraft=$7,
		restricted=$8, access_users=$9, access_groups=$10, invoice_option=$11, comment_option=$12, notes=$13, source=$14, updated_at=$15
		WHERE id=$1 AND deleted_at IS NULL`,
		a.ID, strings.TrimSpace(a.Name), AccountKey(a.Name), a.Enabled, timePtrMS(a.DisabledUntil), a.PINHash, int64(a.Overdraft),
		a.Restricted, joinList(a.AccessUsers), joinList(a.AccessGroups), a.InvoiceOption, a.CommentOption, a.Notes, a.SourceID, now)
	if err != nil {
		return classifyAccountErr(err, a)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	a.UpdatedAt = msToTime(now)
	return nil
}

// DeleteAccount marks an account and its sub-accounts deleted; history stays.
func (t *Tx) DeleteAccount(ctx context.Context, id int64) error {
	now := t.s.nowMS()
	res, err := t.exec(ctx, `UPDATE accounts SET deleted_at = $2, updated_at = $2 WHERE (id = $1 OR parent_id = $1) AND deleted_at IS NULL`, id, now)
	if err != nil {
		return fmt.Errorf("store: unable to delete account #%d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// RestoreAccount brings a deleted account back under its id. A sub-account's
// parent is restored with it. ErrConflict when a live account has its name.
func (t *Tx) RestoreAccount(ctx context.Context, id int64) error {
	a, err := t.AccountByID(ctx, id)
	if err != nil {
		return err
	}
	if a.DeletedAt == nil {
		return nil
	}
	if a.ParentID != 0 {
		if err := t.RestoreAccount(ctx, a.ParentID); err != nil {
			return err
		}
	}
	_, err = t.exec(ctx, `UPDATE accounts SET deleted_at = NULL, updated_at = $2 WHERE id = $1`, id, t.s.nowMS())
	if err != nil {
		return classifyAccountErr(err, a)
	}
	return nil
}

// AdjustAccountBalance adds amount (or sets the balance, with set) and records the transaction.
func (t *Tx) AdjustAccountBalance(ctx context.Context, id int64, amount money.Amount, set bool, comment, actor string) (money.Amount, error) {
	return t.adjustBalance(ctx, "accounts", "account_id", id, amount, set, comment, actor)
}

// AccountsForUser lists the live accounts a user may charge: unrestricted
// access through [All Users], the user's name, or one of the user's groups.
func (s *Store) AccountsForUser(ctx context.Context, username string, groups []string, offset, limit int) ([]*model.Account, error) {
	var out []*model.Account
	err := s.EachAccountForUser(ctx, username, groups, offset, limit, func(a *model.Account) error { out = append(out, a); return nil })
	return out, err
}

// EachAccountForUser streams the accounts AccountsForUser lists, in order,
// skipping offset and stopping after limit (limit < 0: all). fn must not
// use the store.
func (s *Store) EachAccountForUser(ctx context.Context, username string, groups []string, offset, limit int, fn func(*model.Account) error) error {
	rows, err := s.query(ctx, `SELECT `+accountColumns+accountFrom+` WHERE a.deleted_at IS NULL AND a.enabled ORDER BY COALESCE(p.name_key, a.name_key) COLLATE "C", a.parent_id <> 0, a.name_key COLLATE "C"`)
	if err != nil {
		return fmt.Errorf("store: unable to list accounts: %w", err)
	}
	defer rows.Close()
	inGroup := map[string]bool{}
	for _, g := range groups {
		inGroup[groupKey(g)] = true
	}
	username = NormalizeUsername(username)
	skipped, given := 0, 0
	for rows.Next() {
		if limit >= 0 && given >= limit {
			break
		}
		a, err := scanAccount(rows)
		if err != nil {
			return fmt.Errorf("store: unable to read account: %w", err)
		}
		if !AccountAllows(a, username, inGroup) {
			continue
		}
		if skipped < offset {
			skipped++
			continue
		}
		given++
		if err := fn(a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AccountAllows reports whether a user (with these lower-case group names) may use an account.
func AccountAllows(a *model.Account, username string, inGroup map[string]bool) bool {
	for _, u := range a.AccessUsers {
		if NormalizeUsername(u) == username {
			return true
		}
	}
	for _, g := range a.AccessGroups {
		if model.IsAllUsersGroup(g) || inGroup[groupKey(g)] {
			return true
		}
	}
	return false
}

func timePtrMS(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}
