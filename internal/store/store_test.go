package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/metrics"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv"
)

// forEachStore runs one conformance test on every backend: SQLite always,
// PostgreSQL when REAM_TEST_DATABASE_URL is set.
func forEachStore(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, OpenSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, openPostgres(t))
	})
}

// OpenSQLite opens a migrated store on a fresh SQLite file.
func OpenSQLite(t testing.TB) *store.Store {
	t.Helper()
	return openSQLiteFile(t, filepath.Join(t.TempDir(), "ream.db"))
}

// openSQLiteFile opens the SQLite file (creating it) and migrates it; the
// store closes when the test ends.
func openSQLiteFile(t testing.TB, file string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "", file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func openPostgres(t testing.TB) *store.Store {
	t.Helper()
	url := testenv.PostgresURL(t)
	s, err := store.Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func mustTx(t *testing.T, s *store.Store, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := s.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateIsIdempotentAndRefusesNewerSchema(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		n, err := s.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second migrate applied %d, err %v", n, err)
		}
		v, err := s.CurrentVersion(ctx)
		if err != nil || v != store.SchemaVersion() {
			t.Fatalf("version %d, err %v", v, err)
		}
		if err := s.ForceSchemaVersionForTest(ctx, store.SchemaVersion()+1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(ctx); !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("migrate on newer schema: %v, want ErrSchemaTooNew", err)
		}
	})
}

func TestUsersAndCardUniqueness(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		alice := &model.User{Username: " Alice ", FullName: "Alice A", Email: "Alice@Example.org", PrimaryCard: "1001", SecondaryCard: "A2"}
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateUser(ctx, alice) })
		if alice.Username != "alice" {
			t.Fatalf("username stored as %q", alice.Username)
		}
		got, err := s.UserByName(ctx, "ALICE")
		if err != nil || got.PrimaryCard != "1001" || got.SecondaryCard != "A2" {
			t.Fatalf("UserByName: %+v %v", got, err)
		}
		// A number belongs to at most one user, across both fields.
		bob := &model.User{Username: "bob", PrimaryCard: "A2"}
		err = s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, bob) })
		if !errors.Is(err, store.ErrCardInUse) {
			t.Fatalf("second owner of A2: %v", err)
		}
		if _, err := s.UserByName(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("bob half-created: %v", err)
		}
		bob.PrimaryCard = "2002"
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateUser(ctx, bob) })
		// The failed card change leaves the transaction usable (savepoint).
		mustTx(t, s, func(tx *store.Tx) error {
			if err := tx.SetUserCard(ctx, bob.ID, store.SecondaryCard, "1001", model.CardOriginAdmin); !errors.Is(err, store.ErrCardInUse) {
				t.Errorf("taking alice's card: %v", err)
			}
			return tx.SetUserCard(ctx, bob.ID, store.SecondaryCard, "B2", model.CardOriginAdmin)
		})
		for card, want := range map[string]string{"1001": "alice", "A2": "alice", "2002": "bob", "B2": "bob"} {
			name, err := s.UsernameByCard(ctx, card)
			if err != nil || name != want {
				t.Errorf("card %s: %q %v, want %s", card, name, err, want)
			}
		}
		if _, err := s.UsernameByCard(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing card: %v", err)
		}
		if err := s.CreateUser(ctx, &model.User{Username: "ALICE"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate username: %v", err)
		}
		if u, err := s.UserByEmail(ctx, "alice@example.ORG"); err != nil || u.Username != "alice" {
			t.Errorf("by email: %v %v", u, err)
		}
		users, total, err := s.ListUsers(ctx, store.UserFilter{Search: "li", Limit: 10})
		if err != nil || total != 1 || len(users) != 1 || users[0].Username != "alice" {
			t.Errorf("search: %d %v %v", total, users, err)
		}
		// Deletion is a mark: the name and the card numbers become free again.
		mustTx(t, s, func(tx *store.Tx) error { return tx.DeleteUser(ctx, alice, false) })
		if _, err := s.UserByName(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted user still found: %v", err)
		}
		if old, err := s.UserByID(ctx, alice.ID); err != nil || old.DeletedAt == nil {
			t.Errorf("deleted user lost: %v %v", old, err)
		}
		again := &model.User{Username: "alice", PrimaryCard: "1001"}
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateUser(ctx, again) })
		if again.ID == alice.ID {
			t.Error("a new alice reused the old id")
		}
		n, _ := s.CountUsers(ctx)
		if n != 2 {
			t.Errorf("CountUsers = %d", n)
		}
	})
}

func TestBalancesAreExactAndRecorded(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := &model.User{Username: "carol"}
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })
		tenth, _ := money.Parse("0.1")
		for i := 0; i < 10; i++ {
			mustTx(t, s, func(tx *store.Tx) error {
				_, err := tx.AdjustUserBalance(ctx, u.ID, tenth, false, "top-up", "admin")
				return err
			})
		}
		got, _ := s.UserByName(ctx, "carol")
		if got.Balance.String() != "1.00" {
			t.Fatalf("ten times 0.1 = %s", got.Balance)
		}
		five, _ := money.Parse("5")
		mustTx(t, s, func(tx *store.Tx) error {
			_, err := tx.AdjustUserBalance(ctx, u.ID, five, true, "set", "admin")
			return err
		})
		txs, err := s.Transactions(ctx, u.ID, 0, 100)
		if err != nil || len(txs) != 11 {
			t.Fatalf("transactions: %d %v", len(txs), err)
		}
		if txs[0].Amount.String() != "4.00" || txs[0].BalanceAfter.String() != "5.00" {
			t.Errorf("set balance recorded as %s -> %s", txs[0].Amount, txs[0].BalanceAfter)
		}
	})
}

func TestAccountsSubAccountsDeleteRestore(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		parent := &model.Account{Name: "Client 1", Enabled: true, PINHash: "100", AccessGroups: []string{model.GroupAllUsers}}
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateAccount(ctx, parent) })
		sub := &model.Account{ParentID: parent.ID, Name: "Project 1", Enabled: true, AccessUsers: []string{"alice", "bob"}}
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateAccount(ctx, sub) })
		got, err := s.AccountByName(ctx, `client 1\PROJECT 1`)
		if err != nil || got.ID != sub.ID || got.FullName() != `Client 1\Project 1` || len(got.AccessUsers) != 2 {
			t.Fatalf("by name: %+v %v", got, err)
		}
		if got.InvoiceOption != model.InvoiceUserOff || got.CommentOption != model.CommentOptional {
			t.Errorf("defaults: %s %s", got.InvoiceOption, got.CommentOption)
		}
		dup := &model.Account{Name: "CLIENT 1"}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateAccount(ctx, dup) }); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate name: %v", err)
		}
		pinDup := &model.Account{Name: "Client 2", PINHash: "100"}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateAccount(ctx, pinDup) }); !errors.Is(err, store.ErrPINInUse) {
			t.Errorf("duplicate PIN: %v", err)
		}
		list, total, err := s.ListAccounts(ctx, store.AccountFilter{Limit: 10})
		if err != nil || total != 2 || list[0].ID != parent.ID || list[1].ID != sub.ID {
			t.Fatalf("list: %d %v", total, err)
		}
		amt, _ := money.Parse("12.5")
		mustTx(t, s, func(tx *store.Tx) error {
			_, err := tx.AdjustAccountBalance(ctx, sub.ID, amt, false, "", "admin")
			return err
		})
		// Deleting the parent marks its sub-accounts too; restore brings back the same id.
		mustTx(t, s, func(tx *store.Tx) error { return tx.DeleteAccount(ctx, parent.ID) })
		if _, err := s.AccountByName(ctx, "Client 1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted account still found: %v", err)
		}
		deleted, n, _ := s.ListAccounts(ctx, store.AccountFilter{Deleted: true, Limit: 10})
		if n != 2 || len(deleted) != 2 {
			t.Errorf("deleted list has %d", n)
		}
		mustTx(t, s, func(tx *store.Tx) error { return tx.RestoreAccount(ctx, sub.ID) })
		back, err := s.AccountByName(ctx, `Client 1\Project 1`)
		if err != nil || back.ID != sub.ID || back.Balance.String() != "12.50" {
			t.Fatalf("restored: %+v %v", back, err)
		}
		txs, _ := s.Transactions(ctx, 0, sub.ID, 10)
		if len(txs) != 1 {
			t.Errorf("history after restore: %d", len(txs))
		}
		// The name may be reused while deleted; restore then conflicts.
		mustTx(t, s, func(tx *store.Tx) error { return tx.DeleteAccount(ctx, parent.ID) })
		reuse := &model.Account{Name: "Client 1"}
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateAccount(ctx, reuse) })
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.RestoreAccount(ctx, parent.ID) }); !errors.Is(err, store.ErrConflict) {
			t.Errorf("restore over a live name: %v", err)
		}
	})
}

func TestGroupsAndAccessRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u1, u2 := &model.User{Username: "dave"}, &model.User{Username: "erin", Internal: true}
		g := &model.Group{Name: "Staff"}
		mustTx(t, s, func(tx *store.Tx) error {
			for _, u := range []*model.User{u1, u2} {
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
			}
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
			return tx.SetGroupMembers(ctx, g.ID, []int64{u1.ID})
		})
		m, err := s.GroupMembers(ctx, "staff", 0, 10)
		if err != nil || len(m) != 1 || m[0] != "dave" {
			t.Fatalf("members %v %v", m, err)
		}
		all, _ := s.GroupMembers(ctx, "!!All Users!!", 0, 10)
		internal, _ := s.GroupMembers(ctx, model.GroupInternalUsers, 0, 10)
		if len(all) != 2 || len(internal) != 1 || internal[0] != "erin" {
			t.Errorf("pseudo-groups: %v %v", all, internal)
		}
		groups, _ := s.UserGroups(ctx, u1.ID)
		if len(groups) != 1 || groups[0] != "Staff" {
			t.Errorf("user groups %v", groups)
		}
		acc := &model.Account{Name: "Staff only", Enabled: true, AccessGroups: []string{"Staff"}}
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateAccount(ctx, acc) })
		for user, want := range map[string]int{"dave": 1, "erin": 0} {
			gs, _ := s.UserGroups(ctx, map[string]int64{"dave": u1.ID, "erin": u2.ID}[user])
			list, err := s.AccountsForUser(ctx, user, gs, 0, 10)
			if err != nil || len(list) != want {
				t.Errorf("%s sees %d accounts (%v)", user, len(list), err)
			}
		}
		mustTx(t, s, func(tx *store.Tx) error { return tx.SetAdminAccess(ctx, "group", "STAFF", true) })
		if admin, allAcc, err := s.IsAdmin(ctx, "Dave"); !admin || !allAcc || err != nil {
			t.Errorf("dave admin through group: %v %v %v", admin, allAcc, err)
		}
		if admin, _, _ := s.IsAdmin(ctx, "erin"); admin {
			t.Error("erin is admin")
		}
	})
}

func TestSessionsLocksTasksSettings(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		s.SetClock(func() time.Time { return now })
		frank := &model.User{Username: "frank"}
		namedAdmin := &model.User{Username: "admin"} // possible before the name was reserved
		mustTx(t, s, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, frank); err != nil {
				return err
			}
			return tx.CreateUser(ctx, namedAdmin)
		})
		for _, h := range []string{"h1", "h2"} {
			if err := s.CreateSession(ctx, &store.Session{TokenHash: h, Kind: "user", UserID: frank.ID, Username: "frank", CSRFSecret: "x", ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateSession(ctx, &store.Session{TokenHash: "user-session", Kind: "user", Username: "frank", CSRFSecret: "x", ExpiresAt: now.Add(time.Hour)}); err == nil {
			t.Error("a portal session without a user was stored")
		}
		// The built-in admin's session and that of a user called "admin" are
		// two identities: ending one leaves the other.
		for _, se := range []*store.Session{
			{TokenHash: "builtin", Kind: "admin", Username: "admin", CSRFSecret: "x", ExpiresAt: now.Add(time.Hour)},
			{TokenHash: "named-admin", Kind: "user", UserID: namedAdmin.ID, Username: "admin", CSRFSecret: "x", ExpiresAt: now.Add(time.Hour)},
		} {
			if err := s.CreateSession(ctx, se); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := s.SessionByTokenHash(ctx, "builtin"); err != nil || got.UserID != 0 {
			t.Errorf("built-in admin session = %+v, %v", got, err)
		}
		if err := s.EndSessions(ctx, "", namedAdmin.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByTokenHash(ctx, "builtin"); err != nil {
			t.Errorf("ending the sessions of user %q ended the built-in admin's: %v", "admin", err)
		}
		mustTx(t, s, func(tx *store.Tx) error { return tx.EndBuiltInAdminSessions(ctx, "") })
		if _, err := s.SessionByTokenHash(ctx, "builtin"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("built-in admin session survived EndBuiltInAdminSessions: %v", err)
		}
		if err := s.EndSessions(ctx, "user", frank.ID, "h1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByTokenHash(ctx, "h1"); err != nil {
			t.Errorf("kept session gone: %v", err)
		}
		if _, err := s.SessionByTokenHash(ctx, "h2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("other session survived: %v", err)
		}
		s.SetClock(func() time.Time { return now.Add(2 * time.Hour) })
		if _, err := s.SessionByTokenHash(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired session accepted: %v", err)
		}
		s.SetClock(time.Now)

		ok1, _ := s.TryLock(ctx, "sync", "server-a", time.Minute)
		ok2, _ := s.TryLock(ctx, "sync", "server-b", time.Minute)
		ok3, _ := s.TryLock(ctx, "sync", "server-a", time.Minute)
		if !ok1 || ok2 || !ok3 {
			t.Errorf("lock: %v %v %v", ok1, ok2, ok3)
		}
		_ = s.Unlock(ctx, "sync", "server-a")
		if ok, _ := s.TryLock(ctx, "sync", "server-b", time.Minute); !ok {
			t.Error("released lock not taken")
		}

		id, err := s.CreateTask(ctx, "import", "Starting")
		if err != nil {
			t.Fatal(err)
		}
		_ = s.AppendTaskMessage(ctx, id, "Done", true)
		task, err := s.LatestTask(ctx)
		if err != nil || !task.Completed || task.Message != "Starting\nDone" {
			t.Errorf("task: %+v %v", task, err)
		}

		mustTx(t, s, func(tx *store.Tx) error { return tx.SetSetting(ctx, "a", "1") })
		mustTx(t, s, func(tx *store.Tx) error { return tx.SetSetting(ctx, "a", "2") })
		if v, ok, err := s.Setting(ctx, "a"); v != "2" || !ok || err != nil {
			t.Errorf("setting %q %v %v", v, ok, err)
		}
		mustTx(t, s, func(tx *store.Tx) error {
			return tx.Audit(ctx, model.AuditEntry{Actor: "admin", Action: "account.create", Target: "X"})
		})
		entries, total, err := s.AuditLog(ctx, "ACCOUNT", 0, 10)
		if err != nil || total != 1 || entries[0].Target != "X" {
			t.Errorf("audit: %v %d %v", entries, total, err)
		}
		run := &model.SyncRun{Kind: "accounts", Source: "file", StartedBy: "admin"}
		if err := s.StartSyncRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		run.Status, run.Counts.Created, run.Report = "ok", 3, "line 1: created"
		if err := s.FinishSyncRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		back, err := s.SyncRunByID(ctx, run.ID)
		if err != nil || back.Counts.Created != 3 || back.Report != "line 1: created" || back.FinishedAt == nil {
			t.Errorf("sync run: %+v %v", back, err)
		}
	})
}

func TestTransactionRollsBackEverything(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateAccount(ctx, &model.Account{Name: "ghost"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if _, err := s.AccountByName(ctx, "ghost"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("rolled-back account exists: %v", err)
		}
	})
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	s := OpenSQLite(t)
	ctx := context.Background()
	mustTx(t, s, func(tx *store.Tx) error { return tx.CreateAccount(ctx, &model.Account{Name: "kept"}) })
	file := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, file); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, file); err == nil {
		t.Error("backup overwrote an existing file")
	}
	copy, err := store.Open(ctx, "", file)
	if err != nil {
		t.Fatal(err)
	}
	defer copy.Close()
	if _, err := copy.AccountByName(ctx, "kept"); err != nil {
		t.Errorf("backup lacks the account: %v", err)
	}
}

func TestConcurrentBalanceAdjustmentsAllCount(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := &model.User{Username: "greta"}
		acc := &model.Account{Name: "Shared"}
		mustTx(t, s, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			return tx.CreateAccount(ctx, acc)
		})
		one, _ := money.Parse("1")
		const n = 40
		errs := make(chan error, 2*n)
		for i := 0; i < n; i++ {
			go func() {
				errs <- s.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.AdjustUserBalance(ctx, u.ID, one, false, "", "t")
					return err
				})
			}()
			go func() {
				errs <- s.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.AdjustAccountBalance(ctx, acc.ID, one, false, "", "t")
					return err
				})
			}()
		}
		for i := 0; i < 2*n; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		gotU, _ := s.UserByName(ctx, "greta")
		gotA, _ := s.AccountByName(ctx, "Shared")
		if gotU.Balance.String() != "40.00" || gotA.Balance.String() != "40.00" {
			t.Errorf("after %d concurrent +1: user %s, account %s", n, gotU.Balance, gotA.Balance)
		}
	})
}

func TestRenameUserCarriesEverythingThatNamesThem(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := &model.User{Username: "hana"}
		acc := &model.Account{Name: "Matter", AccessUsers: []string{"bob", "Hana"}}
		mustTx(t, s, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.CreateAccount(ctx, acc); err != nil {
				return err
			}
			return tx.SetAdminAccess(ctx, "user", "hana", true)
		})
		if err := s.CreateSession(ctx, &store.Session{TokenHash: "hs", Kind: "admin", UserID: u.ID, Username: "hana", CSRFSecret: "x", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		mustTx(t, s, func(tx *store.Tx) error { return tx.RenameUser(ctx, u.ID, "Hana2") })
		if se, err := s.SessionByTokenHash(ctx, "hs"); err != nil || se.UserID != u.ID || se.Username != "hana2" {
			t.Errorf("session after rename: %+v %v", se, err)
		}
		if admin, _, _ := s.IsAdmin(ctx, "hana2"); !admin {
			t.Error("admin access did not follow the rename")
		}
		// Whoever gets the old name later inherits nothing.
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateUser(ctx, &model.User{Username: "hana"}) })
		if admin, _, _ := s.IsAdmin(ctx, "hana"); admin {
			t.Error("a new user with the old name is admin")
		}
		got, _ := s.AccountByName(ctx, "Matter")
		if strings.Join(got.AccessUsers, ",") != "bob,hana2" {
			t.Errorf("access list after rename: %v", got.AccessUsers)
		}
	})
}

func TestCaseInsensitiveLookupsFoldUnicodeOnBothDatabases(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		mustTx(t, s, func(tx *store.Tx) error {
			return tx.CreateUser(ctx, &model.User{Username: "zoe", FullName: "Åsa Öberg", Email: "Åsa@Example.org", Alias: "ÉLODIE"})
		})
		if names, err := s.UsernamesByFullName(ctx, "åsa öBERG"); err != nil || len(names) != 1 {
			t.Errorf("by full name: %v %v", names, err)
		}
		if u, err := s.UserByEmail(ctx, "åsa@example.org"); err != nil || u.Username != "zoe" {
			t.Errorf("by email: %v %v", u, err)
		}
		if u, err := s.UserByAlias(ctx, "élodie"); err != nil || u.Username != "zoe" {
			t.Errorf("by alias: %v %v", u, err)
		}
		if _, total, err := s.ListUsers(ctx, store.UserFilter{Search: "ÖBERG", Limit: 10}); err != nil || total != 1 {
			t.Errorf("search: %d %v", total, err)
		}
	})
}

func TestListingOrderIsTheSameOnBothDatabases(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		names := []string{"b-c", "bb", "b_a", "a.z", "ab", "Ä1"}
		mustTx(t, s, func(tx *store.Tx) error {
			for _, n := range names {
				if err := tx.CreateUser(ctx, &model.User{Username: n}); err != nil {
					return err
				}
				if err := tx.CreateGroup(ctx, &model.Group{Name: n}); err != nil {
					return err
				}
				if err := tx.CreateAccount(ctx, &model.Account{Name: n}); err != nil {
					return err
				}
			}
			return nil
		})
		want := "a.z,ab,b-c,b_a,bb,ä1" // bytewise, whatever the database's locale
		got, _ := s.ListUsernames(ctx, 0, 10)
		if strings.Join(got, ",") != want {
			t.Errorf("usernames: %v", got)
		}
		groups, _ := s.ListGroups(ctx, 0, 10)
		var gn []string
		for _, g := range groups {
			gn = append(gn, strings.ToLower(g.Name))
		}
		if strings.Join(gn, ",") != want {
			t.Errorf("groups: %v", gn)
		}
		accs, _, _ := s.ListAccounts(ctx, store.AccountFilter{Limit: 10})
		var an []string
		for _, a := range accs {
			an = append(an, strings.ToLower(a.Name))
		}
		if strings.Join(an, ",") != want {
			t.Errorf("accounts: %v", an)
		}
	})
}

func TestFinishedSyncRunsAreCountedForMetrics(t *testing.T) {
	s := OpenSQLite(t)
	ctx := context.Background()
	before := metrics.Value(metrics.SyncRuns.WithLabelValues("metrics-test", "ok"))
	run := &model.SyncRun{Kind: "metrics-test"}
	if err := s.StartSyncRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	run.Status, run.Counts.Created = "ok", 7
	if err := s.FinishSyncRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if got := metrics.Value(metrics.SyncRuns.WithLabelValues("metrics-test", "ok")); got != before+1 {
		t.Errorf("ream_sync_runs_total = %v, want %v", got, before+1)
	}
	if got := metrics.Value(metrics.SyncItems.WithLabelValues("metrics-test", "created")); got < 7 {
		t.Errorf("ream_sync_items_total{outcome=created} = %v", got)
	}
	failed := &model.SyncRun{Kind: "metrics-test"}
	if err := s.StartSyncRun(ctx, failed); err != nil {
		t.Fatal(err)
	}
	failed.Status = "failed"
	if err := s.FinishSyncRun(ctx, failed); err != nil {
		t.Fatal(err)
	}
	last, err := s.LastSuccessfulSyncs(ctx)
	if err != nil || len(last) != 1 || !last["metrics-test"].Equal(*run.FinishedAt) {
		t.Errorf("last successful runs %v, %v; want metrics-test at %v (the later failed run does not count)", last, err, run.FinishedAt)
	}
}

// TestBulkUserCreation covers the user sync's bulk path: ids reserved up
// front (they must not collide with ids given one by one, before or after),
// batches of every size, card numbers and memberships, and conflicts that
// leave the new users without ids.
func TestBulkUserCreation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first := &model.User{Username: "first"}
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateUser(ctx, first) })
		// 1,500 users in one call and 3 in another: full batches and the
		// halves, quarters … that carry the rest.
		var users []*model.User
		for i := range 1503 {
			users = append(users, &model.User{Username: fmt.Sprintf("User%04d", i), FullName: fmt.Sprintf("User %d", i),
				Email: fmt.Sprintf("u%d@example.org", i), PrimaryCard: fmt.Sprintf("P%d", i), SourceID: "ldap"})
			if i%2 == 0 {
				users[i].SecondaryCard = fmt.Sprintf("S%d", i)
			}
		}
		// Columns most new users leave at their defaults are written only
		// for a call that has a user who sets them.
		users[1502].Alias, users[1502].Notes, users[1502].Internal, users[1502].PasswordHash = "al1502", "a note", true, "hash"
		users[1502].Balance, users[1502].Restricted = 2500000, true
		var group model.Group
		mustTx(t, s, func(tx *store.Tx) error {
			if err := tx.CreateUsers(ctx, users[:1500]); err != nil {
				return err
			}
			if err := tx.CreateUsers(ctx, users[1500:]); err != nil {
				return err
			}
			group = model.Group{Name: "Staff", SourceID: "ldap", Tracked: true}
			if err := tx.CreateGroup(ctx, &group); err != nil {
				return err
			}
			w, err := tx.NewUserSyncWriter(ctx)
			if err != nil {
				return err
			}
			defer w.Close()
			ids := []int64{first.ID}
			for _, u := range users {
				ids = append(ids, u.ID)
			}
			if err := w.AddMembers(ctx, group.ID, ids); err != nil {
				return err
			}
			return w.AddMembers(ctx, group.ID, ids[:10]) // already members: nothing changes
		})
		seen := map[int64]bool{first.ID: true}
		for i, u := range users {
			if u.ID == 0 || seen[u.ID] {
				t.Fatalf("user %d got id %d (taken or none)", i, u.ID)
			}
			seen[u.ID] = true
		}
		for _, i := range []int{0, 1, 1023, 1024, 1499, 1502} {
			got, err := s.UserByName(ctx, fmt.Sprintf("user%04d", i))
			if err != nil || got.ID != users[i].ID || got.Email != users[i].Email || got.PrimaryCard != fmt.Sprintf("P%d", i) {
				t.Fatalf("user %d: %+v %v", i, got, err)
			}
			if want := users[i].SecondaryCard; got.SecondaryCard != want {
				t.Errorf("user %d: secondary card %q, want %q", i, got.SecondaryCard, want)
			}
			if groups, err := s.UserGroups(ctx, got.ID); err != nil || len(groups) != 1 || groups[0] != "Staff" {
				t.Errorf("user %d: groups %v %v", i, groups, err)
			}
		}
		if got, err := s.UserByName(ctx, "user1502"); err != nil || got.Alias != "al1502" || got.Notes != "a note" || !got.Internal ||
			got.PasswordHash != "hash" || got.Balance != 2500000 || !got.Restricted || got.PrintDisabled {
			t.Errorf("user with the optional columns set: %+v %v", got, err)
		}
		if got, err := s.UserByName(ctx, "user1501"); err != nil || got.Alias != "" || got.Internal || got.Balance != 0 || got.Restricted {
			t.Errorf("user beside them: %+v %v", got, err)
		}
		if n, _ := s.CountUsers(ctx); n != 1504 {
			t.Errorf("CountUsers = %d, want 1504", n)
		}
		// The sync's snapshot: live users in id order with both card numbers.
		mustTx(t, s, func(tx *store.Tx) error { return tx.DeleteUser(ctx, users[3], false) })
		live, err := s.LiveUsers(ctx)
		if err != nil || len(live) != 1503 {
			t.Fatalf("LiveUsers: %d users, %v; want 1503", len(live), err)
		}
		for i := 1; i < len(live); i++ {
			if live[i].ID <= live[i-1].ID || live[i].Username == "user0003" {
				t.Fatalf("LiveUsers out of order or with a deleted user at %d: %+v", i, live[i])
			}
		}
		if u := live[3]; u.Username != "user0002" || u.PrimaryCard != "P2" || u.SecondaryCard != "S2" || u.Email != "u2@example.org" {
			t.Errorf("LiveUsers[3] = %+v", u)
		}
		if u := live[len(live)-1]; u.Username != "user1502" || u.Alias != "al1502" || !u.Internal || u.PasswordHash != "hash" || u.SecondaryCard != "S1502" {
			t.Errorf("last live user = %+v", u)
		}
		// Ids given one by one afterwards come after the reserved ones.
		last := &model.User{Username: "last"}
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateUser(ctx, last) })
		if seen[last.ID] || last.ID < users[1502].ID {
			t.Errorf("a user created after the bulk load got id %d", last.ID)
		}
		// A taken username or card number fails the whole call, and the
		// users it was given are left without ids.
		for _, c := range []struct {
			user *model.User
			want error
		}{
			{&model.User{Username: "USER0007"}, store.ErrConflict},
			{&model.User{Username: "fresh", PrimaryCard: "S8"}, store.ErrCardInUse},
		} {
			batch := []*model.User{{Username: "another"}, c.user}
			err := s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUsers(ctx, batch) })
			if !errors.Is(err, c.want) {
				t.Errorf("CreateUsers with %q: %v, want %v", c.user.Username, err, c.want)
			}
			for _, u := range batch {
				if u.ID != 0 {
					t.Errorf("%q kept id %d after a failed insert", u.Username, u.ID)
				}
			}
			if _, err := s.UserByName(ctx, "another"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("half-applied bulk insert: %v", err)
			}
		}
	})
}

// TestLookAlikesFamiliarAddressesAuditKinds: names are found by skeleton,
// login addresses are remembered, and audit lines keep their actor's kind.
func TestLookAlikesFamiliarAddressesAuditKinds(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u1 := &model.User{Username: "user1"}
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateUsers(ctx, []*model.User{u1, {Username: "carol"}}) })
		mustTx(t, s, func(tx *store.Tx) error {
			for name, want := range map[string]string{"userl": "user1", "carol": "carol", "dave": ""} {
				got, err := tx.UserNamedLike(ctx, auth.UsernameSkeleton(name), 0)
				if err != nil || got != want {
					t.Errorf("UserNamedLike(%q) = %q, %v; want %q", name, got, err, want)
				}
			}
			if got, _ := tx.UserNamedLike(ctx, auth.UsernameSkeleton("user1"), u1.ID); got != "" {
				t.Errorf("a user looks like itself: %q", got)
			}
			if err := tx.RenameUser(ctx, u1.ID, "zed"); err != nil {
				return err
			}
			if got, _ := tx.UserNamedLike(ctx, auth.UsernameSkeleton("zed"), 0); got != "zed" {
				t.Errorf("after a rename the skeleton is not the new name's: %q", got)
			}
			return nil
		})

		now := time.Now()
		if ok, err := s.FamiliarAddress(ctx, "carol", "127.0.0.1", now.Add(-time.Hour)); ok || err != nil {
			t.Errorf("an address nobody logged in from is familiar: %v %v", ok, err)
		}
		for range 2 {
			if err := s.RecordFamiliarAddress(ctx, "carol", "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
		}
		if ok, _ := s.FamiliarAddress(ctx, "carol", "127.0.0.1", now.Add(-time.Hour)); !ok {
			t.Error("the address carol logged in from is not familiar")
		}
		if ok, _ := s.FamiliarAddress(ctx, "carol", "127.0.0.2", now.Add(-time.Hour)); ok {
			t.Error("another address is familiar")
		}
		if ok, _ := s.FamiliarAddress(ctx, "carol", "127.0.0.1", now.Add(time.Hour)); ok {
			t.Error("a login before the cutoff still counts")
		}

		entries := []model.AuditEntry{
			{Actor: "admin", ActorKind: model.ActorBuiltInAdmin, Action: "test.builtin"},
			{Actor: "admin", ActorKind: model.ActorUser, ActorUserID: 42, Action: "test.user"},
			{Actor: "scheduler", Action: "test.system"},
		}
		for _, e := range entries {
			if err := s.Audit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		got, _, err := s.AuditLog(ctx, "test.", 0, 10)
		if err != nil || len(got) != 3 {
			t.Fatalf("audit log: %v, %v", got, err)
		}
		if got[2].ActorKind != model.ActorBuiltInAdmin || got[1].ActorKind != model.ActorUser || got[1].ActorUserID != 42 || got[0].ActorKind != model.ActorSystem {
			t.Errorf("audit actor kinds not kept: %+v", got)
		}
	})
}

// TestCardNumberOrigins: every way of writing a number records where it
// came from and when; writing the number a slot already holds keeps both.
func TestCardNumberOrigins(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		origins := func(u *model.User) string {
			t.Helper()
			cards, err := s.UserCardNumbers(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, c := range cards {
				if c.SetAt == nil {
					t.Errorf("%s's number %s has no time", u.Username, c.Number)
				}
				parts = append(parts, fmt.Sprintf("%d:%s:%s", c.Slot, c.Number, c.Origin))
			}
			return strings.Join(parts, " ")
		}
		byHand := &model.User{Username: "hand", PrimaryCard: "H1"}
		synced := &model.User{Username: "synced", SourceID: "ldap", PrimaryCard: "S1", SecondaryCard: "S2"}
		bulkSynced := &model.User{Username: "bulk", SourceID: "ldap", PrimaryCard: "L1"}
		mustTx(t, s, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, byHand); err != nil {
				return err
			}
			if err := tx.CreateUser(ctx, synced); err != nil {
				return err
			}
			return tx.CreateUsers(ctx, []*model.User{bulkSynced})
		})
		for u, want := range map[*model.User]string{byHand: "1:H1:admin", synced: "1:S1:directory 2:S2:directory", bulkSynced: "1:L1:directory"} {
			if got := origins(u); got != want {
				t.Errorf("%s after creation: %s, want %s", u.Username, got, want)
			}
		}
		mustTx(t, s, func(tx *store.Tx) error {
			if err := tx.SetUserCard(ctx, synced.ID, store.SecondaryCard, "S2", model.CardOriginSelfRegistered); err != nil {
				return err // the same number: nothing changes
			}
			if err := tx.SetUserCard(ctx, byHand.ID, store.SecondaryCard, "R2", model.CardOriginSelfRegistered); err != nil {
				return err
			}
			return tx.SetPrimaryCards(ctx, []store.UserCard{{UserID: byHand.ID, Number: "G1"}, {UserID: bulkSynced.ID, Number: "G2"}}, model.CardOriginBulk, nil)
		})
		for u, want := range map[*model.User]string{byHand: "1:G1:bulk-generated 2:R2:self-registered", synced: "1:S1:directory 2:S2:directory", bulkSynced: "1:G2:bulk-generated"} {
			if got := origins(u); got != want {
				t.Errorf("%s after changes: %s, want %s", u.Username, got, want)
			}
		}
		// A refused change keeps the number the slot had, even when the
		// transaction goes on and commits.
		mustTx(t, s, func(tx *store.Tx) error {
			if err := tx.SetUserCard(ctx, byHand.ID, store.PrimaryCard, "S1", model.CardOriginSelfRegistered); !errors.Is(err, store.ErrCardInUse) {
				t.Errorf("taking synced's number: %v", err)
			}
			return nil
		})
		if got := origins(byHand); got != "1:G1:bulk-generated 2:R2:self-registered" {
			t.Errorf("after a refused change: %s", got)
		}
	})
}
