package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/testenv"
)

// bulkAccounts is how many accounts each benchmark iteration creates: the
// size of the shared account sync target in SPEC §11.
const bulkAccounts = 100_000

// BenchmarkBulkAccountCreate creates 100,000 shared accounts in one
// transaction three ways: through Tx.CreateAccount (what the admin page and
// the API use), as a plain prepared one-row INSERT of the same rows, and as
// multi-row INSERTs through bulkInsert (what shared account sync uses): the
// floors that SPEC §11 compares imports with. Each iteration gets an empty
// database; opening and migrating it is not timed.
func BenchmarkBulkAccountCreate(b *testing.B) {
	databases := []struct {
		name string
		open func(b *testing.B) *Store
	}{
		{"sqlite", openBenchSQLite},
		{"postgres", openBenchPostgres},
	}
	ways := []struct {
		name   string
		create func(ctx context.Context, tx *Tx, n int) error
	}{
		{"CreateAccount", createAccountsOneByOne},
		{"plain-insert", insertAccountsPlain},
		{"multi-row-insert", insertAccountsMultiRow},
	}
	for _, db := range databases {
		b.Run(db.name, func(b *testing.B) {
			for _, way := range ways {
				b.Run(way.name, func(b *testing.B) {
					ctx := context.Background()
					for i := 0; i < b.N; i++ {
						b.StopTimer()
						s := db.open(b)
						b.StartTimer()
						if err := s.InTx(ctx, func(tx *Tx) error { return way.create(ctx, tx, bulkAccounts) }); err != nil {
							b.Fatal(err)
						}
						b.StopTimer()
						if n, err := s.CountAccounts(ctx); err != nil || n != bulkAccounts {
							b.Fatalf("%d accounts after the run (err %v), want %d", n, err, bulkAccounts)
						}
						s.Close()
						b.StartTimer()
					}
					b.ReportMetric(float64(bulkAccounts*b.N)/b.Elapsed().Seconds(), "rows/s")
				})
			}
		})
	}
}

func benchAccountName(i int) string { return fmt.Sprintf("Account %06d", i) }

func createAccountsOneByOne(ctx context.Context, tx *Tx, n int) error {
	for i := range n {
		if err := tx.CreateAccount(ctx, &model.Account{Name: benchAccountName(i), Enabled: true}); err != nil {
			return err
		}
	}
	return nil
}

// insertAccountsPlain writes the same columns CreateAccount writes, with one
// prepared statement and nothing else.
func insertAccountsPlain(ctx context.Context, tx *Tx, n int) error {
	stmt, err := tx.prepare(ctx, `INSERT INTO accounts (parent_id, name, name_key, enabled, disabled_until, pin, balance, overdraft,
		restricted, access_users, access_groups, invoice_option, comment_option, notes, source, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$16)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	now := tx.s.nowMS()
	for i := range n {
		name := benchAccountName(i)
		if _, err := stmt.ExecContext(ctx, int64(0), name, AccountKey(name), true, nil, "", int64(0), int64(0), false, "", "",
			model.InvoiceUserOff, model.CommentOptional, "", "", now); err != nil {
			return fmt.Errorf("insert account %s: %w", name, err)
		}
	}
	return nil
}

// benchAccountColumns are the columns CreateAccount writes.
var benchAccountColumns = []string{"parent_id", "name", "name_key", "enabled", "disabled_until", "pin", "balance", "overdraft",
	"restricted", "access_users", "access_groups", "invoice_option", "comment_option", "notes", "source", "created_at", "updated_at"}

// insertAccountsMultiRow writes the same rows as insertAccountsPlain in
// multi-row statements.
func insertAccountsMultiRow(ctx context.Context, tx *Tx, n int) error {
	now := tx.s.nowMS()
	return tx.bulkInsert(ctx, "accounts", benchAccountColumns, "", n, func(i int, args []any) []any {
		name := benchAccountName(i)
		return append(args, int64(0), name, AccountKey(name), true, nil, "", int64(0), int64(0), false, "", "",
			model.InvoiceUserOff, model.CommentOptional, "", "", now, now)
	})
}

func openBenchSQLite(b *testing.B) *Store {
	b.Helper()
	s, err := Open(context.Background(), "", filepath.Join(b.TempDir(), "ream.db"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

// openBenchPostgres runs only when REAM_TEST_DATABASE_URL is set: a
// benchmark run is not a test run, so a missing server is never a failure.
func openBenchPostgres(b *testing.B) *Store {
	b.Helper()
	if os.Getenv(testenv.DatabaseURLEnv) == "" {
		b.Skip(testenv.DatabaseURLEnv + " not set; PostgreSQL benchmark skipped")
	}
	s, err := Open(context.Background(), testenv.PostgresURL(b), "")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}
