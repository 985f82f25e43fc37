package accounts

import (
	"context"
	"sync"

	"github.com/reamprint/ream/internal/core"
)

// RunStatus is what the run started with Start is doing, for the admin
// page's live progress.
type RunStatus struct {
	Running  bool
	Progress Progress
	Report   *Report // the finished run's report
	Err      string  // why the finished run could not run at all
}

// backgroundRun is the state behind Status.
type backgroundRun struct {
	mu     sync.Mutex
	status RunStatus
}

// Start runs a sync in the background (Synchronize Now on the admin page):
// the page follows it with Status. ErrBusy when one is already running.
func (s *Service) Start(ctx context.Context, actor core.Actor, opts Options) error {
	if err := requireAllAccounts(actor); err != nil {
		return err
	}
	b := &s.background
	b.mu.Lock()
	if b.status.Running {
		b.mu.Unlock()
		return ErrBusy
	}
	b.status = RunStatus{Running: true, Progress: Progress{Phase: PhaseReading}}
	b.mu.Unlock()
	opts.Progress = func(p Progress) {
		b.mu.Lock()
		b.status.Progress = p
		b.mu.Unlock()
	}
	go func() {
		// The run outlives the request that started it.
		r, err := s.Run(context.WithoutCancel(ctx), actor, opts)
		b.mu.Lock()
		defer b.mu.Unlock()
		b.status.Running, b.status.Report = false, r
		if err != nil {
			b.status.Err = err.Error()
			if e, ok := core.AsError(err); ok {
				b.status.Err = e.Msg
			}
		}
	}()
	return nil
}

// Status is the state of the run started with Start (or of none).
func (s *Service) Status() RunStatus {
	s.background.mu.Lock()
	defer s.background.mu.Unlock()
	return s.background.status
}
