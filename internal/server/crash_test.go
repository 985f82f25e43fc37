package server

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/store"
)

// TestMain lets a test run the real ream command line in a process of its
// own (the test binary again, with REAM_TEST_RUN_MAIN=1), so that it can
// be killed like a real server, or run under the name server-command
// through a link, as cmd/ream's main does.
func TestMain(m *testing.M) {
	if os.Getenv("REAM_TEST_RUN_MAIN") == "1" {
		os.Exit(Main(CommandLine(os.Args), IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()}))
	}
	os.Exit(m.Run())
}

// reamProcess starts `ream args…` as a separate process.
func reamProcess(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append([]string{"REAM_TEST_RUN_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("ream %s:\n%s", strings.Join(args, " "), out.String())
		}
	})
	return cmd
}

// TestKilledRunsAreRecoveredAtOnce: a shared-account sync, a batch user
// import and a bulk card generation, each killed (SIGKILL) in the middle,
// leave the data entirely as it was; the run record (where the kind has
// one) becomes interrupted with the reason, and the same command run again
// starts at once (no waiting for a lease) and completes.
func TestKilledRunsAreRecoveredAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 100,000 accounts and users several times")
	}
	type kind struct {
		name string
		n    int // records in the input: enough to be killed in the middle
		// setup writes the input and readies the database; it returns the
		// command to kill and rerun.
		setup func(t *testing.T, env []string, root string) []string
		// count is the state to check: 0 before, n after.
		count func(t *testing.T, s *store.Store) int
		// hasRun: the kind records a sync run.
		hasRun bool
	}
	writeFile := func(t *testing.T, root, name string, n int, line func(i int) string) string {
		t.Helper()
		var b strings.Builder
		for i := range n {
			b.WriteString(line(i))
		}
		file := filepath.Join(root, name)
		if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	for _, k := range []kind{
		{name: "account sync", n: 100_000, hasRun: true,
			setup: func(t *testing.T, env []string, root string) []string {
				file := writeFile(t, root, "accounts.txt", 100_000, func(i int) string { return fmt.Sprintf("Client %06d\t\tY\t\t1.50\n", i) })
				return []string{"accounts", "sync", "--file", file}
			},
			count: func(t *testing.T, s *store.Store) int {
				c, err := s.CountAccounts(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				return c
			}},
		{name: "batch user import", n: 40_000, hasRun: true,
			setup: func(t *testing.T, env []string, root string) []string {
				file := writeFile(t, root, "users.txt", 40_000, func(i int) string { return fmt.Sprintf("user%06d\t1.50\t\tUser %d\n", i, i) })
				return []string{"server-command", "batch-import-users", file, "Y"}
			},
			count: func(t *testing.T, s *store.Store) int {
				c, err := s.CountUsers(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				return c
			}},
		{name: "bulk card generation", n: 60_000,
			setup: func(t *testing.T, env []string, root string) []string {
				file := writeFile(t, root, "users.txt", 60_000, func(i int) string { return fmt.Sprintf("user%06d\n", i) })
				mustRun(t, env, "", "server-command", "batch-import-users", file, "Y")
				return []string{"cards", "generate", "--group", "[All Users]", "--yes"}
			},
			count: func(t *testing.T, s *store.Store) int {
				holders, err := s.CountUsersWithCards(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				return holders
			}},
	} {
		t.Run(k.name, func(t *testing.T) {
			n := k.n
			dir, root := t.TempDir(), t.TempDir()
			env := []string{"REAM_DATA_DIR=" + dir, "REAM_SYNC_ALLOWED_ROOTS=" + root}
			mustRun(t, env, "", "migrate")
			args := k.setup(t, env, root)
			ctx := context.Background()
			s, err := store.Open(ctx, "", filepath.Join(dir, "ream.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			runsBefore := 0
			if _, total, err := s.ListSyncRuns(ctx, "", 0, 1); err == nil {
				runsBefore = total
			}
			running := func() bool {
				if !k.hasRun {
					return true
				}
				runs, total, err := s.ListSyncRuns(ctx, "", 0, 1)
				return err == nil && total > runsBefore && runs[0].Status == "running"
			}
			proc := reamProcess(t, env, args...)
			deadline := time.Now().Add(30 * time.Second)
			for !running() {
				if time.Now().After(deadline) {
					t.Fatal("the run never started")
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(400 * time.Millisecond) // into the work
			if err := proc.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = proc.Wait()
			after := k.count(t, s)
			if after != 0 && after != n {
				t.Fatalf("after the kill: %d, neither the old state (0) nor the new (%d)", after, n)
			}
			if after == n {
				t.Skip("the run finished before it could be killed; nothing to recover")
			}
			r := mustRun(t, env, "", args...)
			if c := k.count(t, s); c != n {
				t.Fatalf("after running it again: %d, want %d\n%s", c, n, r.stdout)
			}
			if !k.hasRun {
				return
			}
			runs, _, err := s.ListSyncRuns(ctx, "", 0, 2)
			if err != nil || len(runs) != 2 {
				t.Fatalf("runs %v, %v", runs, err)
			}
			killed, next := runs[1], runs[0]
			if killed.Status != store.RunStatusInterrupted || !strings.Contains(killed.Message, "stopped before it finished") || killed.FinishedAt == nil {
				t.Errorf("the killed run: status %q, message %q, finished %v; want interrupted, saying why", killed.Status, killed.Message, killed.FinishedAt)
			}
			// A batch file is parsed before its run starts: the run says
			// from the start how many lines it holds, killed or not.
			if k.name == "batch user import" && killed.Counts.Read != n {
				t.Errorf("the killed import records %d lines read, want %d", killed.Counts.Read, n)
			}
			t.Logf("the killed run: %d read; %q", killed.Counts.Read, killed.Message)
			if next.Status != "ok" && next.Status != "" {
				t.Errorf("the next run: %q %q", next.Status, next.Message)
			}
		})
	}
}
