// Package store is Ream's storage: one concrete type over database/sql with
// hand-written SQL, on embedded SQLite or PostgreSQL. Queries are written once
// in PostgreSQL syntax; the flavor layer rewrites them for SQLite.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	"modernc.org/sqlite"               // SQLite driver "sqlite"
)

// Flavor names the SQL dialect of a Store.
type Flavor int

// The two supported databases.
const (
	SQLite Flavor = iota
	Postgres
)

func (f Flavor) String() string {
	if f == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Store is Ream's database. Safe for concurrent use.
type Store struct {
	flavor Flavor
	w      *sql.DB // writes (one connection on SQLite)
	r      *sql.DB // reads (the same pool on PostgreSQL)
	path   string  // SQLite file, for backups
	now    func() time.Time

	rewriteMu sync.RWMutex
	rewritten map[string]string

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared reads of the hot paths

	pinKeyMu sync.Mutex
	pinKey   []byte // see AccountPINKey

	beat heartbeat // renews this process's running sync runs

	// The card cache (SQLite only), see CacheCardLookups.
	readDSN    string
	cardMu     sync.Mutex
	cardCacheP atomic.Pointer[cardCache]
}

// ErrNotFound is returned when the object asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a change would break a uniqueness rule.
var ErrConflict = errors.New("already exists")

func init() {
	// Deterministic, so that SQLite may use it in the expression indexes
	// of the schema. Every connection Ream opens has it.
	err := sqlite.RegisterDeterministicScalarFunction("ream_lower", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return strings.ToLower(v), nil
		case []byte:
			return strings.ToLower(string(v)), nil
		default:
			return v, nil
		}
	})
	if err != nil {
		panic("store: unable to register ream_lower: " + err.Error())
	}
}

// Open opens (creating if needed) the database: PostgreSQL when url is a
// postgres:// URL, otherwise SQLite at sqlitePath. It does not migrate.
func Open(ctx context.Context, url, sqlitePath string) (*Store, error) {
	s := &Store{now: time.Now, rewritten: map[string]string{}, stmts: map[string]*sql.Stmt{}}
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		s.flavor = Postgres
		db, err := sql.Open("pgx", url)
		if err != nil {
			return nil, fmt.Errorf("store: unable to open PostgreSQL: %w", err)
		}
		db.SetMaxOpenConns(16)
		// As many idle as open, closed after five idle minutes: with four,
		// a burst of more concurrent requests (copiers behind a load
		// balancer) dialled and authenticated a new connection for most
		// of them — card lookups at 8 connections went from 2,963/s (p99
		// 19.5 ms) to 7,772/s (p99 3.7 ms) with all sixteen kept.
		db.SetMaxIdleConns(16)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s.w, s.r = db, db
	} else if url != "" {
		return nil, fmt.Errorf("store: database.url %q is not a postgres:// URL (leave it empty for embedded SQLite)", redactURL(url))
	} else {
		if err := os.MkdirAll(filepath.Dir(sqlitePath), 0o700); err != nil {
			return nil, fmt.Errorf("store: unable to create data directory: %w", err)
		}
		s.path = sqlitePath
		// temp_store in memory keeps the sort and index work of big syncs off the disk.
		pragmas := "_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=temp_store(MEMORY)"
		w, err := sql.Open("sqlite", "file:"+sqlitePath+"?"+pragmas+"&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("store: unable to open SQLite: %w", err)
		}
		w.SetMaxOpenConns(1) // one writer: SQLite serialises writes anyway
		w.SetConnMaxLifetime(0)
		s.readDSN = "file:" + sqlitePath + "?" + pragmas + "&_pragma=query_only(1)"
		r, err := sql.Open("sqlite", s.readDSN)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("store: unable to open SQLite: %w", err)
		}
		// As many idle as open: database/sql keeps only two by default,
		// and a third concurrent reader would open (and parse the schema
		// of) a new SQLite connection and drop its page cache each time.
		r.SetMaxOpenConns(4)
		r.SetMaxIdleConns(4)
		s.w, s.r = w, r
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.w.PingContext(pingCtx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: unable to reach the %s database: %w", s.flavor, err)
	}
	return s, nil
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "xxxxx" + u[i:]
		}
	}
	return u
}

// Flavor reports which database the store uses.
func (s *Store) Flavor() Flavor { return s.flavor }

// Close closes the database.
func (s *Store) Close() error {
	s.stopHeartbeat()
	s.cardMu.Lock()
	if c := s.cardCacheP.Swap(nil); c != nil {
		c.close()
	}
	s.cardMu.Unlock()
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = map[string]*sql.Stmt{}
	s.stmtMu.Unlock()
	err := s.w.Close()
	if s.r != s.w {
		if rerr := s.r.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// SetClock replaces the clock, for tests.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Now is the store's clock, in Unix milliseconds.
func (s *Store) nowMS() int64 { return s.now().UnixMilli() }

// Ping checks that the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }

var pgParam = regexp.MustCompile(`\$(\d+)`)

// q rewrites a PostgreSQL-syntax query for the store's flavor. SQLite reads
// "$1" as a named parameter whose index is its order of first appearance, so
// it becomes the explicitly numbered "?1".
func (s *Store) q(query string) string {
	if s.flavor == Postgres {
		return query
	}
	s.rewriteMu.RLock()
	out, ok := s.rewritten[query]
	s.rewriteMu.RUnlock()
	if ok {
		return out
	}
	out = pgParam.ReplaceAllString(query, "?$1")
	// SQLite's own lower() folds ASCII only; ream_lower folds like Go and
	// PostgreSQL. Its writer serialises transactions, so row locks are moot,
	// and its default ordering is already bytewise (PostgreSQL's "C").
	out = strings.ReplaceAll(out, "LOWER(", "ream_lower(")
	out = strings.ReplaceAll(out, " FOR UPDATE SKIP LOCKED", "")
	out = strings.ReplaceAll(out, " FOR UPDATE", "")
	out = strings.ReplaceAll(out, ` COLLATE "C"`, "")
	s.rewriteMu.Lock()
	s.rewritten[query] = out
	s.rewriteMu.Unlock()
	return out
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// Tx is a database transaction with the store's query rewriting. Every
// multi-row change (a sync run, a bulk action) happens inside one Tx.
type Tx struct {
	s  *Store
	tx *sql.Tx
	// bulk holds the multi-row INSERTs prepared in this transaction,
	// by query text; database/sql closes them when the transaction ends.
	bulk map[string]*sql.Stmt
	// restoreCache puts back the SQLite page cache that growCacheForTx
	// raised; InTx calls it before the transaction ends.
	restoreCache func()
}

// growCacheForTx raises the SQLite page cache until the transaction ends,
// for a bulk load that arrives in many calls: with the default 2 MiB, the
// pages of 100,000 new users spill to the WAL and are read back mid-load.
func (t *Tx) growCacheForTx(ctx context.Context) error {
	if t.s.flavor != SQLite || t.restoreCache != nil {
		return nil
	}
	restore, err := t.growCache(ctx)
	if err != nil {
		return err
	}
	t.restoreCache = restore
	return nil
}

// bulkStmt returns the transaction's prepared statement for a multi-row
// query, preparing it on first use: a bulk load that arrives in many
// batches (a user sync inserts each page of the directory as it is read)
// parses each statement once, not once a batch.
func (t *Tx) bulkStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := t.bulk[query]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if t.bulk == nil {
		t.bulk = make(map[string]*sql.Stmt)
	}
	t.bulk[query] = st
	return st, nil
}

func (t *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.s.q(query), args...)
}

func (t *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.s.q(query), args...)
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.s.q(query), args...)
}

// Prepare prepares a statement inside the transaction (for bulk work).
func (t *Tx) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, t.s.q(query))
}

// endBulk undoes growCacheForTx, once.
func (t *Tx) endBulk() {
	if t.restoreCache != nil {
		t.restoreCache()
		t.restoreCache = nil
	}
}

// Store returns the store the transaction belongs to.
func (t *Tx) Store() *Store { return t.s }

// InTx runs fn in one write transaction: committed when fn returns nil, rolled
// back otherwise (and on panic).
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: unable to begin transaction: %w", err)
	}
	tx := &Tx{s: s, tx: sqlTx}
	defer func() {
		if p := recover(); p != nil {
			tx.endBulk()
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.endBulk()
			_ = sqlTx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	tx.endBulk()
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: unable to commit: %w", err)
	}
	return nil
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.w.ExecContext(ctx, s.q(query), args...)
}

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.r.QueryContext(ctx, s.q(query), args...)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.r.QueryRowContext(ctx, s.q(query), args...)
}

// preparedRow runs a read through a statement prepared once, for the hot
// paths (card lookups): parsing the SQL again on every call costs more
// than the lookup itself.
func (s *Store) preparedRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	s.stmtMu.Lock()
	st, ok := s.stmts[query]
	if !ok {
		var err error
		st, err = s.r.PrepareContext(ctx, s.q(query))
		if err != nil {
			s.stmtMu.Unlock()
			return nil, fmt.Errorf("store: unable to prepare: %w", err)
		}
		s.stmts[query] = st
	}
	s.stmtMu.Unlock()
	return st.QueryRowContext(ctx, args...), nil
}

// isUniqueViolation reports whether err is a uniqueness failure on either database.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || // SQLite
		strings.Contains(msg, "SQLSTATE 23505") || strings.Contains(msg, "duplicate key value") // PostgreSQL
}

func msToTime(ms int64) time.Time { return time.UnixMilli(ms) }

func msPtr(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := time.UnixMilli(ms.Int64)
	return &t
}

// likePattern escapes a search string for LIKE ... ESCAPE '\'.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}
