package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/reamprint/ream/internal/model"
)

// AdminAccess is one entry of the admin-access list: a user or group, the
// rights it gives and the shared accounts they cover.
type AdminAccess struct {
	Kind        string // "user" or "group"
	Name        string
	AllAccounts bool // Scope is model.ScopeAll
	Rights      []model.AdminRight
	Scope       string // model.ScopeAll, ScopeAccessList or ScopeAccounts
	// Accounts are the top-level accounts of a ScopeAccounts entry, by name.
	Accounts   []string
	AccountIDs []int64
}

// encodeRights is how a set of rights is kept in admin_access.rights.
func encodeRights(rights []model.AdminRight) string {
	names := make([]string, 0, len(rights))
	for _, r := range model.SortAdminRights(rights) {
		names = append(names, string(r))
	}
	return strings.Join(names, ",")
}

// decodeRights reads admin_access.rights; a name this binary does not know
// gives nothing.
func decodeRights(s string) []model.AdminRight {
	var set []model.AdminRight
	for _, name := range strings.Split(s, ",") {
		if r := model.AdminRight(strings.TrimSpace(name)); model.KnownAdminRight(r) {
			set = append(set, r)
		}
	}
	return model.SortAdminRights(set)
}

// SetAdminAccess adds (or, with add=false, removes) a user or group from the
// admin list. A new entry has every right and all shared accounts, as in
// PaperCut; adding an existing one leaves it as it is.
func (t *Tx) SetAdminAccess(ctx context.Context, kind, name string, add bool) error {
	var err error
	if add {
		_, err = t.exec(ctx, `INSERT INTO admin_access (kind, name, all_accounts, rights, scope, created_at) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING`,
			kind, groupKey(name), true, encodeRights(model.AllAdminRights()), model.ScopeAll, t.s.nowMS())
	} else {
		_, err = t.exec(ctx, `DELETE FROM admin_access WHERE kind = $1 AND name = $2`, kind, groupKey(name))
	}
	if err != nil {
		return fmt.Errorf("store: unable to change admin access: %w", err)
	}
	return nil
}

// SetAdminAccessRights replaces the rights of an existing entry.
func (t *Tx) SetAdminAccessRights(ctx context.Context, kind, name string, rights []model.AdminRight) error {
	res, err := t.exec(ctx, `UPDATE admin_access SET rights = $3 WHERE kind = $1 AND name = $2`, kind, groupKey(name), encodeRights(rights))
	if err != nil {
		return fmt.Errorf("store: unable to change the rights of admin access %s %q: %w", kind, name, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetAdminAccessScope replaces the shared-account scope of an existing
// entry; accountIDs (top-level accounts) go with model.ScopeAccounts only.
func (t *Tx) SetAdminAccessScope(ctx context.Context, kind, name, scope string, accountIDs []int64) error {
	key := groupKey(name)
	res, err := t.exec(ctx, `UPDATE admin_access SET scope = $3, all_accounts = $4 WHERE kind = $1 AND name = $2`, kind, key, scope, scope == model.ScopeAll)
	if err != nil {
		return fmt.Errorf("store: unable to change the scope of admin access %s %q: %w", kind, name, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	if _, err := t.exec(ctx, `DELETE FROM admin_access_accounts WHERE kind = $1 AND name = $2`, kind, key); err != nil {
		return fmt.Errorf("store: unable to change the scope of admin access %s %q: %w", kind, name, err)
	}
	for _, id := range accountIDs {
		if _, err := t.exec(ctx, `INSERT INTO admin_access_accounts (kind, name, account_id) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`, kind, key, id); err != nil {
			return fmt.Errorf("store: unable to change the scope of admin access %s %q: %w", kind, name, err)
		}
	}
	return nil
}

// AdminAccessEntry returns one entry of the admin list inside the
// transaction, or ErrNotFound.
func (t *Tx) AdminAccessEntry(ctx context.Context, kind, name string) (*AdminAccess, error) {
	list, err := adminAccessList(ctx, t.tx, t.s, `WHERE kind = $1 AND name = $2`, kind, groupKey(name))
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrNotFound
	}
	return &list[0], nil
}

// AdminAccessList returns the admin-access list, users first, by name.
func (s *Store) AdminAccessList(ctx context.Context) ([]AdminAccess, error) {
	return adminAccessList(ctx, s.r, s, "")
}

func adminAccessList(ctx context.Context, q querier, s *Store, where string, args ...any) ([]AdminAccess, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT kind, name, all_accounts, rights, scope FROM admin_access `+where+` ORDER BY kind DESC, name`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read admin access: %w", err)
	}
	var out []AdminAccess
	for rows.Next() {
		var a AdminAccess
		var rights string
		if err := rows.Scan(&a.Kind, &a.Name, &a.AllAccounts, &rights, &a.Scope); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: unable to read admin access: %w", err)
		}
		a.Rights = decodeRights(rights)
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to read admin access: %w", err)
	}
	for i := range out {
		a := &out[i]
		if a.Scope != model.ScopeAccounts {
			continue
		}
		rows, err := q.QueryContext(ctx, s.q(`SELECT ac.id, ac.name FROM admin_access_accounts x JOIN accounts ac ON ac.id = x.account_id
			WHERE x.kind = $1 AND x.name = $2 ORDER BY ac.name_key, ac.id`), a.Kind, a.Name)
		if err != nil {
			return nil, fmt.Errorf("store: unable to read the accounts of admin access %s %q: %w", a.Kind, a.Name, err)
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			a.AccountIDs, a.Accounts = append(a.AccountIDs, id), append(a.Accounts, name)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// IsAdmin reports whether a (non built-in) user has admin access, directly or
// through a group, and whether that access covers all shared accounts.
func (s *Store) IsAdmin(ctx context.Context, username string) (admin, allAccounts bool, err error) {
	var n, all int
	err = s.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN a.all_accounts THEN 1 ELSE 0 END), 0) FROM admin_access a
		WHERE (a.kind = 'user' AND a.name = $1)
		   OR (a.kind = 'group' AND a.name IN (SELECT g.name_key FROM groups g JOIN group_members m ON m.group_id = g.id
		        JOIN users u ON u.id = m.user_id WHERE u.username = $1 AND u.deleted_at IS NULL))`, NormalizeUsername(username)).Scan(&n, &all)
	if err != nil {
		return false, false, fmt.Errorf("store: unable to check admin access: %w", err)
	}
	return n > 0, all > 0, nil
}

// AdminGrant is what a (non built-in) user may do in the admin area: the
// union of the rights of their own entry and their groups' entries, and
// whether one of them covers all shared accounts.
type AdminGrant struct {
	Rights      []model.AdminRight
	AllAccounts bool
}

// AdminGrantOf reads a user's admin grant; read on every admin request, so
// that a removed right or group membership counts from the next one.
func (s *Store) AdminGrantOf(ctx context.Context, username string) (AdminGrant, error) {
	rows, err := s.query(ctx, `SELECT a.rights, a.all_accounts FROM admin_access a
		WHERE (a.kind = 'user' AND a.name = $1)
		   OR (a.kind = 'group' AND a.name IN (SELECT g.name_key FROM groups g JOIN group_members m ON m.group_id = g.id
		        JOIN users u ON u.id = m.user_id WHERE u.username = $1 AND u.deleted_at IS NULL))`, NormalizeUsername(username))
	if err != nil {
		return AdminGrant{}, fmt.Errorf("store: unable to read the admin rights of %q: %w", username, err)
	}
	defer rows.Close()
	var g AdminGrant
	var all []model.AdminRight
	for rows.Next() {
		var rights string
		var allAccounts bool
		if err := rows.Scan(&rights, &allAccounts); err != nil {
			return AdminGrant{}, fmt.Errorf("store: unable to read the admin rights of %q: %w", username, err)
		}
		// An entry without rights gives nothing, not even its scope.
		if own := decodeRights(rights); len(own) > 0 {
			all = append(all, own...)
			g.AllAccounts = g.AllAccounts || allAccounts
		}
	}
	if err := rows.Err(); err != nil {
		return AdminGrant{}, fmt.Errorf("store: unable to read the admin rights of %q: %w", username, err)
	}
	g.Rights = model.SortAdminRights(all)
	return g, nil
}

// AccountScope is the set of shared accounts a delegated administrator
// may see and change, sub-accounts included; a nil *AccountScope is every
// account. Account queries take it as a filter, so that what is out of
// scope cannot even be counted.
type AccountScope struct {
	ids map[int64]bool
}

// Contains reports whether account id is in scope.
func (sc *AccountScope) Contains(id int64) bool { return sc == nil || sc.ids[id] }

// EmptyAccountScope is a scope of no account.
func EmptyAccountScope() *AccountScope { return &AccountScope{ids: map[int64]bool{}} }

// Len is the number of accounts in the scope (-1 for all accounts).
func (sc *AccountScope) Len() int {
	if sc == nil {
		return -1
	}
	return len(sc.ids)
}

// AdminAccountScope returns the shared accounts a (non built-in) user's
// admin entries with rights cover: nil when one of them covers all;
// otherwise the listed top-level accounts and, for an access-list entry,
// the accounts whose access list includes the user or one of their groups,
// each with its sub-accounts.
func (s *Store) AdminAccountScope(ctx context.Context, username string) (*AccountScope, error) {
	username = NormalizeUsername(username)
	rows, err := s.query(ctx, `SELECT a.kind, a.name, a.rights, a.scope FROM admin_access a
		WHERE (a.kind = 'user' AND a.name = $1)
		   OR (a.kind = 'group' AND a.name IN (SELECT g.name_key FROM groups g JOIN group_members m ON m.group_id = g.id
		        JOIN users u ON u.id = m.user_id WHERE u.username = $1 AND u.deleted_at IS NULL))`, username)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read the account scope of %q: %w", username, err)
	}
	type entry struct{ kind, name string }
	var listed []entry
	accessList := false
	for rows.Next() {
		var e entry
		var rights, scope string
		if err := rows.Scan(&e.kind, &e.name, &rights, &scope); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: unable to read the account scope of %q: %w", username, err)
		}
		if len(decodeRights(rights)) == 0 {
			continue
		}
		switch scope {
		case model.ScopeAll:
			rows.Close()
			return nil, nil
		case model.ScopeAccessList:
			accessList = true
		case model.ScopeAccounts:
			listed = append(listed, e)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to read the account scope of %q: %w", username, err)
	}
	tops := map[int64]bool{}
	for _, e := range listed {
		ids, err := s.strings(ctx, `SELECT CAST(account_id AS TEXT) FROM admin_access_accounts WHERE kind = $1 AND name = $2`, e.kind, e.name)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			n, err := strconv.ParseInt(id, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("store: unable to read the account scope of %q: %w", username, err)
			}
			tops[n] = true
		}
	}
	inGroup := map[string]bool{}
	if accessList {
		groups, err := s.strings(ctx, `SELECT g.name_key FROM groups g JOIN group_members m ON m.group_id = g.id
			JOIN users u ON u.id = m.user_id WHERE u.username = $1 AND u.deleted_at IS NULL`, username)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			inGroup[g] = true
		}
	}
	sc := &AccountScope{ids: map[int64]bool{}}
	if len(tops) > 0 {
		// Listed accounts: only their ids and their sub-accounts' are read.
		ids := make([]int64, 0, len(tops))
		for id := range tops {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for chunk := range slices.Chunk(ids, 500) {
			marks := make([]string, len(chunk))
			args := make([]any, len(chunk))
			for i, id := range chunk {
				marks[i], args[i] = fmt.Sprintf("$%d", i+1), id
			}
			in := strings.Join(marks, ",")
			got, err := s.strings(ctx, `SELECT CAST(id AS TEXT) FROM accounts WHERE id IN (`+in+`) OR parent_id IN (`+in+`)`, args...)
			if err != nil {
				return nil, fmt.Errorf("store: unable to read the account scope of %q: %w", username, err)
			}
			for _, g := range got {
				n, err := strconv.ParseInt(g, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("store: unable to read the account scope of %q: %w", username, err)
				}
				sc.ids[n] = true
			}
		}
	}
	if !accessList {
		return sc, nil
	}
	// Access lists are read without the rest of each row; parents first, so
	// that a sub-account follows its parent's answer.
	arows, err := s.query(ctx, `SELECT id, parent_id, access_users, access_groups FROM accounts ORDER BY parent_id <> 0, id`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read the account scope of %q: %w", username, err)
	}
	defer arows.Close()
	for arows.Next() {
		var a model.Account
		var users, groups string
		if err := arows.Scan(&a.ID, &a.ParentID, &users, &groups); err != nil {
			return nil, fmt.Errorf("store: unable to read the account scope of %q: %w", username, err)
		}
		a.AccessUsers, a.AccessGroups = splitList(users), splitList(groups)
		if sc.ids[a.ParentID] || AccountAllows(&a, username, inGroup) {
			sc.ids[a.ID] = true
		}
	}
	return sc, arows.Err()
}

// scopeCondition is the SQL condition of an AccountScope on accounts a,
// its arguments numbered from next.
func scopeCondition(sc *AccountScope, next int) (string, []any) {
	if sc == nil {
		return "", nil
	}
	if len(sc.ids) == 0 {
		return ` AND 1 = 0`, nil
	}
	ids := make([]int64, 0, len(sc.ids))
	for id := range sc.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	marks := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		marks[i] = fmt.Sprintf("$%d", next+i)
		args[i] = id
	}
	return ` AND a.id IN (` + strings.Join(marks, ",") + `)`, args
}

// GroupNamesMatching returns up to limit group names containing search
// (case-insensitive), in order, for the Admin Rights page's search box.
func (s *Store) GroupNamesMatching(ctx context.Context, search string, limit int) ([]string, error) {
	return s.strings(ctx, `SELECT name FROM groups WHERE name_key LIKE $1 ESCAPE '\' ORDER BY name_key COLLATE "C" LIMIT $2`, likePattern(search), limit)
}

// deleteAdminEntry removes the admin entry of kind and stored name key, with
// its listed accounts; none is fine.
func (t *Tx) deleteAdminEntry(ctx context.Context, kind, key string) error {
	if _, err := t.exec(ctx, `DELETE FROM admin_access_accounts WHERE kind = $1 AND name = $2`, kind, key); err != nil {
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM admin_access WHERE kind = $1 AND name = $2`, kind, key)
	return err
}
