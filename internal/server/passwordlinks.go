package server

import (
	"context"
	"io"

	"github.com/reamprint/ream/internal/passwordlink"
	"github.com/reamprint/ream/internal/store"
)

func init() {
	register(Feature{
		// After "cards" (features set up in name order), whose outbox
		// worker delivers the links.
		Name: "passwordlinks",
		Setup: func(ctx context.Context, app *App) error {
			var wake func()
			if app.Features.Mail != nil {
				wake = app.Features.Mail.Wake
			}
			svc := passwordlink.New(app.Core, wake)
			if app.Store.Flavor() == store.Postgres {
				// Servers sharing the database count reset requests
				// together, as they do logins.
				j, err := store.NewLimiterJournal(ctx, app.Store, app.Log, store.JournalResetRequests)
				if err != nil {
					return err
				}
				svc.Limiter.SetJournal(j)
			}
			app.Features.PasswordLinks = svc
			return nil
		},
		CLI: map[string]CLICommand{
			"password-links": {
				Help: "email set-password links to internal users: password-links send --group G | --users a,b [--all] [--yes]",
				Run: func(ctx context.Context, app *App, args []string, stdout, stderr io.Writer) int {
					return passwordlink.RunCLI(ctx, app.Features.PasswordLinks, args, stdout, stderr)
				},
			},
		},
	})
}
