// Package tasks runs the API's background tasks (batch imports, syncs) and
// answers getTaskStatus. Task state lives in the database, so any server
// sharing it can answer the poll.
package tasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
}

// New returns a runner; tasks are cancelled when base is done.
func New(base context.Context, s *store.Store, log *slog.Logger) *Runner {
	return &Runner{store: s, log: log, base: base}
}

// Start records a task and runs fn in the background. fn's returned text
// (the report) becomes the task's last lines; an error becomes a line
// starting with "Error:".
func (r *Runner) Start(ctx context.Context, kind, first string, fn func(ctx context.Context, progress Progress) (string, error)) (int64, error) {
	id, err := r.store.CreateTask(ctx, kind, first)
	if err != nil {
		return 0, err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		bg := context.WithoutCancel(r.base)
		progress := func(line string) {
			if err := r.store.AppendTaskMessage(bg, id, line, false); err != nil {
				r.log.Error("task progress not recorded", "task", id, "err", err)
			}
		}
		report, err := r.run(fn, progress)
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
		if err := r.store.AppendTaskMessage(bg, id, last, true); err != nil {
			r.log.Error("task completion not recorded", "task", id, "err", err)
		}
	}()
	return id, nil
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

// Wait blocks until every started task has finished (graceful shutdown).
func (r *Runner) Wait() { r.wg.Wait() }

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
	if !t.Completed {
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
