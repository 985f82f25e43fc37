package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/reamprint/ream/internal/model"
)

// UserCard is one card/ID number for one user, for bulk writes.
type UserCard struct {
	UserID int64
	Number string
}

// idBatch is how many ids go in one IN list and cardBatch how many rows go
// in one multi-row INSERT: both keep statements well under SQLite's
// parameter limit while making 100,000 users a few hundred statements.
const (
	idBatch   = 1000
	cardBatch = 400
)

// CardNumbers returns every card/ID number in use, in either field, read
// inside the transaction so that the bulk generator avoids all of them.
func (t *Tx) CardNumbers(ctx context.Context) (map[string]struct{}, error) {
	rows, err := t.query(ctx, `SELECT number FROM user_cards`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read card numbers: %w", err)
	}
	defer rows.Close()
	out := map[string]struct{}{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("store: unable to read card numbers: %w", err)
		}
		out[n] = struct{}{}
	}
	return out, rows.Err()
}

// CountUsersWithCards returns how many live users hold a primary or
// secondary number, for the guessability sentence.
func (s *Store) CountUsersWithCards(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(DISTINCT c.user_id) FROM user_cards c JOIN users u ON u.id = c.user_id WHERE u.deleted_at IS NULL`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: unable to count users with cards: %w", err)
	}
	return n, nil
}

// param is the placeholder of the i-th parameter (from 1) in the long
// statements built here. SQLite gets plain "?": with a thousand numbered
// "?NNN" parameters, binding them by number costs time quadratic in their
// count. Statements using it must take their parameters in order.
func (s *Store) param(i int) string {
	if s.flavor == SQLite {
		return "?"
	}
	return fmt.Sprintf("$%d", i)
}

// inList returns the placeholders of n parameters, numbered from first.
func (s *Store) inList(first, n int) string {
	var sb strings.Builder
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(s.param(first + i))
	}
	return sb.String()
}

// UsersByIDs returns the live users among ids with their card numbers, in
// id order, read inside the transaction.
func (t *Tx) UsersByIDs(ctx context.Context, ids []int64) ([]*model.User, error) {
	out := make([]*model.User, 0, len(ids))
	for start := 0; start < len(ids); start += idBatch {
		batch := ids[start:min(start+idBatch, len(ids))]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		rows, err := t.query(ctx, `SELECT `+userColumns+userFrom+` WHERE u.deleted_at IS NULL AND u.id IN (`+t.s.inList(1, len(batch))+`) ORDER BY u.id`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: unable to read users: %w", err)
		}
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: unable to read user: %w", err)
			}
			out = append(out, u)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: unable to read users: %w", err)
		}
	}
	return out, nil
}

// UserIDsByNames maps usernames (case-insensitive) to the ids of live users;
// names without a live user are returned in missing, in the order given.
func (t *Tx) UserIDsByNames(ctx context.Context, names []string) (ids []int64, missing []string, err error) {
	found := make(map[string]int64, len(names))
	for start := 0; start < len(names); start += idBatch {
		batch := names[start:min(start+idBatch, len(names))]
		args := make([]any, len(batch))
		for i, n := range batch {
			args[i] = NormalizeUsername(n)
		}
		rows, err := t.query(ctx, `SELECT id, username FROM users WHERE deleted_at IS NULL AND username IN (`+t.s.inList(1, len(batch))+`)`, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("store: unable to find users: %w", err)
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("store: unable to find users: %w", err)
			}
			found[name] = id
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("store: unable to find users: %w", err)
		}
	}
	seen := make(map[int64]bool, len(found))
	for _, n := range names {
		id, ok := found[NormalizeUsername(n)]
		switch {
		case !ok:
			missing = append(missing, n)
		case !seen[id]:
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, missing, nil
}

// SetPrimaryCards gives each listed user the listed primary number,
// replacing any they had, recorded with origin (a model.CardOrigin…):
// their slot-1 rows are deleted (a number in both fields stays as the
// secondary), then the new rows inserted many per statement. A number
// someone else holds fails the whole change with ErrCardInUse (the
// caller's transaction then rolls back).
func (t *Tx) SetPrimaryCards(ctx context.Context, cards []UserCard, origin string, progress func(done int)) error {
	for _, c := range cards {
		if c.Number == "" {
			return fmt.Errorf("store: unable to set primary card for user #%d: the number is empty", c.UserID)
		}
	}
	var err error
	if t.s.flavor == Postgres {
		err = t.setPrimaryCardsArrays(ctx, cards, origin, progress)
	} else {
		err = t.setPrimaryCardsBatches(ctx, cards, origin, progress)
	}
	if isUniqueViolation(err) {
		return fmt.Errorf("store: unable to set primary card numbers: %w", ErrCardInUse)
	}
	if err != nil {
		return fmt.Errorf("store: unable to set primary card numbers: %w", err)
	}
	return nil
}

// setPrimaryCardsArrays is PostgreSQL's way: whole arrays as parameters,
// three statements whatever the number of users.
func (t *Tx) setPrimaryCardsArrays(ctx context.Context, cards []UserCard, origin string, progress func(done int)) error {
	ids := make([]int64, len(cards))
	numbers := make([]string, len(cards))
	for i, c := range cards {
		ids[i], numbers[i] = c.UserID, c.Number
	}
	if _, err := t.exec(ctx, `DELETE FROM user_cards WHERE slot = 1 AND user_id = ANY($1)`, ids); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `UPDATE user_cards SET slot = 2 WHERE slot = 3 AND user_id = ANY($1)`, ids); err != nil {
		return err
	}
	now := t.s.nowMS()
	if _, err := t.exec(ctx, `UPDATE users SET updated_at = $1 WHERE id = ANY($2)`, now, ids); err != nil {
		return err
	}
	code, err := originCode(origin)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `INSERT INTO user_cards (number, user_id, slot, origin, set_at) SELECT n, u, 1, $3, $4 FROM unnest($1::text[], $2::bigint[]) AS v(n, u)`, numbers, ids, code, now); err != nil {
		return err
	}
	if progress != nil {
		progress(len(cards))
	}
	return nil
}

// setPrimaryCardsBatches is SQLite's way: many rows per statement.
func (t *Tx) setPrimaryCardsBatches(ctx context.Context, cards []UserCard, origin string, progress func(done int)) error {
	// A bulk change touches more pages than SQLite's default 2 MiB cache
	// holds; spilling them to the WAL mid-transaction writes many twice.
	// The writer's cache grows for this change only.
	restore, err := t.growCache(ctx)
	if err != nil {
		return err
	}
	defer restore()
	now := t.s.nowMS()
	for start := 0; start < len(cards); start += idBatch {
		batch := cards[start:min(start+idBatch, len(cards))]
		args := make([]any, len(batch))
		for i, c := range batch {
			args[i] = c.UserID
		}
		if _, err := t.exec(ctx, `DELETE FROM user_cards WHERE slot = 1 AND user_id IN (`+t.s.inList(1, len(batch))+`)`, args...); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `UPDATE user_cards SET slot = 2 WHERE slot = 3 AND user_id IN (`+t.s.inList(1, len(batch))+`)`, args...); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `UPDATE users SET updated_at = `+t.s.param(1)+` WHERE id IN (`+t.s.inList(2, len(batch))+`)`, append([]any{now}, args...)...); err != nil {
			return err
		}
	}
	// The origin and the time are the same on every row: written once in
	// the statement rather than bound on every row.
	code, err := originCode(origin)
	if err != nil {
		return err
	}
	for start := 0; start < len(cards); start += cardBatch {
		batch := cards[start:min(start+cardBatch, len(cards))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO user_cards (number, user_id, slot, origin, set_at) SELECT column1, column2, 1, ` + strconv.Itoa(code) + `, ` + strconv.FormatInt(now, 10) + ` FROM (VALUES `)
		args := make([]any, 0, 2*len(batch))
		for i, c := range batch {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%s,%s)", t.s.param(2*i+1), t.s.param(2*i+2))
			args = append(args, c.Number, c.UserID)
		}
		sb.WriteByte(')')
		if _, err := t.exec(ctx, sb.String(), args...); err != nil {
			return err
		}
		if progress != nil {
			progress(start + len(batch))
		}
	}
	return nil
}

// cardOrigins are the codes user_cards.origin keeps for model's
// CardOrigin values: a small integer rather than the word keeps the table
// (written by the hundred thousand in a bulk change or a sync) small.
// Never renumber: codes are stored.
var cardOrigins = []string{
	0: model.CardOriginUnknown,
	1: model.CardOriginDirectory,
	2: model.CardOriginAdmin,
	3: model.CardOriginBulk,
	4: model.CardOriginGenerated,
	5: model.CardOriginSelfRegistered,
	6: model.CardOriginSelfGenerated,
}

// originCode returns the stored code of a model.CardOrigin value.
func originCode(origin string) (int, error) {
	for code, o := range cardOrigins {
		if o == origin {
			return code, nil
		}
	}
	return 0, fmt.Errorf("store: unknown card origin %q", origin)
}

// originName returns the model.CardOrigin value of a stored code; a code
// this binary does not know reads as unknown.
func originName(code int) string {
	if code < 0 || code >= len(cardOrigins) {
		return model.CardOriginUnknown
	}
	return cardOrigins[code]
}

// bulkCacheKiB is the SQLite page cache used during a bulk change.
const bulkCacheKiB = 64 << 10

// growCache raises the SQLite page cache of the transaction's connection and
// returns the function that puts it back.
func (t *Tx) growCache(ctx context.Context) (restore func(), err error) {
	var before int64
	if err := t.queryRow(ctx, `PRAGMA cache_size`).Scan(&before); err != nil {
		return nil, fmt.Errorf("store: unable to read the cache size: %w", err)
	}
	if _, err := t.exec(ctx, fmt.Sprintf(`PRAGMA cache_size = -%d`, bulkCacheKiB)); err != nil {
		return nil, fmt.Errorf("store: unable to grow the cache: %w", err)
	}
	return func() { _, _ = t.exec(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = %d`, before)) }, nil
}

// GroupUsers returns the live members of a group with their card numbers,
// in id order, in one query (pseudo-groups understood); ErrNotFound when
// the group does not exist.
func (t *Tx) GroupUsers(ctx context.Context, group string) ([]*model.User, error) {
	var rows *sql.Rows
	var err error
	switch {
	case model.IsAllUsersGroup(group):
		rows, err = t.query(ctx, `SELECT `+userColumns+userFrom+` WHERE u.deleted_at IS NULL ORDER BY u.id`)
	case group == model.GroupInternalUsers || group == model.GroupInternalUsersAlt:
		rows, err = t.query(ctx, `SELECT `+userColumns+userFrom+` WHERE u.deleted_at IS NULL AND u.internal ORDER BY u.id`)
	default:
		g, gerr := t.GroupByName(ctx, group)
		if gerr != nil {
			return nil, gerr
		}
		rows, err = t.query(ctx, `SELECT `+userColumns+userFrom+` JOIN group_members m ON m.user_id = u.id
			WHERE m.group_id = $1 AND u.deleted_at IS NULL ORDER BY u.id`, g.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to list the members of %q: %w", group, err)
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
	return out, rows.Err()
}
