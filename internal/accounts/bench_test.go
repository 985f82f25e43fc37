package accounts_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/accounts"
	"github.com/reamprint/ream/internal/accounts/source"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv"
)

// Benchmarks of SPEC §11, on SQLite; set REAM_BENCH_POSTGRES=1 (with
// REAM_TEST_DATABASE_URL) to run them on PostgreSQL too, and REAM_BENCH_1M=1
// for the million-account import:
//
//	go test ./internal/accounts -run '^$' -bench AccountSync -benchtime 3x
//
// Each benchmark also reports "bulk-s": a plain bulk insert of the same
// account rows (one prepared INSERT per row in one transaction) into the
// same kind of fresh database, the yardstick SPEC §11 compares against.

// freshDB is a new migrated database: the store, and the driver name and
// data source name a plain database/sql connection needs.
type freshDB func() (st *store.Store, driver, dsn string)

func benchStores(b *testing.B, fn func(b *testing.B, open freshDB)) {
	b.Run("sqlite", func(b *testing.B) {
		fn(b, func() (*store.Store, string, string) {
			path := filepath.Join(b.TempDir(), "ream.db")
			return openSQLite(b, path), "sqlite", "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)"
		})
	})
	if os.Getenv("REAM_BENCH_POSTGRES") == "1" {
		b.Run("postgres", func(b *testing.B) {
			fn(b, func() (*store.Store, string, string) {
				url := testenv.PostgresURL(b)
				return openStore(b, url, ""), "pgx", url
			})
		})
	}
}

func sampleFile(b testing.TB, dir string, n int) string {
	b.Helper()
	path := filepath.Join(dir, "accounts-"+strconv.Itoa(n)+".txt")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := source.WriteSampleImportFile(f, n, 1); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchFirstImport(b *testing.B, n int) {
	benchStores(b, func(b *testing.B, open freshDB) {
		var bulk, peak float64
		for b.Loop() {
			b.StopTimer()
			st, _, _ := open()
			f := newFixture(b, st)
			path := sampleFile(b, f.root, n)
			runtime.GC()
			resetPeakRSS()
			b.StartTimer()
			r := f.run(b, accounts.Options{Source: accounts.SourceFile, Location: path})
			b.StopTimer()
			peak = max(peak, peakRSSMiB())
			if r.Status != accounts.StatusOK || len(r.Plan.Creates) < n {
				b.Fatalf("%s %q created %d", r.Status, r.Message, len(r.Plan.Creates))
			}
			_, driver, dsn := open()
			bulk += plainBulkInsert(b, driver, dsn, path)
			b.StartTimer()
		}
		b.ReportMetric(bulk/float64(b.N), "bulk-s")
		b.ReportMetric(peak, "peak-MiB")
	})
}

// BenchmarkAccountSync100kFirst imports 100,000 accounts into an empty database (floor: 3 s).
func BenchmarkAccountSync100kFirst(b *testing.B) { benchFirstImport(b, 100_000) }

// BenchmarkAccountSync1M imports 1,000,000 accounts (floor: 30 s, 512 MiB peak).
func BenchmarkAccountSync1M(b *testing.B) {
	if os.Getenv("REAM_BENCH_1M") != "1" {
		b.Skip("set REAM_BENCH_1M=1 to import a million accounts")
	}
	benchFirstImport(b, 1_000_000)
}

// BenchmarkAccountSync100kUnchanged syncs the same 100,000-account file again (floor: 1 s).
func BenchmarkAccountSync100kUnchanged(b *testing.B) {
	benchStores(b, func(b *testing.B, open freshDB) {
		st, _, _ := open()
		f := newFixture(b, st)
		opts := accounts.Options{Source: accounts.SourceFile, Location: sampleFile(b, f.root, 100_000)}
		f.run(b, opts)
		for b.Loop() {
			if r := f.run(b, opts); r.Status != accounts.StatusOK || len(r.Plan.Unchanged) != 100_000 {
				b.Fatalf("%s %q unchanged %d", r.Status, r.Message, len(r.Plan.Unchanged))
			}
		}
	})
}

// BenchmarkAccountSyncDirectory100k scans and imports 100,000 directories (floor: 3 s).
func BenchmarkAccountSyncDirectory100k(b *testing.B) {
	benchStores(b, func(b *testing.B, open freshDB) {
		root, err := filepath.EvalSymlinks(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		if err := source.MakeSampleTree(root, 100_000); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			b.StopTimer()
			st, _, _ := open()
			svc := accounts.NewService(st, newFixture(b, st).set, []string{root}, quiet)
			b.StartTimer()
			r, err := svc.Run(context.Background(), admin, accounts.Options{Source: accounts.SourceDirectory, Location: root, SubAccounts: true})
			if err != nil || r.Status != accounts.StatusOK || len(r.Plan.Creates) != 100_000 {
				b.Fatalf("%v %+v", err, r)
			}
		}
	})
}

// plainBulkInsert inserts the file's accounts as bare rows, one prepared
// INSERT per row in one transaction, into a fresh accounts table through a
// plain database/sql connection, and returns the seconds it took.
// Sub-accounts get their parent's id from a map, as any loader would.
func plainBulkInsert(b *testing.B, driver, dsn, path string) float64 {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	start := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	query := `INSERT INTO accounts (parent_id, name, name_key, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id`
	if driver == "sqlite" {
		query = strings.NewReplacer("$", "?").Replace(query)
	}
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		b.Fatal(err)
	}
	insert := func(parent int64, name string) int64 {
		var id int64
		if err := stmt.QueryRowContext(ctx, parent, name, strings.ToLower(name), start.UnixMilli()).Scan(&id); err != nil {
			b.Fatal(err)
		}
		return id
	}
	parents := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		parent, rest, _ := strings.Cut(line, "\t")
		sub, _, _ := strings.Cut(rest, "\t")
		pid, ok := parents[parent]
		if !ok {
			pid = insert(0, parent)
			parents[parent] = pid
		}
		if sub != "" {
			insert(pid, sub)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start).Seconds()
}

// resetPeakRSS starts the process's peak resident memory (VmHWM) again
// from what it holds now (Linux: /proc/self/clear_refs), so that the peak
// after a run is the run's own, not the sample file's writing or the bulk
// insert's before it.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMiB is the process's peak resident memory (Linux), 0 elsewhere.
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}
