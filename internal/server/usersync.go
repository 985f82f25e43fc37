package server

import (
	"context"
	"io"

	"github.com/reamprint/ream/internal/usersync"
)

func init() {
	register(Feature{
		Name: "usersync",
		// The user/group sync serves the command table, checks directory
		// users' passwords at login and runs nightly on one server.
		Setup: func(ctx context.Context, app *App) error {
			svc := usersync.New(app.Core, app.Tasks)
			app.Features.UserSync = svc
			app.Authenticator = svc
			app.Jobs = append(app.Jobs, Job{
				Name: "user-sync",
				// RunScheduled takes its own lock for the night, so that a
				// server waking a little later does not run it again.
				Next: svc.NextRun,
				Run:  svc.RunScheduled,
			})
			return nil
		},
		CLI: map[string]CLICommand{
			"users": {
				Help: "user/group sync: users sync [--test] [--delete-missing] [--confirm-delete N] [--no-update]",
				Run: func(ctx context.Context, app *App, args []string, stdout, stderr io.Writer) int {
					if len(args) == 0 || args[0] != "sync" {
						io.WriteString(stderr, "usage: ream users sync [--test] [--delete-missing] [--confirm-delete N] [--no-update]\n")
						return usersync.ExitUsage
					}
					return usersync.RunCLI(ctx, app.Features.UserSync, args[1:], stdout, stderr)
				},
			},
		},
	})
}
