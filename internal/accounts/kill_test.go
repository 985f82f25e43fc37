package accounts_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/accounts"
	"github.com/reamprint/ream/internal/accounts/source"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv"
)

// Environment of the child process that TestKillDuringApply kills.
const (
	killChildEnv = "REAM_TEST_KILL_CHILD"
	killDBEnv    = "REAM_TEST_KILL_DB"   // SQLite path, or a postgres:// URL
	killRootEnv  = "REAM_TEST_KILL_ROOT" // allowed root holding accounts.txt
)

// TestKillDuringApply kills (SIGKILL) a process in the middle of applying a
// 100,000-account sync and shows that the database is exactly as before,
// and that running the sync again then gives the right result.
func TestKillDuringApply(t *testing.T) {
	if os.Getenv(killChildEnv) == "1" {
		killChild(t)
		return
	}
	if testing.Short() {
		t.Skip("imports 100,000 accounts")
	}
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ream.db")
		killAndRecover(t, openSQLite(t, path), path)
	})
	t.Run("postgres", func(t *testing.T) {
		url := testenv.PostgresURL(t)
		killAndRecover(t, openStore(t, url, ""), url)
	})
}

func killAndRecover(t *testing.T, st *store.Store, db string) {
	f := newFixture(t, st)
	// The old state: a few accounts, one of which the big file changes.
	f.run(t, f.file(t, "accounts.txt", lines("Client 1\t\tN\t\t1.25", "Old client", "Old client\tOld matter")))
	before := f.snapshot(t)
	runsBefore := f.lastRun(t).ID
	out, err := os.Create(filepath.Join(f.root, "accounts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := source.WriteSampleImportFile(out, 100_000, 7); err != nil {
		t.Fatal(err)
	}
	out.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringApply$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"=1", killDBEnv+"="+db, killRootEnv+"="+f.root)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	applying := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "APPLYING ") {
			applying = true
			t.Logf("child: %s; killing it", sc.Text())
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if !applying {
		t.Fatalf("the child never started applying: %v", err)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended by %v, not SIGKILL", err)
	}

	// Reopen as a server starting after the crash would.
	var again *store.Store
	if strings.HasPrefix(db, "postgres") {
		again = openStore(t, db, "")
	} else {
		st.Close()
		again = openSQLite(t, db)
	}
	g := newFixture(t, again)
	g.root = f.root
	if got := g.snapshot(t); got != before {
		t.Fatalf("the killed run left changes: %d bytes of rows, want %d", len(got), len(before))
	}
	// The killed run's record stays "running": it never finished.
	if run := g.lastRun(t); run.ID != runsBefore+1 || run.Status != "running" {
		t.Fatalf("killed run record %+v", run)
	}
	// The dead process's lease on the sync lock runs out after two
	// minutes; move the store's clock past it rather than wait.
	again.SetClock(func() time.Time { return time.Now().Add(3 * time.Minute) })
	svc := accounts.NewService(again, g.set, []string{f.root}, quiet)
	r, err := svc.Run(context.Background(), admin, accounts.Options{Source: accounts.SourceFile, Location: filepath.Join(f.root, "accounts.txt")})
	if err != nil || r.Status != accounts.StatusOK {
		t.Fatalf("run after the crash: %v %+v", err, r)
	}
	if n, _ := again.CountAccounts(context.Background()); n != 100_002 {
		t.Fatalf("%d accounts after the second run, want 100,000 from the file and the 2 old ones", n)
	}
	if c := r.Counts(); c.Created != 99_999 || c.Updated+c.Unchanged != 1 {
		t.Fatalf("second run counts %+v", c)
	}
}

// killChild runs the big sync and stops in the middle of applying it,
// inside the open transaction, until it is killed.
func killChild(t *testing.T) {
	db, root := os.Getenv(killDBEnv), os.Getenv(killRootEnv)
	var st *store.Store
	if strings.HasPrefix(db, "postgres") {
		st = openStore(t, db, "")
	} else {
		st = openSQLite(t, db)
	}
	f := newFixture(t, st)
	svc := accounts.NewService(st, f.set, []string{root}, quiet)
	opts := accounts.Options{Source: accounts.SourceFile, Location: filepath.Join(root, "accounts.txt"),
		Progress: func(p accounts.Progress) {
			// After the first chunk of new accounts is written.
			if p.Phase == accounts.PhaseApplying && p.Done >= 20_000 {
				fmt.Printf("APPLYING %d of %d\n", p.Done, p.Total)
				select {} // wait here, mid-transaction, for SIGKILL
			}
		}}
	_, err := svc.Run(context.Background(), admin, opts)
	t.Fatalf("the run finished (%v) instead of waiting to be killed", err)
}
