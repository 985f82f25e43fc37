package commands

import (
	"context"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
)

// accountSelectionCommands are PaperCut's four setUserAccountSelection…
// methods. The selection is also read and written through the
// account-selection.* user properties.
func accountSelectionCommands() []Command {
	set := func(ctx context.Context, env *Env, user string, ch core.AccountSelectionChange) (any, error) {
		return true, env.Core.SetAccountSelection(ctx, env.Actor, user, ch)
	}
	return []Command{
		{Name: "setUserAccountSelectionAutoChargePersonal", Help: "Charge a user's printing to their personal account without asking (withPopupConfirmation: ask first).",
			Params: []Param{p("user", String), opt("withPopupConfirmation", Bool)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				mode := model.SelectAutoPersonal
				if a.Bool(1) {
					mode = model.SelectPersonalWithConfirm
				}
				return set(ctx, env, a.Str(0), core.AccountSelectionChange{Mode: mode})
			}},
		{Name: "setUserAccountSelectionAutoSelectSharedAccount", Help: "Charge a user's printing to one shared account, which the user must be allowed to use (chargeToPersonal: charge the personal account, allocate to the shared one).",
			Params: []Param{p("user", String), p("accountName", String), p("chargeToPersonal", Bool)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return set(ctx, env, a.Str(0), core.AccountSelectionChange{Mode: model.SelectAutoShared, Account: a.Str(1), ChargePersonal: a.Bool(2)})
			}},
		{Name: "setUserAccountSelectionStandardPopup", Help: "Show a user the standard account selection popup with these choices.",
			Params: []Param{p("user", String), p("allowPersonal", Bool), p("allowListSelection", Bool), p("allowPinCode", Bool),
				p("allowPrintingAsOtherUser", Bool), p("chargeToPersonalWhenSharedSelected", Bool), opt("defaultSharedAccount", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return set(ctx, env, a.Str(0), core.AccountSelectionChange{Mode: model.SelectStandardPopup,
					AllowPersonal: a.Bool(1), AllowList: a.Bool(2), AllowPIN: a.Bool(3), AllowOtherUser: a.Bool(4),
					ChargePersonal: a.Bool(5), DefaultAccount: a.Str(6)})
			}},
		{Name: "setUserAccountSelectionAdvancedPopup", Help: "Show a user the advanced account selection popup.",
			Params: []Param{p("user", String), p("allowPersonal", Bool), p("chargeToPersonalWhenSharedSelected", Bool), opt("defaultSharedAccount", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return set(ctx, env, a.Str(0), core.AccountSelectionChange{Mode: model.SelectAdvancedPopup,
					AllowPersonal: a.Bool(1), ChargePersonal: a.Bool(2), DefaultAccount: a.Str(3)})
			}},
	}
}
