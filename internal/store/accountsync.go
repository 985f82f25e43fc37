package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
)

// SyncAccount is the compact form of an account that the shared-account sync
// plans against and writes: no joins, no time values, access lists kept as
// stored (newline separated). A million of them must fit in memory.
type SyncAccount struct {
	ID, ParentID  int64
	Name          string
	Enabled       bool
	PINHash       string
	Balance       money.Amount
	Restricted    bool
	AccessUsers   string // newline separated
	AccessGroups  string // newline separated; may hold model.GroupAllUsers
	InvoiceOption string
	CommentOption string
	Notes         string
	SourceID      string
	DeletedAt     int64 // Unix ms; 0 when live
}

// JoinAccessList is how access lists are stored: newline separated.
func JoinAccessList(names []string) string { return joinList(names) }

// SplitAccessList splits a stored access list.
func SplitAccessList(s string) []string { return splitList(s) }

// InternOption returns the shared constant for the option words, so that a million
// accounts do not hold a million copies of "USER_CHOICE_OFF".
func InternOption(s string) string {
	switch s {
	case model.InvoiceAlways:
		return model.InvoiceAlways
	case model.InvoiceNever:
		return model.InvoiceNever
	case model.InvoiceUserOn:
		return model.InvoiceUserOn
	case model.InvoiceUserOff:
		return model.InvoiceUserOff
	case model.CommentNone:
		return model.CommentNone
	case model.CommentOptional:
		return model.CommentOptional
	case model.CommentRequired:
		return model.CommentRequired
	case "":
		return ""
	case "sync":
		return "sync"
	}
	return s
}

func (s *Store) syncAccounts(ctx context.Context, q querier) ([]SyncAccount, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
		return nil, fmt.Errorf("store: unable to count accounts: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT id, parent_id, name, enabled, pin, balance, restricted, access_users,
		access_groups, invoice_option, comment_option, notes, source, COALESCE(deleted_at, 0) FROM accounts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read accounts for sync: %w", err)
	}
	defer rows.Close()
	out := make([]SyncAccount, 0, n)
	for rows.Next() {
		var a SyncAccount
		var bal int64
		if err := rows.Scan(&a.ID, &a.ParentID, &a.Name, &a.Enabled, &a.PINHash, &bal, &a.Restricted, &a.AccessUsers,
			&a.AccessGroups, &a.InvoiceOption, &a.CommentOption, &a.Notes, &a.SourceID, &a.DeletedAt); err != nil {
			return nil, fmt.Errorf("store: unable to read account for sync: %w", err)
		}
		a.Balance = money.Amount(bal)
		a.InvoiceOption, a.CommentOption, a.SourceID = InternOption(a.InvoiceOption), InternOption(a.CommentOption), InternOption(a.SourceID)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to read accounts for sync: %w", err)
	}
	return out, nil
}

// SyncAccounts returns every account, live and deleted, ordered by id, in
// one query.
func (s *Store) SyncAccounts(ctx context.Context) ([]SyncAccount, error) {
	return s.syncAccounts(ctx, s.r)
}

// SyncAccounts returns every account inside the transaction, so that a sync
// plans against exactly the state it then changes.
func (t *Tx) SyncAccounts(ctx context.Context) ([]SyncAccount, error) {
	return t.s.syncAccounts(ctx, t.tx)
}

// AccessNames are the live usernames and group names (both lower-case) an
// access list is checked against.
type AccessNames struct {
	Users  map[string]struct{}
	Groups map[string]struct{}
}

func (s *Store) accessNames(ctx context.Context, q querier) (*AccessNames, error) {
	names := &AccessNames{Users: map[string]struct{}{}, Groups: map[string]struct{}{}}
	for _, part := range []struct {
		query string
		into  map[string]struct{}
	}{
		{`SELECT username FROM users WHERE deleted_at IS NULL`, names.Users},
		{`SELECT name_key FROM groups`, names.Groups},
	} {
		rows, err := q.QueryContext(ctx, part.query)
		if err != nil {
			return nil, fmt.Errorf("store: unable to read user and group names: %w", err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: unable to read user and group names: %w", err)
			}
			part.into[n] = struct{}{}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: unable to read user and group names: %w", err)
		}
	}
	return names, nil
}

// AccessNames returns the live user and group names.
func (s *Store) AccessNames(ctx context.Context) (*AccessNames, error) {
	return s.accessNames(ctx, s.r)
}

// AccessNames returns the live user and group names inside the transaction.
func (t *Tx) AccessNames(ctx context.Context) (*AccessNames, error) {
	return t.s.accessNames(ctx, t.tx)
}

// ReserveAccountIDs returns n new account ids, so that a bulk insert can
// give sub-accounts their new parent's id without reading ids back.
func (t *Tx) ReserveAccountIDs(ctx context.Context, n int) ([]int64, error) {
	return t.reserveIDs(ctx, "accounts", n)
}

// reserveIDs returns n new ids of table (accounts or users). On SQLite the
// transaction holds the only write lock, so the ids after the highest ever
// given are free (an explicit id also moves AUTOINCREMENT's counter); on
// PostgreSQL they come from the column's sequence.
func (t *Tx) reserveIDs(ctx context.Context, table string, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if n == 0 {
		return ids, nil
	}
	if t.s.flavor == Postgres {
		rows, err := t.tx.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`, table, n)
		if err != nil {
			return nil, fmt.Errorf("store: unable to reserve %s ids: %w", table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, fmt.Errorf("store: unable to reserve %s ids: %w", table, err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: unable to reserve %s ids: %w", table, err)
		}
		return ids, nil
	}
	var base int64
	err := t.tx.QueryRowContext(ctx, `SELECT MAX(m) FROM (SELECT COALESCE(MAX(id), 0) AS m FROM `+table+`
		UNION ALL SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = ?1)`, table).Scan(&base)
	if err != nil {
		return nil, fmt.Errorf("store: unable to reserve %s ids: %w", table, err)
	}
	for i := range n {
		ids = append(ids, base+int64(i)+1)
	}
	return ids, nil
}

// maxBulkParams keeps a multi-row statement under both databases' limits on
// bound parameters (SQLite 32766, PostgreSQL 65535).
const maxBulkParams = 30000

// bulkInsert inserts n rows into table in multi-row INSERT statements, the
// fastest bulk load through database/sql on SQLite; tail ends each
// statement (an ON CONFLICT clause, say). row appends the values of row i
// to args. Batches are full-sized, then halves, quarters and so on for the
// rest, so that however the rows arrive the transaction prepares only a
// handful of statements (bulkStmt) and parses none twice.
func (t *Tx) bulkInsert(ctx context.Context, table string, columns []string, tail string, n int, row func(i int, args []any) []any) error {
	perBatch := min(maxBulkParams/len(columns), 1024)
	args := make([]any, 0, min(n, perBatch)*len(columns))
	for start := 0; start < n; {
		count := perBatch
		for count > n-start {
			count /= 2
		}
		args = args[:0]
		for i := start; i < start+count; i++ {
			args = row(i, args)
		}
		stmt, err := t.bulkStmt(ctx, t.s.insertSQL(table, columns, count)+tail)
		if err != nil {
			return fmt.Errorf("store: unable to prepare insert into %s: %w", table, err)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("store: unable to insert into %s: %w", table, err)
		}
		start += count
	}
	return nil
}

// insertSQL writes "INSERT INTO table (cols) VALUES (…), (…)" with the
// flavor's placeholders.
func (s *Store) insertSQL(table string, columns []string, rows int) string {
	var b strings.Builder
	b.Grow(32 + rows*len(columns)*7)
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	b.WriteString(strings.Join(columns, ", "))
	b.WriteString(") VALUES ")
	p := 0
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range columns {
			if c > 0 {
				b.WriteByte(',')
			}
			// SQLite gets bare "?": the driver looks up a numbered
			// parameter's name by a linear scan, quadratic in a long list.
			if s.flavor == Postgres {
				p++
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(p))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

var syncAccountColumns = []string{"id", "parent_id", "name", "name_key", "enabled", "pin", "balance", "restricted",
	"access_users", "access_groups", "invoice_option", "comment_option", "notes", "source", "created_at", "updated_at"}

// InsertSyncAccounts inserts new accounts whose ids were reserved with
// ReserveAccountIDs. Balances are written as given; their transaction rows
// are the caller's (InsertAccountTransactions).
func (t *Tx) InsertSyncAccounts(ctx context.Context, accounts []SyncAccount) error {
	now := t.s.nowMS()
	if t.s.flavor == Postgres {
		n := len(accounts)
		id, parent, bal, ts := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		name, key, pin, users, groups := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		invoice, comment, notes, src := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		enabled, restricted := make([]bool, n), make([]bool, n)
		for i := range accounts {
			a := &accounts[i]
			id[i], parent[i], bal[i], ts[i] = a.ID, a.ParentID, int64(a.Balance), now
			name[i], key[i], pin[i], users[i], groups[i] = a.Name, AccountKey(a.Name), a.PINHash, a.AccessUsers, a.AccessGroups
			invoice[i], comment[i], notes[i], src[i] = a.InvoiceOption, a.CommentOption, a.Notes, a.SourceID
			enabled[i], restricted[i] = a.Enabled, a.Restricted
		}
		_, err := t.tx.ExecContext(ctx, `INSERT INTO accounts (`+strings.Join(syncAccountColumns, ", ")+`)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::bigint[],
				$8::boolean[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bigint[], $15::bigint[])`,
			id, parent, name, key, enabled, pin, bal, restricted, users, groups, invoice, comment, notes, src, ts)
		if err != nil {
			return fmt.Errorf("store: unable to insert accounts: %w", err)
		}
		return nil
	}
	return t.bulkInsert(ctx, "accounts", syncAccountColumns, "", len(accounts), func(i int, args []any) []any {
		a := &accounts[i]
		return append(args, a.ID, a.ParentID, a.Name, AccountKey(a.Name), a.Enabled, a.PINHash, int64(a.Balance), a.Restricted,
			a.AccessUsers, a.AccessGroups, a.InvoiceOption, a.CommentOption, a.Notes, a.SourceID, now, now)
	})
}

// UpdateSyncAccounts writes every field of each account (balance included)
// and makes it live: a deleted account named by the source comes back
// under its id.
func (t *Tx) UpdateSyncAccounts(ctx context.Context, accounts []SyncAccount) error {
	if len(accounts) == 0 {
		return nil
	}
	stmt, err := t.prepare(ctx, `UPDATE accounts SET enabled=$2, pin=$3, balance=$4, restricted=$5, access_users=$6,
		access_groups=$7, invoice_option=$8, comment_option=$9, notes=$10, source=$11, updated_at=$12, deleted_at=NULL WHERE id=$1`)
	if err != nil {
		return fmt.Errorf("store: unable to prepare account update: %w", err)
	}
	defer stmt.Close()
	now := t.s.nowMS()
	for i := range accounts {
		a := &accounts[i]
		if _, err := stmt.ExecContext(ctx, a.ID, a.Enabled, a.PINHash, int64(a.Balance), a.Restricted, a.AccessUsers,
			a.AccessGroups, a.InvoiceOption, a.CommentOption, a.Notes, a.SourceID, now); err != nil {
			return fmt.Errorf("store: unable to update account #%d: %w", a.ID, err)
		}
	}
	return nil
}

// forEachIDBatch runs query with a list of placeholders standing for up to
// 1,000 ids at a time, after the extra arguments (written "$1"… in query).
// The list is written in the flavor's syntax directly: these statements are
// too varied to keep in the rewrite cache.
func (t *Tx) forEachIDBatch(ctx context.Context, ids []int64, query func(list string) string, extra ...any) error {
	const perBatch = 1000
	args := make([]any, 0, perBatch+len(extra))
	for start := 0; start < len(ids); start += perBatch {
		batch := ids[start:min(start+perBatch, len(ids))]
		args = append(args[:0], extra...)
		var list strings.Builder
		for i, id := range batch {
			if i > 0 {
				list.WriteByte(',')
			}
			if t.s.flavor == Postgres {
				list.WriteByte('$')
				list.WriteString(strconv.Itoa(len(extra) + i + 1))
			} else {
				list.WriteByte('?') // bare, as in insertSQL
			}
			args = append(args, id)
		}
		q := query(list.String())
		if t.s.flavor == SQLite {
			// Bare "?" are numbered in order: the template's $1, $2… must come first, in order.
			q = pgParam.ReplaceAllString(q, "?")
		}
		if _, err := t.tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// ClearAccountPINs empties the PINs of these accounts, so that PINs moving
// between accounts in one run never meet in the unique index.
func (t *Tx) ClearAccountPINs(ctx context.Context, ids []int64) error {
	err := t.forEachIDBatch(ctx, ids, func(list string) string {
		return `UPDATE accounts SET pin = '' WHERE id IN (` + list + `)`
	})
	if err != nil {
		return fmt.Errorf("store: unable to clear account PINs: %w", err)
	}
	return nil
}

// MarkAccountsDeleted marks these accounts deleted (history kept). Unlike
// DeleteAccount it does not cascade: the caller lists every sub-account.
func (t *Tx) MarkAccountsDeleted(ctx context.Context, ids []int64) error {
	now := t.s.nowMS()
	err := t.forEachIDBatch(ctx, ids, func(list string) string {
		return `UPDATE accounts SET deleted_at = $1, updated_at = $2 WHERE deleted_at IS NULL AND id IN (` + list + `)`
	}, now, now)
	if err != nil {
		return fmt.Errorf("store: unable to delete accounts: %w", err)
	}
	return nil
}

// AccountTransaction is one balance change written in bulk.
type AccountTransaction struct {
	AccountID    int64
	Amount       money.Amount
	BalanceAfter money.Amount
	Comment      string
	Actor        string
}

var transactionColumns = []string{"account_id", "amount", "balance_after", "comment", "actor", "created_at"}

// InsertAccountTransactions records balance changes in bulk.
func (t *Tx) InsertAccountTransactions(ctx context.Context, txs []AccountTransaction) error {
	now := t.s.nowMS()
	if t.s.flavor == Postgres && len(txs) > 0 {
		n := len(txs)
		id, amount, after, ts := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		comment, actor := make([]string, n), make([]string, n)
		for i := range txs {
			x := &txs[i]
			id[i], amount[i], after[i], ts[i], comment[i], actor[i] = x.AccountID, int64(x.Amount), int64(x.BalanceAfter), now, x.Comment, x.Actor
		}
		_, err := t.tx.ExecContext(ctx, `INSERT INTO transactions (`+strings.Join(transactionColumns, ", ")+`)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[])`,
			id, amount, after, comment, actor, ts)
		if err != nil {
			return fmt.Errorf("store: unable to record transactions: %w", err)
		}
		return nil
	}
	return t.bulkInsert(ctx, "transactions", transactionColumns, "", len(txs), func(i int, args []any) []any {
		x := &txs[i]
		return append(args, x.AccountID, int64(x.Amount), int64(x.BalanceAfter), x.Comment, x.Actor, now)
	})
}

// ClaimJobSlot records that the run of job scheduled for slot has been
// taken. It returns true for exactly one caller per slot, across every
// server sharing the database, and false for a slot at or before the last
// one claimed: a scheduled job runs once per slot even with several servers.
func (s *Store) ClaimJobSlot(ctx context.Context, job string, slot time.Time) (bool, error) {
	// Zero-padded so that the text comparison orders slots by time.
	value := fmt.Sprintf("%020d", slot.UnixMilli())
	res, err := s.exec(ctx, `INSERT INTO job_locks (name, holder, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE job_locks.holder < excluded.holder`, "slot:"+job, value, slot.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: unable to claim the %s run of %s: %w", job, slot.Format(time.RFC3339), err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
