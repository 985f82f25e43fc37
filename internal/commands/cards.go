package commands

import (
	"context"
	"fmt"
	"os"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/safepath"
	"github.com/reamprint/ream/internal/tasks"
)

func cardService(env *Env) (*cards.Service, error) {
	if env.Features == nil || env.Features.Cards == nil {
		return nil, core.Errorf(core.Invalid, "the card service is not available on this server")
	}
	return env.Features.Cards, nil
}

func cardCommands() []Command {
	return []Command{
		{Name: "batchImportUserCardIdNumbers", Help: "Set primary Card/ID numbers (and PINs) from a server file of username<TAB>card[<TAB>PIN] lines; numbers owned by someone else are skipped and reported (background task).",
			Params: []Param{p("file", String), p("overwriteExistingPINs", Bool)},
			Run:    batchImportCards},
	}
}

// batchImportCards runs the import as a background task, so that
// getTaskStatus follows it, and answers with its report. Over the API the
// file must lie under sync.allowed-roots; server-command may name any file
// the server can read.
func batchImportCards(ctx context.Context, env *Env, a Args) (any, error) {
	svc, err := cardService(env)
	if err != nil {
		return nil, err
	}
	path := a.Str(0)
	if path == "" {
		return nil, core.Errorf(core.Invalid, "file: give the server path of the card import file")
	}
	if env.FromAPI {
		if path, err = safepath.Resolve(env.Core.Config.Sync.AllowedRoots, path); err != nil {
			return nil, core.Errorf(core.Forbidden, "file: %v", err)
		}
	}
	actor, overwrite := env.Actor, a.Bool(1)
	work := func(ctx context.Context) (string, error) {
		f, err := os.Open(path)
		if err != nil {
			return "", core.Errorf(core.Invalid, "file: unable to open %q: %v", path, err)
		}
		defer f.Close()
		rep, err := svc.Import(ctx, actor, f, overwrite)
		if err != nil {
			return "", err
		}
		return rep.String(), nil
	}
	if env.Tasks == nil {
		return work(ctx)
	}
	return env.Tasks.RunAndWait(ctx, "card-import", fmt.Sprintf("Batch card import of %s started.", a.Str(0)),
		func(ctx context.Context, _ tasks.Progress) (string, error) { return work(ctx) })
}
