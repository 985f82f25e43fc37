package tasks_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/tasks"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

func TestPollGrowsByALineWhileRunningAndEndsWithTheReport(t *testing.T) {
	ctx := context.Background()
	s := reamtest.Store(t, false)
	r := tasks.New(ctx, s, slog.New(slog.DiscardHandler))
	if st, err := r.Poll(ctx); err != nil || !st.Completed {
		t.Fatalf("no task yet: %+v %v", st, err)
	}
	release := make(chan struct{})
	started := make(chan struct{})
	if _, err := r.Start(ctx, "import", "Starting import.", func(ctx context.Context, progress tasks.Progress) (string, error) {
		progress("Read 10 lines.")
		close(started)
		<-release
		return "Imported 10 accounts.", nil
	}); err != nil {
		t.Fatal(err)
	}
	<-started
	// PaperCut scripts index the message by poll count: each poll while the
	// task runs must see at least one more line.
	prev := 0
	for i := 0; i < 5; i++ {
		st, err := r.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(st.Message, "\n") + 1
		if st.Completed || lines <= prev {
			t.Fatalf("poll %d: completed=%v lines=%d (previous %d)", i, st.Completed, lines, prev)
		}
		prev = lines
	}
	close(release)
	r.Wait()
	st, err := r.Poll(ctx)
	if err != nil || !st.Completed || !strings.HasPrefix(st.Message, "Starting import.\nRead 10 lines.") || !strings.HasSuffix(st.Message, "Imported 10 accounts.") {
		t.Fatalf("final status %+v %v", st, err)
	}
}

func TestFailuresAndPanicsEndTheTask(t *testing.T) {
	ctx := context.Background()
	s := reamtest.Store(t, false)
	r := tasks.New(ctx, s, slog.New(slog.DiscardHandler))
	r.Start(ctx, "a", "A", func(context.Context, tasks.Progress) (string, error) { return "", errors.New("source unreadable") })
	r.Wait()
	if st, _ := r.Poll(ctx); !st.Completed || !strings.Contains(st.Message, "Error: source unreadable") {
		t.Errorf("failed task: %+v", st)
	}
	r.Start(ctx, "b", "B", func(context.Context, tasks.Progress) (string, error) { panic("boom") })
	r.Wait()
	if st, _ := r.Poll(ctx); !st.Completed || !strings.Contains(st.Message, "internal error") || strings.Contains(st.Message, "boom") {
		t.Errorf("panicked task: %+v", st)
	}
}

// TestProgressFromInsideAWriteTransaction is the SQLite case: an import
// holds the only writer for its whole transaction while it reports
// progress and while scripts poll. Neither may wait for the transaction.
func TestProgressFromInsideAWriteTransaction(t *testing.T) {
	ctx := context.Background()
	s := reamtest.Store(t, false)
	r := tasks.New(ctx, s, slog.New(slog.DiscardHandler))
	inTx := make(chan struct{})
	release := make(chan struct{})
	report, err := func() (string, error) {
		go func() {
			<-inTx
			for i := 0; i < 3; i++ {
				if st, err := r.Poll(ctx); err != nil || st.Completed {
					t.Errorf("poll during the transaction: %+v %v", st, err)
				}
			}
			close(release)
		}()
		return r.RunAndWait(ctx, "import", "Starting.", func(ctx context.Context, progress tasks.Progress) (string, error) {
			err := s.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.SetSetting(ctx, "x", "1"); err != nil {
					return err
				}
				progress("Half way.")
				close(inTx)
				<-release
				return nil
			})
			return "Done.", err
		})
	}()
	if err != nil || report != "Done." {
		t.Fatalf("RunAndWait = %q, %v", report, err)
	}
	r.Wait()
	st, err := r.Poll(ctx)
	if err != nil || !st.Completed || !strings.Contains(st.Message, "Half way.") || strings.Count(st.Message, "Still working") != 3 {
		t.Fatalf("after the task: %+v %v", st, err)
	}
	// The database has the whole message, for other servers.
	task, err := s.LatestTask(ctx)
	if err != nil || task.Message != st.Message || !task.Completed {
		t.Errorf("saved task %+v %v", task, err)
	}
}
