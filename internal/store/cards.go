package store

import (
	"context"
	"fmt"
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

// inList returns "$first,$first+1,…" for n parameters.
func inList(first, n int) string {
	var sb strings.Builder
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "$%d", first+i)
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
		rows, err := t.query(ctx, `SELECT `+userColumns+userFrom+` WHERE u.deleted_at IS NULL AND u.id IN (`+inList(1, len(batch))+`) ORDER BY u.id`, args...)
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
		rows, err := t.query(ctx, `SELECT id, username FROM users WHERE deleted_at IS NULL AND username IN (`+inList(1, len(batch))+`)`, args...)
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
// replacing any they had: their slot-1 rows are deleted, then the new rows
// inserted many per statement. A number someone else holds fails the whole
// change with ErrCardInUse (the caller's transaction then rolls back).
func (t *Tx) SetPrimaryCards(ctx context.Context, cards []UserCard, progress func(done int)) error {
	now := t.s.nowMS()
	for start := 0; start < len(cards); start += idBatch {
		batch := cards[start:min(start+idBatch, len(cards))]
		args := make([]any, len(batch))
		for i, c := range batch {
			args[i] = c.UserID
		}
		list := inList(1, len(batch))
		if _, err := t.exec(ctx, `DELETE FROM user_cards WHERE slot = 1 AND user_id IN (`+list+`)`, args...); err != nil {
			return fmt.Errorf("store: unable to clear primary card numbers: %w", err)
		}
		if _, err := t.exec(ctx, `UPDATE users SET updated_at = $`+fmt.Sprint(len(batch)+1)+` WHERE id IN (`+list+`)`, append(args, now)...); err != nil {
			return fmt.Errorf("store: unable to mark users updated: %w", err)
		}
	}
	for start := 0; start < len(cards); start += cardBatch {
		batch := cards[start:min(start+cardBatch, len(cards))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO user_cards (number, user_id, slot) VALUES `)
		args := make([]any, 0, 2*len(batch))
		for i, c := range batch {
			if c.Number == "" {
				return fmt.Errorf("store: unable to set primary card for user #%d: the number is empty", c.UserID)
			}
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "($%d,$%d,1)", 2*i+1, 2*i+2)
			args = append(args, c.Number, c.UserID)
		}
		if _, err := t.exec(ctx, sb.String(), args...); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("store: unable to set primary card numbers: %w", ErrCardInUse)
			}
			return fmt.Errorf("store: unable to set primary card numbers: %w", err)
		}
		if progress != nil {
			progress(start + len(batch))
		}
	}
	return nil
}
