package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
)

// Card slots in user_cards: which fields of its user hold a number.
const (
	PrimaryCard   = 1
	SecondaryCard = 2
	BothCards     = 3 // the same number in both fields of one user
)

// ErrCardInUse is returned when a card/ID number already belongs to another user.
var ErrCardInUse = errors.New("card/ID number is already in use")

const userColumns = `u.id, u.username, u.full_name, u.email, u.other_emails, u.department, u.office,
	u.notes, u.alias, u.home_folder, u.pin_hash, u.password_hash, u.balance, u.restricted,
	u.print_disabled, u.internal, u.source, u.created_at, u.updated_at, u.deleted_at,
	COALESCE(c1.number, ''), COALESCE(c2.number, ''), u.directory_disabled`

const userFrom = ` FROM users u
	LEFT JOIN user_cards c1 ON c1.user_id = u.id AND c1.slot <> 2
	LEFT JOIN user_cards c2 ON c2.user_id = u.id AND c2.slot <> 1`

type rowScanner interface{ Scan(dest ...any) error }

func scanUser(row rowScanner) (*model.User, error) {
	var u model.User
	var created, updated int64
	var deleted sql.NullInt64
	var bal int64
	err := row.Scan(&u.ID, &u.Username, &u.FullName, &u.Email, &u.OtherEmails, &u.Department, &u.Office,
		&u.Notes, &u.Alias, &u.HomeFolder, &u.PINHash, &u.PasswordHash, &bal, &u.Restricted,
		&u.PrintDisabled, &u.Internal, &u.SourceID, &created, &updated, &deleted,
		&u.PrimaryCard, &u.SecondaryCard, &u.DirectoryDisabled)
	if err != nil {
		return nil, err
	}
	u.Balance = money.Amount(bal)
	u.CreatedAt, u.UpdatedAt, u.DeletedAt = msToTime(created), msToTime(updated), msPtr(deleted)
	return &u, nil
}

func (s *Store) getUser(ctx context.Context, q querier, where string, args ...any) (*model.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, s.q(`SELECT `+userColumns+userFrom+` WHERE `+where), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to read user: %w", err)
	}
	return u, nil
}

// NormalizeUsername is how usernames are stored and compared.
func NormalizeUsername(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// UserByName returns the live user with this username (case-insensitive).
func (s *Store) UserByName(ctx context.Context, name string) (*model.User, error) {
	return s.getUser(ctx, s.r, `u.username = $1 AND u.deleted_at IS NULL`, NormalizeUsername(name))
}

// UserByName returns the live user with this username, inside the transaction.
func (t *Tx) UserByName(ctx context.Context, name string) (*model.User, error) {
	return t.s.getUser(ctx, t.tx, `u.username = $1 AND u.deleted_at IS NULL`, NormalizeUsername(name))
}

// UserByNameForUpdate returns a live user with the row locked for the rest
// of the transaction, for read-modify-write changes.
func (t *Tx) UserByNameForUpdate(ctx context.Context, name string) (*model.User, error) {
	u, err := t.UserByName(ctx, name)
	if err != nil || t.s.flavor != Postgres {
		return u, err
	}
	if _, err := t.exec(ctx, `SELECT id FROM users WHERE id = $1 FOR UPDATE`, u.ID); err != nil {
		return nil, fmt.Errorf("store: unable to lock user: %w", err)
	}
	return t.UserByName(ctx, name)
}

// UserByID returns a user by id, deleted or not.
func (s *Store) UserByID(ctx context.Context, id int64) (*model.User, error) {
	return s.getUser(ctx, s.r, `u.id = $1`, id)
}

// UserByCard returns the live user owning this card/ID number in either field.
func (s *Store) UserByCard(ctx context.Context, number string) (*model.User, error) {
	if number == "" {
		return nil, ErrNotFound
	}
	return s.getUser(ctx, s.r, `u.id = (SELECT user_id FROM user_cards WHERE number = $1) AND u.deleted_at IS NULL`, number)
}

// UserByCardSlot returns the live user owning this number in one field only.
func (s *Store) UserByCardSlot(ctx context.Context, number string, slot int) (*model.User, error) {
	if number == "" {
		return nil, ErrNotFound
	}
	return s.getUser(ctx, s.r, `u.id = (SELECT user_id FROM user_cards WHERE number = $1 AND slot IN ($2, 3)) AND u.deleted_at IS NULL`, number, slot)
}

// UsernameByCard is the lookup hot path: the username owning this card/ID
// number in either field, ErrNotFound for none. After CacheCardLookups it
// is answered from memory while the database is unchanged (cardcache.go).
func (s *Store) UsernameByCard(ctx context.Context, number string) (string, error) {
	if c := s.cardCacheP.Load(); c != nil {
		return c.lookUp(ctx, number, s.usernameByCardFromDB)
	}
	cardLookupsDatabase.Inc()
	return s.usernameByCardFromDB(ctx, number)
}

// usernameByCardFromDB is one indexed read, no join.
func (s *Store) usernameByCardFromDB(ctx context.Context, number string) (string, error) {
	var name string
	row, err := s.preparedRow(ctx, `SELECT u.username FROM user_cards c JOIN users u ON u.id = c.user_id WHERE c.number = $1 AND u.deleted_at IS NULL`, number)
	if err != nil {
		return "", err
	}
	err = row.Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: unable to look up card: %w", err)
	}
	return name, nil
}

// UserByEmail returns the first live user whose email matches (case-insensitive).
func (s *Store) UserByEmail(ctx context.Context, email string) (*model.User, error) {
	return s.getUser(ctx, s.r, `LOWER(u.email) = $1 AND u.deleted_at IS NULL AND u.email <> '' ORDER BY u.id LIMIT 1`, strings.ToLower(strings.TrimSpace(email)))
}

// UserByAlias returns the live user with this username alias.
func (s *Store) UserByAlias(ctx context.Context, alias string) (*model.User, error) {
	return s.getUser(ctx, s.r, `LOWER(u.alias) = $1 AND u.deleted_at IS NULL AND u.alias <> '' ORDER BY u.id LIMIT 1`, strings.ToLower(strings.TrimSpace(alias)))
}

// UsernamesByFullName lists live users whose full name matches exactly (case-insensitive).
func (s *Store) UsernamesByFullName(ctx context.Context, name string) ([]string, error) {
	return s.strings(ctx, `SELECT username FROM users WHERE LOWER(full_name) = $1 AND deleted_at IS NULL ORDER BY username COLLATE "C" LIMIT 1000`, strings.ToLower(strings.TrimSpace(name)))
}

func (s *Store) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query failed: %w", err)
	}
	return scanColumn[string](rows)
}

// scanColumn reads the one column of every row, and closes rows.
func scanColumn[T any](rows *sql.Rows) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// UserFilter selects users for a list page or API listing.
type UserFilter struct {
	Search string // matches username, full name, email, card (substring)
	Offset int
	Limit  int
}

// ListUsers returns one page of live users ordered by username, and the total matching.
func (s *Store) ListUsers(ctx context.Context, f UserFilter) ([]*model.User, int, error) {
	where := `u.deleted_at IS NULL`
	var args []any
	if f.Search != "" {
		args = append(args, likePattern(f.Search))
		where += ` AND (u.username LIKE $1 ESCAPE '\' OR LOWER(u.full_name) LIKE $1 ESCAPE '\' OR LOWER(u.email) LIKE $1 ESCAPE '\'
			OR u.id IN (SELECT user_id FROM user_cards WHERE LOWER(number) LIKE $1 ESCAPE '\'))`
	}
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM users u WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: unable to count users: %w", err)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	args = append(args, f.Limit, f.Offset)
	n := len(args)
	rows, err := s.query(ctx, `SELECT `+userColumns+userFrom+` WHERE `+where+
		fmt.Sprintf(` ORDER BY u.username COLLATE "C" LIMIT $%d OFFSET $%d`, n-1, n), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: unable to list users: %w", err)
	}
	defer rows.Close()
	var out []*model.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: unable to read user: %w", err)
		}
		out = append(out, u)
	}
	return out, total, rows.Err()
}

// ListUsernames returns live usernames in order, for the API's listUserAccounts.
func (s *Store) ListUsernames(ctx context.Context, offset, limit int) ([]string, error) {
	var out []string
	err := s.EachUsername(ctx, offset, limit, func(name string) error { out = append(out, name); return nil })
	return out, err
}

// CountUsers returns the number of live users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE deleted_at IS NULL`).Scan(&n)
	return n, err
}

// UserNamedLike returns the name of a live user, other than the one with id
// except, whose username has this skeleton (auth.UsernameSkeleton), or "".
func (t *Tx) UserNamedLike(ctx context.Context, skeleton string, except int64) (string, error) {
	var name string
	err := t.queryRow(ctx, `SELECT username FROM users WHERE name_skeleton = $1 AND deleted_at IS NULL AND id <> $2 ORDER BY id LIMIT 1`,
		skeleton, except).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: unable to look for look-alike usernames: %w", err)
	}
	return name, nil
}

// CreateUser inserts a new user with its card numbers. The username must be
// normalised and validated by the caller. Returns ErrConflict when the
// username is taken and ErrCardInUse when a card number is.
func (t *Tx) CreateUser(ctx context.Context, u *model.User) error {
	now := t.s.nowMS()
	u.Username = NormalizeUsername(u.Username)
	err := t.queryRow(ctx, `INSERT INTO users (username, full_name, email, other_emails, department, office, notes,
		alias, home_folder, pin_hash, password_hash, balance, restricted, print_disabled, internal, source, created_at, updated_at, name_skeleton, directory_disabled)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$17,$18,$19) RETURNING id`,
		u.Username, u.FullName, u.Email, u.OtherEmails, u.Department, u.Office, u.Notes,
		u.Alias, u.HomeFolder, u.PINHash, u.PasswordHash, int64(u.Balance), u.Restricted, u.PrintDisabled,
		u.Internal, u.SourceID, now, auth.UsernameSkeleton(u.Username), u.DirectoryDisabled).Scan(&u.ID)
	if isUniqueViolation(err) {
		return fmt.Errorf("store: user %q: %w", u.Username, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: unable to create user %q: %w", u.Username, err)
	}
	u.CreatedAt, u.UpdatedAt = msToTime(now), msToTime(now)
	return t.SetUserCards(ctx, u.ID, u.PrimaryCard, u.SecondaryCard, creationOrigin(u))
}

// creationOrigin is the origin of the numbers a new user is created with:
// the directory's for a user from a sync source, else whoever created the
// user typed them (admin pages, API, CLI, import files).
func creationOrigin(u *model.User) string {
	if u.SourceID != "" && !u.Internal {
		return model.CardOriginDirectory
	}
	return model.CardOriginAdmin
}

// UserCardNumbers returns a user's card/ID numbers with their origin and
// time, primary first; a blank field is left out, and a number held in
// both fields is listed for each.
func (s *Store) UserCardNumbers(ctx context.Context, userID int64) ([]model.CardNumber, error) {
	rows, err := s.query(ctx, `SELECT slot, number, origin, set_at FROM user_cards WHERE user_id = $1 ORDER BY slot`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read the card numbers of user #%d: %w", userID, err)
	}
	defer rows.Close()
	var out []model.CardNumber
	for rows.Next() {
		var c model.CardNumber
		var at sql.NullInt64
		var code int
		if err := rows.Scan(&c.Slot, &c.Number, &code, &at); err != nil {
			return nil, fmt.Errorf("store: unable to read the card numbers of user #%d: %w", userID, err)
		}
		c.Origin, c.SetAt = originName(code), msPtr(at)
		if c.Slot == BothCards {
			p, s := c, c
			p.Slot, s.Slot = PrimaryCard, SecondaryCard
			out = append(out, p, s)
			continue
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateUser creates a user in its own transaction.
func (s *Store) CreateUser(ctx context.Context, u *model.User) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.CreateUser(ctx, u) })
}

// UpdateUser writes every detail field of u (not cards, balance or password).
func (t *Tx) UpdateUser(ctx context.Context, u *model.User) error {
	now := t.s.nowMS()
	res, err := t.exec(ctx, `UPDATE users SET full_name=$2, email=$3, other_emails=$4, department=$5, office=$6,
		notes=$7, alias=$8, home_folder=$9, restricted=$10, print_disabled=$11, internal=$12, source=$13, updated_at=$14
		WHERE id=$1 AND deleted_at IS NULL`,
		u.ID, u.FullName, u.Email, u.OtherEmails, u.Department, u.Office, u.Notes, u.Alias, u.HomeFolder,
		u.Restricted, u.PrintDisabled, u.Internal, u.SourceID, now)
	if err != nil {
		return fmt.Errorf("store: unable to update user %q: %w", u.Username, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	u.UpdatedAt = msToTime(now)
	return nil
}

// UpdateUser updates a user in its own transaction.
func (s *Store) UpdateUser(ctx context.Context, u *model.User) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.UpdateUser(ctx, u) })
}

// SetUserCard sets (or, with "", clears) a user's card number in one
// field, keeping the other, recording origin (a model.CardOrigin…) for a
// number the user did not hold before.
func (t *Tx) SetUserCard(ctx context.Context, userID int64, slot int, number, origin string) error {
	primary, secondary, err := t.userCards(ctx, userID)
	if err != nil {
		return err
	}
	if slot == SecondaryCard {
		return t.SetUserCards(ctx, userID, primary, number, origin)
	}
	return t.SetUserCards(ctx, userID, number, secondary, origin)
}

// userCards reads a user's two numbers inside the transaction.
func (t *Tx) userCards(ctx context.Context, userID int64) (primary, secondary string, err error) {
	rows, err := t.query(ctx, `SELECT number, slot FROM user_cards WHERE user_id = $1`, userID)
	if err != nil {
		return "", "", fmt.Errorf("store: unable to read cards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		var slot int
		if err := rows.Scan(&n, &slot); err != nil {
			return "", "", fmt.Errorf("store: unable to read cards: %w", err)
		}
		if slot&PrimaryCard != 0 {
			primary = n
		}
		if slot&SecondaryCard != 0 {
			secondary = n
		}
	}
	return primary, secondary, rows.Err()
}

// SetUserCards sets both of a user's card numbers at once ("" clears a
// field), so that a swap, or the same number in both fields, is one
// change. The number's primary key makes a second owner impossible:
// ErrCardInUse, with the transaction still usable.
func (t *Tx) SetUserCards(ctx context.Context, userID int64, primary, secondary, origin string) error {
	curPrimary, curSecondary, err := t.userCards(ctx, userID)
	if err != nil {
		return err
	}
	if curPrimary == primary && curSecondary == secondary {
		return nil
	}
	code, err := originCode(origin)
	if err != nil {
		return err
	}
	// Numbers the user keeps keep their origin and time; new ones get
	// origin and now.
	kept := map[string][2]any{}
	{
		rows, err := t.query(ctx, `SELECT number, origin, set_at FROM user_cards WHERE user_id = $1`, userID)
		if err != nil {
			return fmt.Errorf("store: unable to read cards: %w", err)
		}
		for rows.Next() {
			var n string
			var o int
			var at sql.NullInt64
			if err := rows.Scan(&n, &o, &at); err != nil {
				rows.Close()
				return fmt.Errorf("store: unable to read cards: %w", err)
			}
			kept[n] = [2]any{o, at}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	type row struct {
		number string
		slot   int
	}
	var rows []row
	switch {
	case primary != "" && primary == secondary:
		rows = append(rows, row{primary, BothCards})
	default:
		if primary != "" {
			rows = append(rows, row{primary, PrimaryCard})
		}
		if secondary != "" {
			rows = append(rows, row{secondary, SecondaryCard})
		}
	}
	// A savepoint keeps the surrounding transaction usable on PostgreSQL
	// when a number turns out to be taken, and undoes the delete: a refused
	// change changes nothing.
	if _, err := t.tx.ExecContext(ctx, `SAVEPOINT card`); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	now := t.s.nowMS()
	err = func() error {
		if _, err := t.exec(ctx, `DELETE FROM user_cards WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("store: unable to clear cards: %w", err)
		}
		for _, r := range rows {
			var o any = code
			var at any = now
			if k, ok := kept[r.number]; ok {
				o, at = k[0], k[1]
			}
			_, err := t.exec(ctx, `INSERT INTO user_cards (number, user_id, slot, origin, set_at) VALUES ($1, $2, $3, $4, $5)`, r.number, userID, r.slot, o, at)
			if isUniqueViolation(err) {
				return ErrCardInUse
			}
			if err != nil {
				return fmt.Errorf("store: unable to set card: %w", err)
			}
		}
		return nil
	}()
	if err != nil {
		if _, rerr := t.tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT card`); rerr != nil {
			return fmt.Errorf("store: rollback to savepoint: %w", rerr)
		}
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `RELEASE SAVEPOINT card`); err != nil {
		return fmt.Errorf("store: release savepoint: %w", err)
	}
	_, err = t.exec(ctx, `UPDATE users SET updated_at = $2 WHERE id = $1`, userID, t.s.nowMS())
	return err
}

// CardOwner returns the id and username of the live user holding a number
// in either field; ErrNotFound when nobody does.
func (t *Tx) CardOwner(ctx context.Context, number string) (int64, string, error) {
	var id int64
	var name string
	err := t.queryRow(ctx, `SELECT u.id, u.username FROM user_cards c JOIN users u ON u.id = c.user_id WHERE c.number = $1`, number).Scan(&id, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", ErrNotFound
	}
	if err != nil {
		return 0, "", fmt.Errorf("store: unable to find the owner of a card: %w", err)
	}
	return id, name, nil
}

// CardInUse reports whether a number is owned by anyone (either field).
func (t *Tx) CardInUse(ctx context.Context, number string) (bool, error) {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM user_cards WHERE number = $1`, number).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// SetUserPIN stores a card PIN hash ("" clears it).
func (t *Tx) SetUserPIN(ctx context.Context, userID int64, pinHash string) error {
	_, err := t.exec(ctx, `UPDATE users SET pin_hash = $2, updated_at = $3 WHERE id = $1`, userID, pinHash, t.s.nowMS())
	return err
}

// SetUserPassword stores an internal user's password hash.
func (t *Tx) SetUserPassword(ctx context.Context, userID int64, hash string) error {
	_, err := t.exec(ctx, `UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1`, userID, hash, t.s.nowMS())
	return err
}

// RenameUser changes a username; history follows the id. Everything that
// names the user follows too (sessions, admin access, account access
// lists), so that whoever is given the old name later inherits nothing.
func (t *Tx) RenameUser(ctx context.Context, userID int64, newName string) error {
	newName = NormalizeUsername(newName)
	var oldName string
	if err := t.queryRow(ctx, `SELECT username FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, userID).Scan(&oldName); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return fmt.Errorf("store: unable to read user: %w", err)
	}
	_, err := t.exec(ctx, `UPDATE users SET username = $2, name_skeleton = $4, updated_at = $3 WHERE id = $1`,
		userID, newName, t.s.nowMS(), auth.UsernameSkeleton(newName))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: user %q: %w", newName, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: unable to rename user: %w", err)
	}
	if _, err := t.exec(ctx, `UPDATE admin_access SET name = $2 WHERE kind = 'user' AND name = $1`, oldName, newName); err != nil {
		return fmt.Errorf("store: unable to rename user: %w", err)
	}
	if _, err := t.exec(ctx, `UPDATE sessions SET username = $2 WHERE user_id = $1`, userID, newName); err != nil {
		return fmt.Errorf("store: unable to rename user: %w", err)
	}
	return t.renameInAccessLists(ctx, oldName, newName)
}

// renameInAccessLists rewrites a username in every account's access list.
func (t *Tx) renameInAccessLists(ctx context.Context, oldName, newName string) error {
	rows, err := t.query(ctx, `SELECT id, access_users FROM accounts WHERE LOWER(access_users) LIKE $1 ESCAPE '\'`, likePattern(oldName))
	if err != nil {
		return fmt.Errorf("store: unable to read access lists: %w", err)
	}
	type change struct {
		id    int64
		users string
	}
	var changes []change
	for rows.Next() {
		var id int64
		var list string
		if err := rows.Scan(&id, &list); err != nil {
			rows.Close()
			return err
		}
		names, changed := splitList(list), false
		for i, n := range names {
			if NormalizeUsername(n) == oldName {
				names[i], changed = newName, true
			}
		}
		if changed {
			changes = append(changes, change{id, joinList(names)})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range changes {
		if _, err := t.exec(ctx, `UPDATE accounts SET access_users = $2 WHERE id = $1`, c.id, c.users); err != nil {
			return fmt.Errorf("store: unable to update an access list: %w", err)
		}
	}
	return nil
}

// UserBalanceForUpdate reads a user's balance and restriction with the row
// locked for the rest of the transaction (check-then-adjust).
func (t *Tx) UserBalanceForUpdate(ctx context.Context, userID int64) (money.Amount, bool, error) {
	var bal int64
	var restricted bool
	err := t.queryRow(ctx, `SELECT balance, restricted FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, userID).Scan(&bal, &restricted)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, ErrNotFound
	}
	return money.Amount(bal), restricted, err
}

// DeleteUser marks a user deleted, releases its card numbers and group
// memberships and ends its sessions. With redact, personal details are wiped.
func (t *Tx) DeleteUser(ctx context.Context, u *model.User, redact bool) error {
	now := t.s.nowMS()
	q := `UPDATE users SET deleted_at = $2, updated_at = $2 WHERE id = $1 AND deleted_at IS NULL`
	if redact {
		q = `UPDATE users SET deleted_at = $2, updated_at = $2, full_name = '', email = '', other_emails = '',
			department = '', office = '', notes = '', alias = '', home_folder = '', pin_hash = '', password_hash = ''
			WHERE id = $1 AND deleted_at IS NULL`
	}
	res, err := t.exec(ctx, q, u.ID, now)
	if err != nil {
		return fmt.Errorf("store: unable to delete user %q: %w", u.Username, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	for _, stmt := range []string{
		`DELETE FROM user_cards WHERE user_id = $1`,
		`DELETE FROM group_members WHERE user_id = $1`,
	} {
		if _, err := t.exec(ctx, stmt, u.ID); err != nil {
			return fmt.Errorf("store: unable to delete user %q: %w", u.Username, err)
		}
	}
	// An admin entry goes with its user: entries are by name, and a user
	// made later under the freed name must not inherit it.
	if err := t.deleteAdminEntry(ctx, "user", NormalizeUsername(u.Username)); err != nil {
		return fmt.Errorf("store: unable to delete the admin access of user %q: %w", u.Username, err)
	}
	return t.EndSessions(ctx, "", u.ID, "")
}

// AdjustUserBalance adds amount (or, with set, sets the balance to amount)
// and records the transaction. It returns the new balance.
func (t *Tx) AdjustUserBalance(ctx context.Context, userID int64, amount money.Amount, set bool, comment, actor string) (money.Amount, error) {
	return t.adjustBalance(ctx, "users", "user_id", userID, amount, set, comment, actor)
}

// adjustBalance changes the balance of a user or an account and records the
// transaction row. The row is locked first, so that concurrent adjustments
// add up on PostgreSQL too. table and column are constants of this package.
func (t *Tx) adjustBalance(ctx context.Context, table, txColumn string, id int64, amount money.Amount, set bool, comment, actor string) (money.Amount, error) {
	var cur int64
	if err := t.queryRow(ctx, `SELECT balance FROM `+table+` WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id).Scan(&cur); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, ErrNotFound
		}
		return 0, fmt.Errorf("store: unable to read the balance of %s #%d: %w", table, id, err)
	}
	delta := amount
	if set {
		delta = amount - money.Amount(cur)
	}
	after, err := money.Amount(cur).Add(delta)
	if err != nil {
		return 0, err
	}
	if _, err := t.exec(ctx, `UPDATE `+table+` SET balance = $2, updated_at = $3 WHERE id = $1`, id, int64(after), t.s.nowMS()); err != nil {
		return 0, fmt.Errorf("store: unable to set the balance of %s #%d: %w", table, id, err)
	}
	return after, t.recordTransaction(ctx, txColumn, id, delta, after, comment, actor)
}

// recordTransaction writes one transaction row for a user_id or account_id.
func (t *Tx) recordTransaction(ctx context.Context, column string, id int64, delta, after money.Amount, comment, actor string) error {
	_, err := t.exec(ctx, `INSERT INTO transactions (`+column+`, amount, balance_after, comment, actor, created_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		id, int64(delta), int64(after), comment, actor, t.s.nowMS())
	if err != nil {
		return fmt.Errorf("store: unable to record transaction: %w", err)
	}
	return nil
}

// UserGroups lists the names of the groups a user belongs to.
func (s *Store) UserGroups(ctx context.Context, userID int64) ([]string, error) {
	return s.strings(ctx, `SELECT g.name FROM groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name_key COLLATE "C"`, userID)
}

// Transactions lists the newest transactions of a user or an account.
func (s *Store) Transactions(ctx context.Context, userID, accountID int64, limit int) ([]model.Transaction, error) {
	col, id := "user_id", userID
	if accountID != 0 {
		col, id = "account_id", accountID
	}
	rows, err := s.query(ctx, `SELECT id, COALESCE(user_id,0), COALESCE(account_id,0), amount, balance_after, comment, actor, created_at
		FROM transactions WHERE `+col+` = $1 ORDER BY id DESC LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list transactions: %w", err)
	}
	defer rows.Close()
	var out []model.Transaction
	for rows.Next() {
		var tr model.Transaction
		var amt, after, at int64
		if err := rows.Scan(&tr.ID, &tr.UserID, &tr.AccountID, &amt, &after, &tr.Comment, &tr.Actor, &at); err != nil {
			return nil, err
		}
		tr.Amount, tr.BalanceAfter, tr.CreatedAt = money.Amount(amt), money.Amount(after), msToTime(at)
		out = append(out, tr)
	}
	return out, rows.Err()
}
