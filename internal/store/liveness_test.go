package store

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/model"
)

// deadPID is the PID of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run a short process: %v", err)
	}
	return cmd.Process.Pid
}

// TestRecoverInterruptedRuns: a running run is closed as interrupted at
// once when its process on this host is dead, when its heartbeat expired
// on another host, and when it predates the holder column; a run of this
// process, or of a live server elsewhere, is left running. Both databases.
func TestRecoverInterruptedRuns(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openAtVersion(t, url, 4)
		if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO sync_runs (kind, status, started_at) VALUES ('accounts', 'running', 0)`)); err != nil {
			t.Fatal(err)
		}
		if n, err := s.migrateTo(ctx, 5); err != nil || n != 1 {
			t.Fatalf("migration 5: %d, %v", n, err)
		}
		now := s.nowMS()
		for _, r := range []struct {
			holder string
			alive  int64
		}{
			{fmt.Sprintf("%s/%d/dead", host(), deadPID(t)), now + 60_000},
			{"elsewhere.example/42/gone", now - 1},
			{"elsewhere.example/43/alive", now + 60_000},
			{ProcessHolder(), now - 1},
		} {
			if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO sync_runs (kind, status, started_at, holder, alive_until) VALUES ('accounts', 'running', 0, $1, $2)`), r.holder, r.alive); err != nil {
				t.Fatal(err)
			}
		}
		for _, holder := range []string{fmt.Sprintf("%s/%d/dead", host(), deadPID(t)), ProcessHolder()} {
			if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO tasks (kind, message, updated_at, holder, alive_until) VALUES ('account-import', 'started', 0, $1, $2)`), holder, now+60_000); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.RecoverInterruptedRuns(ctx)
		if err != nil || n != 4 {
			t.Fatalf("recovered %d runs and tasks, %v; want 3 runs and 1 task", n, err)
		}
		if tasks := lines(t, s, `SELECT CAST(completed AS TEXT)||' '||message FROM tasks ORDER BY id`); len(tasks) != 2 ||
			!strings.Contains(tasks[0], "Interrupted: the process running it") || strings.Contains(tasks[1], "Interrupted") {
			t.Errorf("tasks after recovery: %q", tasks)
		}
		got := lines(t, s, `SELECT status FROM sync_runs ORDER BY id`)
		if want := []string{"interrupted", "interrupted", "interrupted", "running", "running"}; !slices.Equal(got, want) {
			t.Errorf("statuses %q, want %q", got, want)
		}
		// A new run closes dead runs before it starts.
		if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO sync_runs (kind, status, started_at, holder) VALUES ('users', 'running', 0, $1)`),
			fmt.Sprintf("%s/%d/x", host(), deadPID(t))); err != nil {
			t.Fatal(err)
		}
		run := &model.SyncRun{Kind: "users"}
		if err := s.StartSyncRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		if r, err := s.SyncRunByID(ctx, run.ID-1); err != nil || r.Status != RunStatusInterrupted || r.FinishedAt == nil {
			t.Errorf("the dead run before a new one: %+v, %v", r, err)
		}
	})
}

// TestLockOfADeadProcessIsTakenAtOnce: a job lock whose holder is a dead
// process of this host is handed over without waiting for its lease; one
// held by a live process, or by another host, is not.
func TestLockOfADeadProcessIsTakenAtOnce(t *testing.T) {
	s := openAtVersion(t, "", SchemaVersion())
	ctx := context.Background()
	dead := fmt.Sprintf("%s/%d/x", host(), deadPID(t))
	for name, holder := range map[string]string{"dead": dead, "live": NewHolder(), "remote": "elsewhere.example/1/x"} {
		if ok, err := s.TryLock(ctx, name, holder, time.Hour); err != nil || !ok {
			t.Fatalf("lock %s: %v %v", name, ok, err)
		}
	}
	me := NewHolder()
	for name, want := range map[string]bool{"dead": true, "live": false, "remote": false} {
		if ok, err := s.TryLock(ctx, name, me, time.Hour); err != nil || ok != want {
			t.Errorf("taking lock %q: %v, %v; want %v", name, ok, err, want)
		}
	}
}

// TestInterruptedRunKeepsItsProgress: the progress a run notes is written
// to its row while it runs, so when its process dies the interrupted run
// still says how much it had read and the stage it had reached.
func TestInterruptedRunKeepsItsProgress(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openAtVersion(t, url, len(migrations))
		run := &model.SyncRun{Kind: "accounts", Counts: model.SyncCounts{Read: 7}}
		if err := s.StartSyncRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		if r, _ := s.SyncRunByID(ctx, run.ID); r.Counts.Read != 7 {
			t.Errorf("read at the start: %d, want 7", r.Counts.Read)
		}
		s.NoteSyncRunProgress(run.ID, 45000, "Applied 1200 of 45000 changes…")
		s.writeProgress(ctx)
		// Its process dies.
		if _, err := s.w.ExecContext(ctx, s.q(`UPDATE sync_runs SET holder = $1 WHERE id = $2`), fmt.Sprintf("%s/%d/dead", host(), deadPID(t)), run.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecoverInterruptedRuns(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := s.SyncRunByID(ctx, run.ID)
		if err != nil || r.Status != RunStatusInterrupted || r.Counts.Read != 45000 ||
			!strings.HasPrefix(r.Message, "Reached: Applied 1200 of 45000 changes. Interrupted: the process running it") {
			t.Errorf("the interrupted run: %+v, %v", r, err)
		}
	})
}
