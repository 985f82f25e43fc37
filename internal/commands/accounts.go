package commands

import (
	"context"
	"errors"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/store"
)

func accountCommands() []Command {
	return []Command{
		{Name: "addNewSharedAccount", Help: `Create a shared account ("Parent" or "Parent\Sub").`, Params: []Param{p("sharedAccountName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				_, err := env.Core.CreateAccount(ctx, env.Actor, a.Str(0), nil)
				return true, err
			}},
		{Name: "renameSharedAccount", Help: "Rename a shared account.", Params: []Param{p("currentSharedAccountName", String), p("newSharedAccountName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.RenameAccount(ctx, env.Actor, a.Str(0), a.Str(1))
			}},
		{Name: "deleteExistingSharedAccount", Help: "Delete a shared account (history kept; restorable).", Params: []Param{p("sharedAccountName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.DeleteAccount(ctx, env.Actor, a.Str(0))
			}},
		{Name: "isSharedAccountExists", Help: "Whether a shared account exists.", Params: []Param{p("sharedAccountName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				_, err := env.Store.AccountByName(ctx, a.Str(0))
				if errors.Is(err, store.ErrNotFound) {
					return false, nil
				}
				return err == nil, err
			}},
		{Name: "getSharedAccountProperty", Help: "Read one shared account property.", Params: []Param{p("sharedAccountName", String), p("property", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return env.Core.AccountProperty(ctx, a.Str(0), a.Str(1))
			}},
		{Name: "getSharedAccountProperties", Help: "Read several shared account properties.", Params: []Param{p("sharedAccountName", String), p("properties", StringList)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return env.Core.AccountProperties(ctx, a.Str(0), a.List(1))
			}},
		{Name: "setSharedAccountProperty", Help: "Set one shared account property.", Params: []Param{p("sharedAccountName", String), p("property", String), p("value", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.SetAccountProperties(ctx, env.Actor, a.Str(0), []core.AccountPropertyChange{{Name: a.Str(1), Value: a.Str(2)}})
			}},
		{Name: "setSharedAccountProperties", Help: "Set several shared account properties (all or none).", Params: []Param{p("sharedAccountName", String), p("propertyNamesAndValues", Pairs)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				var ch []core.AccountPropertyChange
				for _, pv := range a.Pairs(1) {
					ch = append(ch, core.AccountPropertyChange{Name: pv[0], Value: pv[1]})
				}
				return true, env.Core.SetAccountProperties(ctx, env.Actor, a.Str(0), ch)
			}},
		{Name: "getSharedAccountAccountBalance", Help: "A shared account's balance.", Params: []Param{p("sharedAccountName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				acc, err := env.Core.Account(ctx, a.Str(0))
				if err != nil {
					return nil, err
				}
				return acc.Balance, nil
			}},
		{Name: "setSharedAccountAccountBalance", Help: "Set a shared account's balance.", Params: []Param{p("sharedAccountName", String), p("balance", Amount), opt("comment", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				_, err := env.Core.AdjustAccountBalance(ctx, env.Actor, a.Str(0), a.Amount(1), true, a.Str(2))
				return true, err
			}},
		{Name: "adjustSharedAccountAccountBalance", Help: "Add to (or subtract from) a shared account's balance.", Params: []Param{p("sharedAccountName", String), p("adjustment", Amount), opt("comment", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				_, err := env.Core.AdjustAccountBalance(ctx, env.Actor, a.Str(0), a.Amount(1), false, a.Str(2))
				return true, err
			}},
		accessCommand("addSharedAccountAccessUser", "user", true),
		accessCommand("removeSharedAccountAccessUser", "user", false),
		accessCommand("addSharedAccountAccessGroup", "group", true),
		accessCommand("removeSharedAccountAccessGroup", "group", false),
		{Name: "disableSharedAccount", Help: "Disable a shared account for some minutes (0 or less: until enabled again).", Params: []Param{p("sharedAccountName", String), p("minutes", Int)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.DisableAccount(ctx, env.Actor, a.Str(0), a.Int(1))
			}},
	}
}

func accessCommand(name, kind string, add bool) Command {
	verb := "Remove a " + kind + " from"
	if add {
		verb = "Give a " + kind + " access to"
	}
	return Command{Name: name, Help: verb + " a shared account.", Params: []Param{p("sharedAccountName", String), p(kind, String)},
		Run: func(ctx context.Context, env *Env, a Args) (any, error) {
			return true, env.Core.ChangeAccountAccess(ctx, env.Actor, a.Str(0), kind, a.Str(1), add)
		}}
}
