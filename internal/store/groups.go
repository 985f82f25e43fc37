package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/reamprint/ream/internal/model"
)

func groupKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// GroupByName returns a group by name (case-insensitive).
func (s *Store) GroupByName(ctx context.Context, name string) (*model.Group, error) {
	return s.getGroup(ctx, s.r, name)
}

// GroupByName returns a group by name inside the transaction.
func (t *Tx) GroupByName(ctx context.Context, name string) (*model.Group, error) {
	return t.s.getGroup(ctx, t.tx, name)
}

func (s *Store) getGroup(ctx context.Context, q querier, name string) (*model.Group, error) {
	var g model.Group
	var created int64
	err := q.QueryRowContext(ctx, s.q(`SELECT id, name, source, tracked, created_at,
		(SELECT COUNT(*) FROM group_members m WHERE m.group_id = groups.id) FROM groups WHERE name_key = $1`), groupKey(name)).
		Scan(&g.ID, &g.Name, &g.SourceID, &g.Tracked, &created, &g.Members)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to read group: %w", err)
	}
	g.CreatedAt = msToTime(created)
	return &g, nil
}

// CreateGroup adds a group. ErrConflict when the name exists.
func (t *Tx) CreateGroup(ctx context.Context, g *model.Group) error {
	now := t.s.nowMS()
	err := t.queryRow(ctx, `INSERT INTO groups (name, name_key, source, tracked, created_at) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
		strings.TrimSpace(g.Name), groupKey(g.Name), g.SourceID, g.Tracked, now).Scan(&g.ID)
	if isUniqueViolation(err) {
		return fmt.Errorf("store: group %q: %w", g.Name, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: unable to create group %q: %w", g.Name, err)
	}
	g.CreatedAt = msToTime(now)
	return nil
}

// SetGroupTracked marks a group as tracked (refreshed by user sync) or not.
func (t *Tx) SetGroupTracked(ctx context.Context, groupID int64, tracked bool) error {
	_, err := t.exec(ctx, `UPDATE groups SET tracked = $2 WHERE id = $1`, groupID, tracked)
	return err
}

// DeleteGroup removes a group and its memberships (groups carry no history).
func (t *Tx) DeleteGroup(ctx context.Context, groupID int64) error {
	// An admin entry goes with its group (see DeleteUser).
	var key string
	if err := t.queryRow(ctx, `SELECT name_key FROM groups WHERE id = $1`, groupID).Scan(&key); err == nil {
		if err := t.deleteAdminEntry(ctx, "group", key); err != nil {
			return fmt.Errorf("store: unable to delete the admin access of group #%d: %w", groupID, err)
		}
	}
	if _, err := t.exec(ctx, `DELETE FROM group_members WHERE group_id = $1`, groupID); err != nil {
		return fmt.Errorf("store: unable to delete group: %w", err)
	}
	_, err := t.exec(ctx, `DELETE FROM groups WHERE id = $1`, groupID)
	return err
}

// AddGroupMember adds a user to a group; adding twice is not an error.
func (t *Tx) AddGroupMember(ctx context.Context, groupID, userID int64) error {
	_, err := t.exec(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, groupID, userID)
	if err != nil {
		return fmt.Errorf("store: unable to add group member: %w", err)
	}
	return nil
}

// RemoveGroupMember removes a user from a group.
func (t *Tx) RemoveGroupMember(ctx context.Context, groupID, userID int64) error {
	_, err := t.exec(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID)
	return err
}

// SetGroupMembers replaces a group's members with exactly these users.
func (t *Tx) SetGroupMembers(ctx context.Context, groupID int64, userIDs []int64) error {
	if _, err := t.exec(ctx, `DELETE FROM group_members WHERE group_id = $1`, groupID); err != nil {
		return fmt.Errorf("store: unable to clear group members: %w", err)
	}
	stmt, err := t.prepare(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, id := range userIDs {
		if _, err := stmt.ExecContext(ctx, groupID, id); err != nil {
			return fmt.Errorf("store: unable to add group member: %w", err)
		}
	}
	return nil
}

// ListGroups returns group names in order (with member counts).
func (s *Store) ListGroups(ctx context.Context, offset, limit int) ([]model.Group, error) {
	rows, err := s.query(ctx, `SELECT g.id, g.name, g.source, g.tracked, g.created_at,
		(SELECT COUNT(*) FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = g.id AND u.deleted_at IS NULL)
		FROM groups g ORDER BY g.name_key COLLATE "C" LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list groups: %w", err)
	}
	defer rows.Close()
	var out []model.Group
	for rows.Next() {
		var g model.Group
		var created int64
		if err := rows.Scan(&g.ID, &g.Name, &g.SourceID, &g.Tracked, &created, &g.Members); err != nil {
			return nil, err
		}
		g.CreatedAt = msToTime(created)
		out = append(out, g)
	}
	return out, rows.Err()
}

// GroupMembers lists usernames of a group's live members, in order. The
// pseudo-groups [All Users] and !!Internal Users!! are understood.
func (s *Store) GroupMembers(ctx context.Context, group string, offset, limit int) ([]string, error) {
	var out []string
	err := s.EachGroupMember(ctx, group, offset, limit, func(name string) error { out = append(out, name); return nil })
	return out, err
}

// GroupMemberIDs lists the ids of a group's live members (pseudo-groups understood).
func (s *Store) GroupMemberIDs(ctx context.Context, group string) ([]int64, error) {
	var rows *sql.Rows
	var err error
	switch {
	case model.IsAllUsersGroup(group):
		rows, err = s.query(ctx, `SELECT id FROM users WHERE deleted_at IS NULL ORDER BY id`)
	case group == model.GroupInternalUsers || group == model.GroupInternalUsersAlt:
		rows, err = s.query(ctx, `SELECT id FROM users WHERE deleted_at IS NULL AND internal ORDER BY id`)
	default:
		g, gerr := s.GroupByName(ctx, group)
		if gerr != nil {
			return nil, gerr
		}
		rows, err = s.query(ctx, `SELECT u.id FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1 AND u.deleted_at IS NULL ORDER BY u.id`, g.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to list group members: %w", err)
	}
	return scanColumn[int64](rows)
}

// GroupExists reports whether a group (or pseudo-group) exists.
func (s *Store) GroupExists(ctx context.Context, name string) (bool, error) {
	if model.IsAllUsersGroup(name) || name == model.GroupInternalUsers || name == model.GroupInternalUsersAlt {
		return true, nil
	}
	_, err := s.GroupByName(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// CountGroups returns the number of groups.
func (s *Store) CountGroups(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM groups`).Scan(&n)
	return n, err
}
