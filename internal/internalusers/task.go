package internalusers

import (
	"context"
	"fmt"
	"strings"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/tasks"
)

// TaskKind is the background task kind that getTaskStatus reports.
const TaskKind = "batch-import-internal-users"

// ImportFileTask runs ImportFile as a background task, so getTaskStatus
// follows it, and waits for its report. If ctx ends first (the caller went
// away) the import still finishes and its report stays in the task status.
func (s *Service) ImportFileTask(ctx context.Context, tr *tasks.Runner, a core.Actor, path string, opts Options, confine bool) (string, error) {
	if tr == nil {
		rep, err := s.ImportFile(ctx, a, path, opts, confine)
		if err != nil {
			return "", err
		}
		return strings.TrimSuffix(rep.Text(), "\n"), nil
	}
	return tr.RunAndWait(ctx, TaskKind, fmt.Sprintf("Importing internal users from %s…", path), func(tctx context.Context, progress tasks.Progress) (string, error) {
		rep, err := s.ImportFile(tctx, a, path, opts, confine)
		text := ""
		if rep != nil {
			text = strings.TrimSuffix(rep.Text(), "\n")
		}
		return text, err
	})
}
