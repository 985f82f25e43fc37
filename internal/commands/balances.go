package commands

import (
	"context"
	"errors"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/store"
)

// personalAccount refuses the optional account-name argument of the
// balance calls: Ream keeps one personal balance per user.
func personalAccount(a Args, i int) error {
	if name := a.Str(i); name != "" && name != "default" {
		return core.Errorf(core.Invalid, "account %q: Ream keeps a single personal balance per user; leave the account name out", name)
	}
	return nil
}

func balanceCommands() []Command {
	return []Command{
		{Name: "getUserAccountBalance", Help: "A user's balance.", Params: []Param{p("user", String), opt("accountName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				if err := personalAccount(a, 1); err != nil {
					return nil, err
				}
				u, err := env.Core.User(ctx, a.Str(0))
				if err != nil {
					return nil, err
				}
				return u.Balance, nil
			}},
		{Name: "setUserAccountBalance", Help: "Set a user's balance.", Params: []Param{p("user", String), p("balance", Amount), opt("comment", String), opt("accountName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				if err := personalAccount(a, 3); err != nil {
					return nil, err
				}
				_, err := env.Core.AdjustUserBalance(ctx, env.Actor, a.Str(0), a.Amount(1), true, a.Str(2))
				return true, err
			}},
		{Name: "adjustUserAccountBalance", Help: "Add to (or subtract from) a user's balance.", Params: []Param{p("user", String), p("adjustment", Amount), opt("comment", String), opt("accountName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				if err := personalAccount(a, 3); err != nil {
					return nil, err
				}
				_, err := env.Core.AdjustUserBalance(ctx, env.Actor, a.Str(0), a.Amount(1), false, a.Str(2))
				return true, err
			}},
		{Name: "adjustUserAccountBalanceIfAvailable", Help: "Adjust a balance only if a restricted user's funds allow it; returns whether it did.", Params: []Param{p("user", String), p("adjustment", Amount), opt("comment", String), opt("accountName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				if err := personalAccount(a, 3); err != nil {
					return nil, err
				}
				return env.Core.AdjustUserBalanceIfAvailable(ctx, env.Actor, a.Str(0), a.Amount(1), a.Str(2))
			}},
		{Name: "adjustUserAccountBalanceByCardNumber", Help: "Adjust the balance of the user owning a card number; false when no user has it.", Params: []Param{p("cardNumber", String), p("adjustment", Amount), opt("comment", String), opt("accountName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				if err := personalAccount(a, 3); err != nil {
					return nil, err
				}
				name, err := lookUpCard(ctx, env, a.Str(0), 0)
				if err != nil {
					return nil, err
				}
				if name == "" {
					return false, nil
				}
				_, err = env.Core.AdjustUserBalance(ctx, env.Actor, name.(string), a.Amount(1), false, a.Str(2))
				if errors.Is(err, store.ErrNotFound) {
					return false, nil
				}
				return err == nil, err
			}},
	}
}
