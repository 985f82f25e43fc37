package accounts_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/accounts"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv"
)

// admin may use the sync; clerk (no access to all accounts) may not.
var (
	admin = core.Actor{Name: "admin", AllAccounts: true}
	clerk = core.Actor{Name: "clerk"}
)

// quiet drops the service's log lines in tests.
var quiet = slog.New(slog.DiscardHandler)

// forEachStore runs a test on SQLite and, when configured, PostgreSQL.
func forEachStore(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite(t, filepath.Join(t.TempDir(), "ream.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, openStore(t, testenv.PostgresURL(t), "")) })
}

func openSQLite(t testing.TB, path string) *store.Store { return openStore(t, "", path) }

func openStore(t testing.TB, url, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// fixture is a service over a store with one allowed root.
type fixture struct {
	st   *store.Store
	set  *settings.Settings
	svc  *accounts.Service
	root string
}

func newFixture(t testing.TB, st *store.Store) *fixture {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	set := settings.New(st, 0)
	return &fixture{st: st, set: set, svc: accounts.NewService(st, set, []string{root}, quiet), root: root}
}

// file writes content to name under the root and returns a file source.
func (f *fixture) file(t testing.TB, name, content string) accounts.Options {
	t.Helper()
	path := filepath.Join(f.root, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return accounts.Options{Source: accounts.SourceFile, Location: path}
}

func (f *fixture) run(t testing.TB, opts accounts.Options) *accounts.Report {
	t.Helper()
	r, err := f.svc.Run(context.Background(), admin, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// accounts returns the live accounts by full name.
func (f *fixture) accounts(t testing.TB) map[string]*model.Account {
	t.Helper()
	list, _, err := f.st.ListAccounts(context.Background(), store.AccountFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*model.Account{}
	for _, a := range list {
		out[a.FullName()] = a
	}
	return out
}

// snapshot is every account row and transaction, for "nothing changed" checks.
func (f *fixture) snapshot(t testing.TB) string {
	t.Helper()
	all, err := f.st.SyncAccounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, a := range all {
		b.WriteString(strings.Join([]string{a.Name, a.PINHash, a.Balance.String(), a.AccessGroups, a.Notes, a.SourceID}, "|"))
		if a.DeletedAt != 0 {
			b.WriteString("|deleted")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// pin is how the store keeps PIN p (a keyed hash), for comparing.
func (f *fixture) pin(t testing.TB, p string) string {
	t.Helper()
	h, err := f.st.HashAccountPIN(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// makeAccount creates an account from tmpl; tmpl.PINHash is given as the
// plain PIN and hashed here.
func (f *fixture) makeAccount(t testing.TB, full string, tmpl *model.Account) *model.Account {
	t.Helper()
	c := core.New(f.st, f.set, nil, nil, nil)
	if tmpl != nil && tmpl.PINHash != "" {
		tmpl.PINHash = f.pin(t, tmpl.PINHash)
	}
	a, err := c.CreateAccount(context.Background(), admin, full, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) lastRun(t testing.TB) *model.SyncRun {
	t.Helper()
	runs, _, err := f.st.ListSyncRuns(context.Background(), "", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) == 0 {
		return nil
	}
	r, err := f.st.SyncRunByID(context.Background(), runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func mkdirAll(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
