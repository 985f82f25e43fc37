package commands

import (
	"context"
	"time"

	"github.com/reamprint/ream/internal/accounts"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/tasks"
)

func accountSync(env *Env) (*accounts.Service, error) {
	if env.Features == nil || env.Features.AccountSync == nil {
		return nil, core.Errorf(core.Invalid, "shared account sync is not available on this server")
	}
	return env.Features.AccountSync, nil
}

func accountSyncCommands() []Command {
	return []Command{
		{Name: "batchImportSharedAccounts",
			Help: "Import or update shared accounts from a tab-separated file on the server; returns the report. " +
				"Over the API the file must lie under sync.allowed-roots; the import runs as a background task that getTaskStatus follows. " +
				"A run deleting more than the delete limit stops until confirmDeleteCount names the exact number.",
			Params: []Param{p("file", String), p("test", Bool), p("deleteNonExistentAccounts", Bool), opt("confirmDeleteCount", Int)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				svc, err := accountSync(env)
				if err != nil {
					return nil, err
				}
				actor, path, test, confine := env.Actor, a.Str(0), a.Bool(1), env.FromAPI
				opts := accounts.Options{DeleteMissing: a.Bool(2), ConfirmDelete: a.Int(3)}
				work := func(ctx context.Context, progress func(string)) (string, error) {
					if progress != nil {
						lines, stop := asyncLines(progress)
						defer stop()
						opts.Progress = throttledProgress(lines)
					}
					r, err := svc.BatchImportPath(ctx, actor, path, test, confine, opts)
					if err != nil {
						return "", err
					}
					if r.Status == accounts.StatusFailed || (r.Status == accounts.StatusRefused && !test) {
						return "", core.Errorf(core.Invalid, "%s", r.Text())
					}
					return r.Text(), nil
				}
				if !env.FromAPI || env.Tasks == nil {
					return work(ctx, nil)
				}
				return runTaskAndWait(ctx, env, "account-import", "Shared account batch import started.", work)
			}},
	}
}

// runTaskAndWait runs work as a background task, so that getTaskStatus
// shows its progress to pollers, and waits for it: PaperCut's
// batchImportSharedAccounts answers with the report.
func runTaskAndWait(ctx context.Context, env *Env, kind, first string, work func(ctx context.Context, progress func(string)) (string, error)) (string, error) {
	type outcome struct {
		report string
		err    error
	}
	done := make(chan outcome, 1)
	id, err := env.Tasks.Start(ctx, kind, first, func(ctx context.Context, progress tasks.Progress) (string, error) {
		report, err := work(ctx, progress)
		done <- outcome{report, err}
		return report, err
	})
	if err != nil {
		return "", err
	}
	var o outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		return "", core.Errorf(core.Invalid, "the caller went away; the import goes on as a background task that getTaskStatus reports")
	}
	// The runner records the report as the task's last line just after
	// work returns; answer once it has, so that a getTaskStatus right after
	// this call sees the task completed.
	for {
		t, err := env.Store.TaskByID(ctx, id)
		if err != nil || t.Completed {
			break
		}
		select {
		case <-ctx.Done():
			return o.report, o.err
		case <-time.After(5 * time.Millisecond):
		}
	}
	return o.report, o.err
}

// asyncLines hands progress lines to a goroutine that writes them, because
// the import calls its progress from inside its transaction, and on SQLite
// that transaction holds the only write connection the task's line needs.
// A line that finds the queue full is dropped (a later one follows). stop
// waits until the queued lines are written.
func asyncLines(write func(string)) (line func(string), stop func()) {
	queue := make(chan string, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for l := range queue {
			write(l)
		}
	}()
	line = func(l string) {
		select {
		case queue <- l:
		default:
		}
	}
	return line, func() { close(queue); <-done }
}

// throttledProgress turns progress into task lines, one per phase change
// and one per 10 % of applying, so a million-account run stays readable.
func throttledProgress(line func(string)) func(accounts.Progress) {
	lastPhase, lastTenth := "", -1
	return func(p accounts.Progress) {
		tenth := 0
		if p.Total > 0 {
			tenth = p.Done * 10 / p.Total
		}
		if p.Phase == lastPhase && (p.Phase != accounts.PhaseApplying || tenth == lastTenth) {
			return
		}
		lastPhase, lastTenth = p.Phase, tenth
		line(p.String())
	}
}
