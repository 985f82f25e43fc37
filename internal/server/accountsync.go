package server

import (
	"context"
	"io"
	"time"

	"github.com/reamprint/ream/internal/accounts"
)

func init() {
	register(Feature{
		Name: "accountsync",
		// The shared account sync serves the command table
		// (batchImportSharedAccounts), the admin pages, `ream accounts
		// sync`, and its hourly or overnight schedule, which it runs on
		// exactly one server per scheduled time (RunScheduled claims it).
		Setup: func(ctx context.Context, app *App) error {
			svc := accounts.NewService(app.Store, app.Settings, app.Config.Sync.AllowedRoots, app.Log)
			app.Features.AccountSync = svc
			app.Jobs = append(app.Jobs, Job{
				Name: "shared-account-sync",
				Next: func(_ context.Context, now time.Time) time.Time { return svc.NextRun(now) },
				Run: func(ctx context.Context) error {
					_, err := svc.RunScheduled(ctx)
					return err
				},
			})
			return nil
		},
		CLI: map[string]CLICommand{
			"accounts": {
				Help: "shared account sync: accounts sync [--test] [--delete-missing] [--confirm-delete N] [--json]",
				Run: func(ctx context.Context, app *App, args []string, stdout, stderr io.Writer) int {
					if len(args) == 0 || args[0] != "sync" {
						io.WriteString(stderr, "usage: ream accounts sync [--test] [--delete-missing] [--confirm-delete N] [--json] [--file PATH | --directory PATH [--subdirectories]]\n")
						return accounts.ExitUsage
					}
					return accounts.RunCLI(ctx, app.Features.AccountSync, args[1:], stdout, stderr)
				},
			},
		},
	})
}
