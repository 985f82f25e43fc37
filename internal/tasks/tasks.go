// Package tasks runs the API's background tasks (batch imports, syncs) and
// answers getTaskStatus. A running task's lines are kept in the memory of
// the process running it, so that polling never waits on the database
// (on SQLite the import's own transaction holds the only writer), and are
// copied to the database as soon as it accepts them, so that every server
// sharing it can answer for finished and remote tasks.
package tasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/reamprint/ream/internal/store"
)

// Status is what getTaskStatus returns.
type Status struct {
	Completed bool
	Message   string
}

// Progress is how a running task reports: each call adds one line.
type Progress func(line string)

// Runner starts tasks in the background.
type Runner struct {
	store *store.Store
	log   *slog.Logger
	wg    sync.WaitGroup
	base  context.Context

	mu    sync.Mutex
	local map[int64]*running
}

// running is the in-memory state of a task this process runs.
type running struct {
	mu        sync.Mutex
	lines     []string
	completed bool
	started   time.Time
	dirty     chan struct{} // signals the persister; buffered 1
}

func (t *running) add(line string, completed bool) {
	t.mu.Lock()
	t.lines = append(t.lines, line)
	t.completed = t.completed || completed
	t.mu.Unlock()
	select {
	case t.dirty <- struct{}{}:
	default:
	}
}

func (t *running) snapshot() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Status{Completed: t.completed, Message: strings.Join(t.lines, "\n")}
}

// New returns a runner; tasks are cancelled when base is done.
func New(base context.Context, s *store.Store, log *slog.Logger) *Runner {
	return &Runner{store: s, log: log, base: base, local: map[int64]*running{}}
}

// Start records a task and runs fn in the background. fn's returned text
// (the report) becomes the task's last lines; an error becomes a line
// starting with "Error:".
func (r *Runner) Start(ctx context.Context, kind, first string, fn func(ctx context.Context, progress Progress) (string, error)) (int64, error) {
	id, err := r.store.CreateTask(ctx, kind, first)
	if err != nil {
		return 0, err
	}
	t := &running{lines: []string{first}, started: time.Now(), dirty: make(chan struct{}, 1)}
	r.mu.Lock()
	r.local[id] = t
	r.mu.Unlock()
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		r.persist(id, t)
	}()
	go func() {
		defer r.wg.Done()
		report, err := r.run(fn, func(line string) { t.add(line, false) })
		last := report
		if err != nil {
			last = "Error: " + err.Error()
			if report != "" {
				last = report + "\n" + last
			}
		}
		if last == "" {
			last = "Completed."
		}
		t.add(last, true)
	}()
	return id, nil
}

// persist copies a task's message to the database whenever it changes,
// retrying while the database is busy, until the completed message is saved.
func (r *Runner) persist(id int64, t *running) {
	defer func() {
		r.mu.Lock()
		delete(r.local, id)
		r.mu.Unlock()
	}()
	bg := context.WithoutCancel(r.base)
	var saved Status
	for {
		<-t.dirty
		for st := t.snapshot(); st != saved; st = t.snapshot() {
			ctx, cancel := context.WithTimeout(bg, 2*time.Second)
			err := r.store.SetTaskMessage(ctx, id, st.Message, st.Completed)
			cancel()
			if err != nil {
				// On SQLite the task's own transaction holds the writer: wait.
				time.Sleep(200 * time.Millisecond)
				continue
			}
			saved = st
		}
		if saved.Completed {
			return
		}
	}
}

func (r *Runner) run(fn func(ctx context.Context, progress Progress) (string, error), progress Progress) (report string, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("task panicked", "panic", p)
			err = fmt.Errorf("internal error; see the server log")
		}
	}()
	return fn(r.base, progress)
}

// RunAndWait runs fn as a background task (so getTaskStatus can follow it)
// and waits for its report, as PaperCut's batch import calls do. If ctx ends
// first, the task goes on and the caller is told so.
func (r *Runner) RunAndWait(ctx context.Context, kind, first string, fn func(ctx context.Context, progress Progress) (string, error)) (string, error) {
	type outcome struct {
		report string
		err    error
	}
	done := make(chan outcome, 1)
	_, err := r.Start(ctx, kind, first, func(ctx context.Context, progress Progress) (string, error) {
		report, err := fn(ctx, progress)
		done <- outcome{report, err}
		return report, err
	})
	if err != nil {
		return "", err
	}
	select {
	case o := <-done:
		return o.report, o.err
	case <-ctx.Done():
		return "", fmt.Errorf("stopped waiting for the task (it goes on; getTaskStatus follows it): %w", ctx.Err())
	}
}

// Wait blocks until every started task has finished and been saved
// (graceful shutdown).
func (r *Runner) Wait() { r.wg.Wait() }

// Status is the state of one task, for a page that follows the task it
// started (getTaskStatus follows the newest with Poll). It adds no line.
func (r *Runner) Status(ctx context.Context, id int64) (Status, error) {
	r.mu.Lock()
	local := r.local[id]
	r.mu.Unlock()
	if local != nil {
		return local.snapshot(), nil
	}
	t, err := r.store.TaskByID(ctx, id)
	if err != nil {
		return Status{}, err
	}
	return Status{Completed: t.Completed, Message: t.Message}, nil
}

// Poll answers getTaskStatus for the newest task. PaperCut scripts index
// the message by poll count, so while the task runs every poll adds a line.
func (r *Runner) Poll(ctx context.Context) (Status, error) {
	t, err := r.store.LatestTask(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return Status{Completed: true, Message: "No task has been run."}, nil
	}
	if err != nil {
		return Status{}, err
	}
	r.mu.Lock()
	local := r.local[t.ID]
	r.mu.Unlock()
	if local != nil {
		if st := local.snapshot(); st.Completed {
			return st, nil
		}
		local.add(fmt.Sprintf("Still working (%s)…", time.Since(local.started).Round(time.Second)), false)
		return local.snapshot(), nil
	}
	if !t.Completed {
		// Run by another server sharing the database.
		line := fmt.Sprintf("Still working (%s)…", time.Since(t.UpdatedAt).Round(time.Second))
		if err := r.store.AppendTaskMessage(ctx, t.ID, line, false); err != nil {
			return Status{}, err
		}
		if t, err = r.store.TaskByID(ctx, t.ID); err != nil {
			return Status{}, err
		}
	}
	return Status{Completed: t.Completed, Message: t.Message}, nil
}
