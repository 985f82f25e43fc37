package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/model"
)

// The user/group sync (SPEC §4) plans against every live user at once and
// applies the plan with prepared statements; these methods serve it.

// LiveUsers returns every live user with its card numbers, ordered by id,
// with the fields a sync compares and writes back: balance, restrictions
// and times are left unset (reading them for 100,000 users costs more
// than the directory read they run beside).
func (s *Store) LiveUsers(ctx context.Context) ([]*model.User, error) {
	return s.liveUsers(ctx, s.r)
}

// LiveUsers returns every live user inside the transaction, as Store.LiveUsers.
func (t *Tx) LiveUsers(ctx context.Context) ([]*model.User, error) {
	return t.s.liveUsers(ctx, t.tx)
}

func (s *Store) liveUsers(ctx context.Context, q querier) ([]*model.User, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, username, full_name, email, other_emails, department, office, notes,
		alias, home_folder, pin_hash, password_hash, internal, source, print_disabled, directory_disabled FROM users WHERE deleted_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list live users: %w", err)
	}
	defer rows.Close()
	var out []*model.User
	for rows.Next() {
		u := new(model.User)
		if err := rows.Scan(&u.ID, &u.Username, &u.FullName, &u.Email, &u.OtherEmails, &u.Department, &u.Office, &u.Notes,
			&u.Alias, &u.HomeFolder, &u.PINHash, &u.PasswordHash, &u.Internal, &u.SourceID, &u.PrintDisabled, &u.DirectoryDisabled); err != nil {
			return nil, fmt.Errorf("store: unable to read user: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to list live users: %w", err)
	}
	rows.Close()
	// The card numbers in a second pass, in the same id order, instead of
	// two joined lookups a user. A deleted user holds none.
	cards, err := q.QueryContext(ctx, `SELECT user_id, slot, number FROM user_cards ORDER BY user_id, slot`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list card numbers: %w", err)
	}
	defer cards.Close()
	i := 0
	for cards.Next() {
		var id int64
		var slot int
		var number string
		if err := cards.Scan(&id, &slot, &number); err != nil {
			return nil, fmt.Errorf("store: unable to read card number: %w", err)
		}
		for i < len(out) && out[i].ID < id {
			i++
		}
		if i == len(out) || out[i].ID != id {
			continue
		}
		if slot&PrimaryCard != 0 {
			out[i].PrimaryCard = number
		}
		if slot&SecondaryCard != 0 {
			out[i].SecondaryCard = number
		}
	}
	if err := cards.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to list card numbers: %w", err)
	}
	return out, nil
}

// AllGroups returns every group (member counts not filled), ordered by name.
func (s *Store) AllGroups(ctx context.Context) ([]model.Group, error) {
	return s.allGroups(ctx, s.r)
}

// AllGroups returns every group inside the transaction.
func (t *Tx) AllGroups(ctx context.Context) ([]model.Group, error) {
	return t.s.allGroups(ctx, t.tx)
}

func (s *Store) allGroups(ctx context.Context, q querier) ([]model.Group, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT id, name, source, tracked, created_at FROM groups ORDER BY name_key`))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list groups: %w", err)
	}
	defer rows.Close()
	var out []model.Group
	for rows.Next() {
		var g model.Group
		var created int64
		if err := rows.Scan(&g.ID, &g.Name, &g.SourceID, &g.Tracked, &created); err != nil {
			return nil, fmt.Errorf("store: unable to read group: %w", err)
		}
		g.CreatedAt = msToTime(created)
		out = append(out, g)
	}
	return out, rows.Err()
}

// TrackedGroupMembers returns the member ids of every tracked group, keyed
// by group id, in id order. Deleted users keep their memberships as
// history and are among them: the caller matches ids against live users
// (joining users here would cost a lookup a membership).
func (s *Store) TrackedGroupMembers(ctx context.Context) (map[int64][]int64, error) {
	return s.trackedGroupMembers(ctx, s.r)
}

// TrackedGroupMembers returns the member ids of every tracked group inside the transaction.
func (t *Tx) TrackedGroupMembers(ctx context.Context) (map[int64][]int64, error) {
	return t.s.trackedGroupMembers(ctx, t.tx)
}

func (s *Store) trackedGroupMembers(ctx context.Context, q querier) (map[int64][]int64, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT m.group_id, m.user_id FROM groups g
		JOIN group_members m ON m.group_id = g.id WHERE g.tracked ORDER BY m.group_id, m.user_id`))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list tracked group members: %w", err)
	}
	defer rows.Close()
	out := make(map[int64][]int64)
	var ids []int64
	group := int64(-1)
	for rows.Next() {
		var g, u int64
		if err := rows.Scan(&g, &u); err != nil {
			return nil, fmt.Errorf("store: unable to read group member: %w", err)
		}
		if g != group {
			if group >= 0 {
				out[group] = ids
			}
			group, ids = g, nil
		}
		ids = append(ids, u)
	}
	if group >= 0 {
		out[group] = ids
	}
	return out, rows.Err()
}

// SetGroupSource records which sync source a group comes from.
func (t *Tx) SetGroupSource(ctx context.Context, groupID int64, source string) error {
	if _, err := t.exec(ctx, `UPDATE groups SET source = $2 WHERE id = $1`, groupID, source); err != nil {
		return fmt.Errorf("store: unable to set the source of group #%d: %w", groupID, err)
	}
	return nil
}

// newUserColumns are the users columns every bulk insert writes.
var newUserColumns = []string{"id", "username", "full_name", "email", "department", "office", "source", "created_at", "updated_at", "name_skeleton"}

// optionalUserColumns are the columns a bulk insert writes only when one of
// its users has something other than the column's default (zero): a user
// sync leaves most of them empty, and each bound value costs.
var optionalUserColumns = []struct {
	name  string
	value func(u *model.User) any
	zero  any
}{
	{"other_emails", func(u *model.User) any { return u.OtherEmails }, ""},
	{"notes", func(u *model.User) any { return u.Notes }, ""},
	{"alias", func(u *model.User) any { return u.Alias }, ""},
	{"home_folder", func(u *model.User) any { return u.HomeFolder }, ""},
	{"pin_hash", func(u *model.User) any { return u.PINHash }, ""},
	{"password_hash", func(u *model.User) any { return u.PasswordHash }, ""},
	{"balance", func(u *model.User) any { return int64(u.Balance) }, int64(0)},
	{"restricted", func(u *model.User) any { return u.Restricted }, false},
	{"print_disabled", func(u *model.User) any { return u.PrintDisabled }, false},
	{"internal", func(u *model.User) any { return u.Internal }, false},
	{"directory_disabled", func(u *model.User) any { return u.DirectoryDisabled }, false},
}

var userCardColumns = []string{"number", "user_id", "slot", "origin", "set_at"}

// CreateUsers inserts many new users and their card numbers with
// multi-row INSERTs, filling each ID. Usernames must be normalised and
// validated, and card numbers known to be free: a taken username is
// ErrConflict and a taken number ErrCardInUse, and either leaves the
// transaction unusable on PostgreSQL, so the caller's whole run fails.
func (t *Tx) CreateUsers(ctx context.Context, users []*model.User) error {
	if len(users) == 0 {
		return nil
	}
	if err := t.growCacheForTx(ctx); err != nil {
		return err
	}
	// Ids are reserved, not read back: RETURNING makes SQLite buffer every
	// row of the statement, and the card rows need the ids up front.
	ids, err := t.reserveIDs(ctx, "users", len(users))
	if err != nil {
		return err
	}
	now := t.s.nowMS()
	cards := 0
	for i, u := range users {
		u.ID, u.Username = ids[i], NormalizeUsername(u.Username)
		u.CreatedAt, u.UpdatedAt = msToTime(now), msToTime(now)
		if u.PrimaryCard != "" {
			cards++
		}
		if u.SecondaryCard != "" {
			cards++
		}
	}
	columns := slices.Clone(newUserColumns)
	var optional []int
	for k, c := range optionalUserColumns {
		if slices.ContainsFunc(users, func(u *model.User) bool { return c.value(u) != c.zero }) {
			columns = append(columns, c.name)
			optional = append(optional, k)
		}
	}
	err = t.bulkInsert(ctx, "users", columns, "", len(users), func(i int, args []any) []any {
		u := users[i]
		args = append(args, u.ID, u.Username, u.FullName, u.Email, u.Department, u.Office, u.SourceID, now, now, auth.UsernameSkeleton(u.Username))
		for _, k := range optional {
			args = append(args, optionalUserColumns[k].value(u))
		}
		return args
	})
	if err == nil {
		err = t.insertUserCards(ctx, users, cards)
	}
	if err != nil {
		for _, u := range users {
			u.ID = 0
		}
	}
	switch {
	case err == nil, errors.Is(err, ErrCardInUse):
		return err
	case isUniqueViolation(err):
		return fmt.Errorf("store: one of %d new users: %w", len(users), ErrConflict)
	default:
		return fmt.Errorf("store: unable to create %d users: %w", len(users), err)
	}
}

// insertUserCards inserts the card numbers of new users, cards in all.
func (t *Tx) insertUserCards(ctx context.Context, users []*model.User, cards int) error {
	cardRows := make([]userCard, 0, cards)
	for _, u := range users {
		origin, _ := originCode(creationOrigin(u)) // one of cardOrigins
		if u.PrimaryCard != "" && u.PrimaryCard == u.SecondaryCard {
			cardRows = append(cardRows, userCard{u.PrimaryCard, u.ID, BothCards, origin})
			continue
		}
		if u.PrimaryCard != "" {
			cardRows = append(cardRows, userCard{u.PrimaryCard, u.ID, PrimaryCard, origin})
		}
		if u.SecondaryCard != "" {
			cardRows = append(cardRows, userCard{u.SecondaryCard, u.ID, SecondaryCard, origin})
		}
	}
	now := t.s.nowMS()
	err := t.bulkInsert(ctx, "user_cards", userCardColumns, "", len(cardRows), func(i int, args []any) []any {
		c := &cardRows[i]
		return append(args, c.number, c.userID, c.slot, c.origin, now)
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("store: a card/ID number of the new users: %w", ErrCardInUse)
	}
	if err != nil {
		return fmt.Errorf("store: unable to set the card/ID numbers of new users: %w", err)
	}
	return nil
}

type userCard struct {
	number string
	userID int64
	slot   int
	origin int // code of cardOrigins
}

// UserSyncWriter applies a user sync plan's updates and membership changes
// with statements prepared once per run.
type UserSyncWriter struct {
	t            *Tx
	update       *sql.Stmt
	removeMember *sql.Stmt
}

// NewUserSyncWriter prepares the writer's statements; Close releases them.
func (t *Tx) NewUserSyncWriter(ctx context.Context) (*UserSyncWriter, error) {
	w := &UserSyncWriter{t: t}
	for _, s := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&w.update, `UPDATE users SET full_name=$2, email=$3, other_emails=$4, department=$5, office=$6,
			notes=$7, alias=$8, home_folder=$9, internal=$10, source=$11, password_hash=$12, pin_hash=$13, updated_at=$14,
			print_disabled=$15, directory_disabled=$16
			WHERE id=$1 AND deleted_at IS NULL`},
		{&w.removeMember, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`},
	} {
		stmt, err := t.prepare(ctx, s.query)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("store: unable to prepare user sync statements: %w", err)
		}
		*s.dst = stmt
	}
	return w, nil
}

// Close releases the prepared statements.
func (w *UserSyncWriter) Close() {
	for _, s := range []*sql.Stmt{w.update, w.removeMember} {
		if s != nil {
			s.Close()
		}
	}
}

// UpdateUser writes u's details, internal flag, source, password hash,
// PIN hash and printing-disabled flags (not cards or balance). ErrNotFound when u is not live.
func (w *UserSyncWriter) UpdateUser(ctx context.Context, u *model.User) error {
	now := w.t.s.nowMS()
	res, err := w.update.ExecContext(ctx, u.ID, u.FullName, u.Email, u.OtherEmails, u.Department, u.Office,
		u.Notes, u.Alias, u.HomeFolder, u.Internal, u.SourceID, u.PasswordHash, u.PINHash, now, u.PrintDisabled, u.DirectoryDisabled)
	if err != nil {
		return fmt.Errorf("store: unable to update user %q: %w", u.Username, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: user %q: %w", u.Username, ErrNotFound)
	}
	u.UpdatedAt = msToTime(now)
	return nil
}

var groupMemberColumns = []string{"group_id", "user_id"}

// AddMembers adds many users to a group with multi-row INSERTs.
func (w *UserSyncWriter) AddMembers(ctx context.Context, groupID int64, userIDs []int64) error {
	m := make([]Membership, len(userIDs))
	for i, id := range userIDs {
		m[i] = Membership{GroupID: groupID, UserID: id}
	}
	return w.AddMemberships(ctx, m)
}

// Membership is one user in one group.
type Membership struct {
	GroupID, UserID int64
}

// AddMemberships adds users to groups, any groups, with multi-row
// INSERTs; a membership that exists already is left as it is.
func (w *UserSyncWriter) AddMemberships(ctx context.Context, m []Membership) error {
	err := w.t.bulkInsert(ctx, "group_members", groupMemberColumns, " ON CONFLICT DO NOTHING", len(m), func(i int, args []any) []any {
		return append(args, m[i].GroupID, m[i].UserID)
	})
	if err != nil {
		return fmt.Errorf("store: unable to add %d group memberships: %w", len(m), err)
	}
	return nil
}

// RemoveMember takes a user out of a group.
func (w *UserSyncWriter) RemoveMember(ctx context.Context, groupID, userID int64) error {
	if _, err := w.removeMember.ExecContext(ctx, groupID, userID); err != nil {
		return fmt.Errorf("store: unable to remove user #%d from group #%d: %w", userID, groupID, err)
	}
	return nil
}
