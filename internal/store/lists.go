package store

import (
	"context"
	"fmt"

	"github.com/reamprint/ream/internal/model"
)

// The Each… listings stream names in the API's order to fn, one row at a
// time, so that `server-command list-user-accounts` over a million users
// runs in constant memory. They skip offset names and stop after limit
// (limit < 0: no limit). fn must not use the store: on SQLite the read
// stays open while it runs.

// limitArg is a LIMIT parameter meaning "no limit" for a negative limit:
// SQLite takes -1, PostgreSQL NULL.
func (s *Store) limitArg(limit int) any {
	if limit >= 0 {
		return limit
	}
	if s.flavor == Postgres {
		return nil
	}
	return -1
}

func (s *Store) eachString(ctx context.Context, what, query string, fn func(string) error, args ...any) error {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: unable to list %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("store: unable to list %s: %w", what, err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: unable to list %s: %w", what, err)
	}
	return nil
}

// EachUsername streams live usernames in order (listUserAccounts).
func (s *Store) EachUsername(ctx context.Context, offset, limit int, fn func(string) error) error {
	return s.eachString(ctx, "users", `SELECT username FROM users WHERE deleted_at IS NULL ORDER BY username COLLATE "C" LIMIT $1 OFFSET $2`,
		fn, s.limitArg(limit), offset)
}

// EachAccountName streams live shared account names ("Parent" and
// "Parent\Sub") in the order of the accounts list (listSharedAccounts).
func (s *Store) EachAccountName(ctx context.Context, offset, limit int, fn func(string) error) error {
	return s.eachString(ctx, "accounts", `SELECT CASE WHEN a.parent_id <> 0 THEN COALESCE(p.name, '') || '\' || a.name ELSE a.name END`+accountFrom+
		` WHERE a.deleted_at IS NULL ORDER BY COALESCE(p.name_key, a.name_key) COLLATE "C", a.parent_id <> 0, a.name_key COLLATE "C", a.id LIMIT $1 OFFSET $2`,
		fn, s.limitArg(limit), offset)
}

// EachGroupName streams group names in order (listUserGroups).
func (s *Store) EachGroupName(ctx context.Context, offset, limit int, fn func(string) error) error {
	return s.eachString(ctx, "groups", `SELECT name FROM groups ORDER BY name_key COLLATE "C" LIMIT $1 OFFSET $2`,
		fn, s.limitArg(limit), offset)
}

// EachGroupMember streams the usernames of a group's live members in order
// (getGroupMembers); pseudo-groups are understood. ErrNotFound when the
// group does not exist.
func (s *Store) EachGroupMember(ctx context.Context, group string, offset, limit int, fn func(string) error) error {
	switch {
	case model.IsAllUsersGroup(group):
		return s.EachUsername(ctx, offset, limit, fn)
	case group == model.GroupInternalUsers || group == model.GroupInternalUsersAlt:
		return s.eachString(ctx, "users", `SELECT username FROM users WHERE deleted_at IS NULL AND internal ORDER BY username COLLATE "C" LIMIT $1 OFFSET $2`,
			fn, s.limitArg(limit), offset)
	}
	g, err := s.GroupByName(ctx, group)
	if err != nil {
		return err
	}
	return s.eachString(ctx, "group members", `SELECT u.username FROM group_members m JOIN users u ON u.id = m.user_id
		WHERE m.group_id = $1 AND u.deleted_at IS NULL ORDER BY u.username COLLATE "C" LIMIT $2 OFFSET $3`,
		fn, g.ID, s.limitArg(limit), offset)
}
