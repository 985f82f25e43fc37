package server

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// cheapHash keeps password hashing in tests fast; Verify reads the cost
// from each stored hash, so hashes made with the default cost still check.
var cheapHash = auth.HashParams{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

// syncBuffer is an output stream that a running server writes to while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// result is what one run of the ream command line printed.
type result struct {
	code           int
	stdout, stderr string
}

// ream runs the command line as a user would type it, with only the given
// environment and standard input.
func ream(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Environ: env})
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// mustRun runs the command line and fails the test unless it exits 0.
func mustRun(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	r := ream(t, env, stdin, args...)
	if r.code != 0 {
		t.Fatalf("ream %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// loadConfig builds a configuration the way Main does, from environment
// entries and flags.
func loadConfig(t testing.TB, env []string, args ...string) *config.Config {
	t.Helper()
	cfg, rest, err := config.Load("", env, args)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if len(rest) > 0 {
		t.Fatalf("config: unexpected arguments %q", rest)
	}
	return cfg
}

// openApp builds an App over cfg's database with cheap password hashing;
// it is closed when the test ends.
func openApp(t testing.TB, cfg *config.Config, log *slog.Logger) *App {
	t.Helper()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx := context.Background()
	s, err := store.Open(ctx, cfg.Database.URL, cfg.SQLitePath())
	if err != nil {
		t.Fatal(err)
	}
	app, err := newApp(ctx, cfg, log, s, cheapHash)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app
}

// createAccount adds a top-level shared account straight through the store.
func createAccount(t testing.TB, s *store.Store, name string) {
	t.Helper()
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.CreateAccount(context.Background(), &model.Account{Name: name, Enabled: true})
	})
	if err != nil {
		t.Fatalf("create account %s: %v", name, err)
	}
}

// hasAccount reports whether the SQLite database file holds a live account.
func hasAccount(t testing.TB, dbFile, name string) bool {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, "", dbFile)
	if err != nil {
		t.Fatalf("open %s: %v", dbFile, err)
	}
	defer s.Close()
	_, err = s.AccountByName(ctx, name)
	switch {
	case err == nil:
		return true
	case errors.Is(err, store.ErrNotFound):
		return false
	}
	t.Fatalf("look up account %s in %s: %v", name, dbFile, err)
	return false
}

// pretendNewerBinaryMigrated records a schema version this binary does not
// know, as a newer Ream would have. driver is "sqlite" or "pgx" (both are
// registered by the store package).
func pretendNewerBinaryMigrated(t testing.TB, driver, dsn string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO schema_version (version) VALUES (` + strconv.Itoa(store.SchemaVersion()+1) + `)`); err != nil {
		t.Fatalf("insert a newer schema version: %v", err)
	}
}
