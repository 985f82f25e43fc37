package usersync

import (
	"context"
	"fmt"

	"github.com/reamprint/ream/internal/core"
)

// The methods below serve the command table (XML-RPC and server-command):
// each runs to the end and returns the report as text; progress, when not
// nil, receives a line now and then for getTaskStatus.

// lineProgress turns a run's progress into a line every 10,000 users. It
// leaves out the apply stage: that runs inside the run's transaction,
// and task lines are written to the same database (on SQLite, through the
// one connection the transaction holds).
func lineProgress(progress func(string)) Progress {
	if progress == nil {
		return nil
	}
	last := ""
	return func(stage string, done, total int) {
		if stage == StageApplying {
			return
		}
		line := stage + "…"
		switch {
		case total > 0:
			line = fmt.Sprintf("%s: %d of %d", stage, done/10000*10000, total)
		case done > 0:
			line = fmt.Sprintf("%s: %d", stage, done/10000*10000)
		}
		if line != last {
			last = line
			progress(line)
		}
	}
}

func outcomeText(out *Outcome, err error) (string, error) {
	if out == nil || out.Plan == nil {
		return "", err
	}
	return out.Run.Message + "\n" + out.Plan.Report(), err
}

// PerformSync runs the sync with the remembered options
// (performUserAndGroupSync). With advanced, deleteMissing and
// updateDetails replace the remembered choices for this run
// (performUserAndGroupSyncAdvanced).
func (s *Service) PerformSync(ctx context.Context, a core.Actor, advanced, deleteMissing, updateDetails bool, progress func(string)) (string, error) {
	opts := s.OptionsFromSettings(ctx)
	if advanced {
		opts.DeleteMissing, opts.UpdateDetails = deleteMissing, updateDetails
	}
	return outcomeText(s.Run(ctx, a, opts, false, lineProgress(progress)))
}

// AddNewUsers imports users the source has and Ream lacks, changing no
// existing user (addNewUsers).
func (s *Service) AddNewUsers(ctx context.Context, a core.Actor, progress func(string)) (string, error) {
	opts := s.OptionsFromSettings(ctx)
	opts.ImportNew, opts.UpdateDetails, opts.DeleteMissing = true, false, false
	return outcomeText(s.Run(ctx, a, opts, false, lineProgress(progress)))
}

// ImportGroupReport is ImportGroup with its report as text (addNewGroup).
func (s *Service) ImportGroupReport(ctx context.Context, a core.Actor, name string) (string, error) {
	if !s.SourceConfigured(ctx) {
		if err := s.Core.CreateGroup(ctx, a, name); err != nil {
			return "", err
		}
		return fmt.Sprintf("Group %q created.", name), nil
	}
	return outcomeText(s.ImportGroup(ctx, a, name))
}

// SyncGroupReport is SyncGroup with its report as text (syncGroup).
func (s *Service) SyncGroupReport(ctx context.Context, a core.Actor, name string) (string, error) {
	return outcomeText(s.SyncGroup(ctx, a, name))
}

// BatchImportUsers imports a batch user file from a server path
// (batchImportUsers); confine limits the path to sync.allowed-roots.
func (s *Service) BatchImportUsers(ctx context.Context, a core.Actor, path string, createNew, confine bool) (string, error) {
	rep, err := s.BatchImportFile(ctx, a, path, BatchOptions{CreateNew: createNew}, confine)
	if err != nil {
		return "", err
	}
	return rep.Text(), nil
}
