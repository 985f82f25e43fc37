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

// TestKilledAccountSyncIsRecoveredAtOnce: a shared-account sync whose
// process is killed (SIGKILL) in the middle of a first import leaves the
// accounts entirely as they were; the next sync does not wait for the
// 2-minute lease, records the killed run as interrupted and completes the
// import.
func TestKilledAccountSyncIsRecoveredAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 100,000 accounts twice")
	}
	dir, root := t.TempDir(), t.TempDir()
	const n = 100_000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Client %06d\t\tY\t\t1.50\n", i)
	}
	file := filepath.Join(root, "accounts.txt")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"REAM_DATA_DIR=" + dir, "REAM_SYNC_ALLOWED_ROOTS=" + root}
	mustRun(t, env, "", "migrate")

	ctx := context.Background()
	s, err := store.Open(ctx, "", filepath.Join(dir, "ream.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	running := func() bool {
		runs, _, err := s.ListSyncRuns(ctx, "", 0, 1)
		return err == nil && len(runs) == 1 && runs[0].Status == "running"
	}

	sync := reamProcess(t, env, "accounts", "sync", "--file", file)
	deadline := time.Now().Add(30 * time.Second)
	for !running() {
		if time.Now().After(deadline) {
			t.Fatal("the sync never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // into the import
	if err := sync.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = sync.Wait()

	count := func() int {
		t.Helper()
		c, err := s.CountAccounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := count(); c != 0 && c != n {
		t.Fatalf("after the kill there are %d accounts: neither the old state (0) nor the new (%d)", c, n)
	}
	killedWhole := count() == n
	t.Logf("after the kill: %d accounts", count())
	r := mustRun(t, env, "", "accounts", "sync", "--file", file)
	if c := count(); c != n {
		t.Fatalf("after the second sync there are %d accounts, want %d\n%s", c, n, r.stdout)
	}
	runs, _, err := s.ListSyncRuns(ctx, "", 0, 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	killed, next := runs[1], runs[0]
	t.Logf("killed run: %s: %s", killed.Status, killed.Message)
	if killedWhole && killed.Status == "ok" {
		t.Skip("the first sync finished before it could be killed; nothing to recover")
	}
	if killed.Status != store.RunStatusInterrupted || !strings.Contains(killed.Message, "stopped before it finished") || killed.FinishedAt == nil {
		t.Errorf("the killed run: status %q, message %q, finished %v; want interrupted, saying why", killed.Status, killed.Message, killed.FinishedAt)
	}
	if next.Status != "ok" {
		t.Errorf("the next run: %q %q", next.Status, next.Message)
	}
}
