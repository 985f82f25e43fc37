package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/reamprint/ream/internal/metrics"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// TestMain lets a test run SQL in a process of its own: the test binary
// again, with REAM_TEST_SQL_FILE naming the database and REAM_TEST_SQL the
// statements (one a line). It prints the first column of each result.
func TestMain(m *testing.M) {
	if file := os.Getenv("REAM_TEST_SQL_FILE"); file != "" {
		os.Exit(runSQL(file, os.Getenv("REAM_TEST_SQL")))
	}
	os.Exit(m.Run())
}

func runSQL(file, statements string) int {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	for _, q := range strings.Split(strings.TrimSpace(statements), "\n") {
		rows, err := db.Query(q)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", q, err)
			return 1
		}
		for rows.Next() {
			var v any
			cols, _ := rows.Columns()
			dest := make([]any, len(cols))
			dest[0] = &v
			for i := 1; i < len(cols); i++ {
				dest[i] = new(any)
			}
			if err := rows.Scan(dest...); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			fmt.Printf("%v\n", v)
		}
		if err := rows.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", q, err)
			return 1
		}
	}
	return 0
}

// sqlProcess runs statements in another process on the database file and
// returns what it printed.
func sqlProcess(t *testing.T, file string, statements ...string) (string, error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "REAM_TEST_SQL_FILE="+file, "REAM_TEST_SQL="+strings.Join(statements, "\n"))
	var errOut strings.Builder
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%v: %s", err, errOut.String())
	}
	return string(out), nil
}

// TestCardCacheNeverServesAStaleAnswer: with the card cache on, a repeated
// lookup is answered from memory, and every change to who owns a number —
// made by another process on the file, by another connection pool, or by
// the store itself, with or without a checkpoint in between — is seen by
// the very next lookup, exactly as the database answers it.
func TestCardCacheNeverServesAStaleAnswer(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "ream.db")
	s := openSQLiteFile(t, file)
	for _, u := range []*model.User{
		{Username: "alice", PrimaryCard: "1001"},
		{Username: "bob", PrimaryCard: "2001", SecondaryCard: "2002"},
		{Username: "carol", PrimaryCard: "3001"},
	} {
		mustTx(t, s, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })
	}
	if err := s.CacheCardLookups(ctx); err != nil {
		t.Fatal(err)
	}
	// other is a second, independent connection pool on the file, without
	// a cache: the database's own answer.
	other := openSQLiteFile(t, file)

	cached := metrics.CardLookups.WithLabelValues("cache")
	answer := func(s *store.Store, number string) string {
		t.Helper()
		name, err := s.UsernameByCard(ctx, number)
		if errors.Is(err, store.ErrNotFound) {
			return "(nobody)"
		} else if err != nil {
			t.Fatal(err)
		}
		return name
	}
	// expect looks every number up twice: the second must come from the
	// cache, and both must be what the database says.
	expect := func(step string, want map[string]string) {
		t.Helper()
		for number, name := range want {
			if got := answer(s, number); got != name {
				t.Errorf("%s: card %s → %s, want %s", step, number, got, name)
			}
			before := metrics.Value(cached)
			if got := answer(s, number); got != name {
				t.Errorf("%s: card %s again → %s, want %s", step, number, got, name)
			}
			if metrics.Value(cached) != before+1 {
				t.Errorf("%s: card %s looked up again was not answered from the cache", step, number)
			}
			if db := answer(other, number); db != name {
				t.Errorf("%s: card %s → %s in the database, want %s (the test is wrong)", step, number, db, name)
			}
		}
	}
	process := func(step string, statements ...string) {
		t.Helper()
		if out, err := sqlProcess(t, file, statements...); err != nil {
			t.Fatalf("%s: %v\n%s", step, err, out)
		}
	}
	userID := func(name string) string { return "(SELECT id FROM users WHERE username = '" + name + "')" }

	expect("start", map[string]string{"1001": "alice", "2001": "bob", "2002": "bob", "3001": "carol", "9999": "(nobody)", "4001": "(nobody)"})

	process("move alice's card to carol's secondary field, in another process",
		"UPDATE user_cards SET user_id = "+userID("carol")+", slot = 2 WHERE number = '1001'")
	expect("card moved", map[string]string{"1001": "carol", "3001": "carol", "9999": "(nobody)"})

	process("a new card for alice, a number looked up before and found nobody's",
		"INSERT INTO user_cards (number, user_id, slot) VALUES ('4001', "+userID("alice")+", 1)")
	expect("card added", map[string]string{"4001": "alice", "1001": "carol"})

	process("checkpoint, truncating the WAL", "PRAGMA wal_checkpoint(TRUNCATE)")
	expect("after a checkpoint", map[string]string{"4001": "alice", "2002": "bob"})
	// After the WAL restarts, the first commit writes the same frame count
	// it did before: only the rest of the header tells the states apart.
	process("checkpoint, then remove bob's secondary card",
		"PRAGMA wal_checkpoint(TRUNCATE)",
		"DELETE FROM user_cards WHERE number = '2002'")
	expect("card removed after a checkpoint", map[string]string{"2002": "(nobody)", "2001": "bob"})
	process("checkpoint, then the card back, then checkpoint again",
		"PRAGMA wal_checkpoint(TRUNCATE)",
		"INSERT INTO user_cards (number, user_id, slot) VALUES ('2002', "+userID("bob")+", 2)",
		"PRAGMA wal_checkpoint(TRUNCATE)")
	expect("card back, checkpointed", map[string]string{"2002": "bob"})

	process("disable bob's printing", "UPDATE users SET print_disabled = 1, directory_disabled = 1 WHERE username = 'bob'")
	expect("user disabled", map[string]string{"2001": "bob"})

	process("delete carol", "UPDATE users SET deleted_at = 1 WHERE username = 'carol'")
	expect("user deleted", map[string]string{"1001": "(nobody)", "3001": "(nobody)", "4001": "alice"})

	// Changes through a second pool in this process, and through the store
	// itself (the admin pages, the API).
	mustTx(t, other, func(tx *store.Tx) error {
		u, err := tx.UserByName(ctx, "alice")
		if err != nil {
			return err
		}
		return tx.SetUserCards(ctx, u.ID, "", "4001", model.CardOriginAdmin)
	})
	expect("card changed field through another pool", map[string]string{"4001": "alice"})
	mustTx(t, s, func(tx *store.Tx) error {
		u, err := tx.UserByName(ctx, "alice")
		if err != nil {
			return err
		}
		return tx.SetUserCards(ctx, u.ID, "", "", model.CardOriginAdmin)
	})
	expect("cards removed by the store itself", map[string]string{"4001": "(nobody)"})

	// While the cache is open no other connection can take the database out
	// of WAL mode (which would leave the wal-index behind): the cache's
	// connection holds its shared lock.
	out, err := sqlProcess(t, file, "PRAGMA busy_timeout=0", "PRAGMA journal_mode=DELETE")
	t.Logf("journal_mode=DELETE in another process: %q, %v", strings.TrimSpace(out), err)
	if err == nil && !strings.HasSuffix(strings.TrimSpace(out), "wal") {
		t.Fatalf("another process took the database out of WAL mode under the cache: %q", out)
	}
	process("a card for alice after that", "INSERT INTO user_cards (number, user_id, slot) VALUES ('5001', "+userID("alice")+", 1)")
	expect("after the attempt", map[string]string{"5001": "alice"})
}

// TestCardCacheIsOffWithoutCacheCardLookups: a store that did not ask for
// the cache (the command line, PostgreSQL) reads the database every time.
func TestCardCacheIsOffWithoutCacheCardLookups(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		mustTx(t, s, func(tx *store.Tx) error {
			return tx.CreateUser(ctx, &model.User{Username: "dora", PrimaryCard: "7001"})
		})
		if s.Flavor() == store.Postgres {
			if err := s.CacheCardLookups(ctx); err != nil {
				t.Fatal(err)
			}
		}
		cached := metrics.CardLookups.WithLabelValues("cache")
		before := metrics.Value(cached)
		for range 3 {
			if name, err := s.UsernameByCard(ctx, "7001"); err != nil || name != "dora" {
				t.Fatalf("lookup: %q, %v", name, err)
			}
		}
		if metrics.Value(cached) != before {
			t.Errorf("lookups were answered from a cache")
		}
	})
}

// TestCardCacheUnderConcurrentChanges: while readers look a card up
// without pause, another connection pool moves it from user to user; a
// lookup that starts after a move was committed never answers an earlier
// owner.
func TestCardCacheUnderConcurrentChanges(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "ream.db")
	s := openSQLiteFile(t, file)
	const owners = 150
	ids := make([]int64, owners)
	mustTx(t, s, func(tx *store.Tx) error {
		for i := range owners {
			u := &model.User{Username: fmt.Sprintf("owner%03d", i)}
			if i == 0 {
				u.PrimaryCard = "777"
			}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			ids[i] = u.ID
		}
		return nil
	})
	if err := s.CacheCardLookups(ctx); err != nil {
		t.Fatal(err)
	}
	other := openSQLiteFile(t, file)

	var committed atomic.Int64 // the last owner whose move has committed
	done := make(chan struct{})
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				least := committed.Load()
				name, err := s.UsernameByCard(ctx, "777")
				if err != nil {
					errs <- err
					return
				}
				var got int64
				if _, err := fmt.Sscanf(name, "owner%03d", &got); err != nil || got < least {
					errs <- fmt.Errorf("a lookup begun after owner%03d got the card answered %q", least, name)
					return
				}
			}
		})
	}
	for i := 1; i < owners; i++ {
		mustTx(t, other, func(tx *store.Tx) error {
			if err := tx.SetUserCards(ctx, ids[i-1], "", "", model.CardOriginAdmin); err != nil {
				return err
			}
			return tx.SetUserCards(ctx, ids[i], "777", "", model.CardOriginAdmin)
		})
		committed.Store(int64(i))
		if i%50 == 0 {
			if _, err := sqlProcess(t, file, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
