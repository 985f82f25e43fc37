package commands

import (
	"context"

	"github.com/reamprint/ream/internal/internalusers"
)

// internalUserCommands is the batch import of internal users (SPEC §6, §7).
func internalUserCommands() []Command {
	return []Command{
		{Name: "batchImportInternalUsers",
			Help:   "Create or update internal users from a tab-separated file on the server (username, password, credit balance, restricted, full name, email, department, office, primary card/ID, card PIN, notes); returns the report. Over the API the file must lie under sync.allowed-roots.",
			Params: []Param{p("file", String), p("overwriteExistingPasswords", Bool), p("overwriteExistingPINs", Bool), opt("emailOnCreation", Bool)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				opts := internalusers.Options{OverwritePasswords: a.Bool(1), OverwritePINs: a.Bool(2), EmailOnCreation: a.Bool(3)}
				return internalusers.New(env.Core).ImportFileTask(ctx, env.Tasks, env.Actor, a.Str(0), opts, env.FromAPI)
			}},
	}
}
