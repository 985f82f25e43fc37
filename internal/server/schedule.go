package server

import (
	"context"
	"time"

	"github.com/reamprint/ream/internal/store"
)

// Job is a named scheduled job: user sync, shared account sync, clean-ups.
// With Exclusive, only one of several servers sharing a database runs it
// at a time (a lease in the job_locks table).
type Job struct {
	Name      string
	Exclusive bool
	// Next returns when the job should next run after now, or the zero
	// time when it is switched off.
	Next func(ctx context.Context, now time.Time) time.Time
	Run  func(ctx context.Context) error
}

func builtinJobs(a *App) []Job {
	return []Job{
		{Name: "purge-expired-sessions", Next: every(time.Hour), Run: func(ctx context.Context) error {
			if _, err := a.Store.PurgeExpiredSessions(ctx); err != nil {
				return err
			}
			if err := a.Store.PurgePasswordTokens(ctx); err != nil {
				return err
			}
			return a.Store.PurgeLoginEvents(ctx)
		}},
		{Name: "record-daily-counts", Next: every(time.Hour), Run: func(ctx context.Context) error {
			return a.Store.RecordDailyCounts(ctx, time.Now().Format("2006-01-02"))
		}},
		// A run whose server died on another host is closed once its
		// heartbeat expires; one on this host is closed at once anyway.
		{Name: "recover-interrupted-runs", Next: every(time.Minute), Run: func(ctx context.Context) error {
			n, err := a.Store.RecoverInterruptedRuns(ctx)
			if n > 0 {
				a.Log.Warn("sync runs and tasks of a stopped server recorded as interrupted", "count", n)
			}
			return err
		}},
	}
}

// every runs a job at a fixed interval, aligned to the clock so that
// asking again gives the same time.
func every(d time.Duration) func(context.Context, time.Time) time.Time {
	return func(_ context.Context, now time.Time) time.Time { return now.Truncate(d).Add(d) }
}

// runScheduler runs every job at its times until ctx ends. Each job has its
// own goroutine so a long sync does not hold up the others.
func (a *App) runScheduler(ctx context.Context) {
	holder := store.NewHolder()
	for _, job := range a.Jobs {
		go a.runJob(ctx, job, holder)
	}
}

func (a *App) runJob(ctx context.Context, job Job, holder string) {
	due := job.Next(ctx, time.Now())
	for {
		// Wake at least every minute to pick up schedules changed in the
		// admin pages; Next is aligned to the wall clock, so asking again
		// before the due time gives the same answer unless a setting changed.
		wait := time.Minute
		if !due.IsZero() && time.Until(due) < wait {
			wait = max(time.Until(due), 0)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		now := time.Now()
		if !due.IsZero() && !now.Before(due) {
			a.runJobOnce(ctx, job, holder, due)
			now = time.Now()
		}
		due = job.Next(ctx, now)
	}
}

func (a *App) runJobOnce(ctx context.Context, job Job, holder string, slot time.Time) {
	if job.Exclusive {
		// Each slot goes to exactly one server, even one that wakes late
		// after another has already finished it.
		if ok, err := a.Store.ClaimJobSlot(ctx, job.Name, slot); err != nil || !ok {
			if err != nil {
				a.Log.Error("scheduler: unable to claim job slot", "job", job.Name, "err", err)
			}
			return
		}
		ok, err := a.Store.TryLock(ctx, "job:"+job.Name, holder, 2*time.Hour)
		if err != nil {
			a.Log.Error("scheduler: unable to take job lock", "job", job.Name, "err", err)
			return
		}
		if !ok {
			a.Log.Info("scheduler: job is running on another server", "job", job.Name)
			return
		}
		defer a.Store.Unlock(context.WithoutCancel(ctx), "job:"+job.Name, holder)
	}
	start := time.Now()
	if err := job.Run(ctx); err != nil {
		a.Log.Error("scheduler: job failed", "job", job.Name, "err", err, "duration", time.Since(start))
		return
	}
	a.Log.Info("scheduler: job done", "job", job.Name, "duration", time.Since(start))
}
