package server

import (
	"context"
	"io"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/mail"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/usersync"
)

func init() {
	register(Feature{
		Name: "cards",
		// The outbox worker delivers mail in the background; the card
		// service gives new users a number when blank (a hook inside the
		// transaction creating them) and serves Bulk User Actions, the
		// card import, the notification and the test email.
		Setup: func(ctx context.Context, app *App) error {
			worker := mail.NewWorker(app.Store, cards.SMTPConfig(app.Settings), app.Log)
			svc := cards.NewService(app.Core, worker.Wake)
			svc.DirectoryManages = func(ctx context.Context, u *model.User, slot int) bool {
				return usersync.ManagesCard(ctx, app.Settings, u, slot)
			}
			if app.Store.Flavor() == store.Postgres {
				// Servers sharing the database count the portal's card
				// registration attempts together, as they do logins: a
				// guesser gains nothing by being balanced over two.
				j, err := store.NewLimiterJournal(ctx, app.Store, app.Log, store.JournalCardAttempts)
				if err != nil {
					return err
				}
				svc.SelfLimiter = auth.NewLimiter(auth.CardRegistrationLimiterConfig)
				svc.SelfLimiter.SetPlainJournal(j)
			}
			app.Core.NewUserHooks = append(app.Core.NewUserHooks, svc.Hook())
			app.Features.Cards, app.Features.Mail = svc, worker
			app.Background = append(app.Background, func(ctx context.Context) {
				if err := worker.Run(ctx); err != nil {
					app.Log.Error("mail worker stopped", "err", err)
				}
			})
			return nil
		},
		CLI: map[string]CLICommand{
			"cards": {
				Help: "bulk-generate primary Card/ID numbers: cards generate --group G | --users a,b [--only-blank] [--yes]",
				Run: func(ctx context.Context, app *App, args []string, stdout, stderr io.Writer) int {
					return cards.RunCLI(ctx, app.Features.Cards, args, stdout, stderr)
				},
			},
		},
	})
}
