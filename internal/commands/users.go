package commands

import (
	"context"
	"errors"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/internalusers"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

func p(name string, k Kind) Param   { return Param{Name: name, Kind: k} }
func opt(name string, k Kind) Param { return Param{Name: name, Kind: k, Optional: true} }

// miss turns "not found" into the API's answer for a lookup miss: "".
func miss(name string, err error) (any, error) {
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return nil, err
	}
	return name, nil
}

func userCommands() []Command {
	return []Command{
		{Name: "isUserExists", Help: "Whether a user exists.", Params: []Param{p("user", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				_, err := env.Store.UserByName(ctx, a.Str(0))
				if errors.Is(err, store.ErrNotFound) {
					return false, nil
				}
				return err == nil, err
			}},
		{Name: "addNewUser", Help: "Create a user (as a directory user would be created on first login).", Params: []Param{p("user", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.CreateUser(ctx, env.Actor, &model.User{Username: a.Str(0)})
			}},
		{Name: "addNewInternalUser", Help: "Create an internal user with a password.",
			Params: []Param{p("user", String), p("password", String), opt("fullName", String), opt("email", String), opt("cardId", String), opt("pin", String), opt("sendEmail", Bool)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				in := core.NewInternalUser{Username: a.Str(0), Password: a.Str(1), FullName: a.Str(2), Email: a.Str(3), Card: a.Str(4), PIN: a.Str(5)}
				if a.Bool(6) {
					in.AfterCreate = internalusers.New(env.Core).WelcomeMail(ctx)
				}
				_, err := env.Core.CreateInternalUser(ctx, env.Actor, in)
				return true, err
			}},
		{Name: "renameUserAccount", Help: "Rename a user.", Params: []Param{p("currentUserName", String), p("newUserName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.RenameUser(ctx, env.Actor, a.Str(0), a.Str(1))
			}},
		{Name: "deleteExistingUser", Help: "Delete a user (history is kept; redact wipes personal details).", Params: []Param{p("user", String), opt("redact", Bool)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.DeleteUser(ctx, env.Actor, a.Str(0), a.Bool(1))
			}},
		{Name: "getUserProperty", Help: "Read one user property.", Params: []Param{p("user", String), p("property", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return env.Core.UserProperty(ctx, a.Str(0), a.Str(1))
			}},
		{Name: "getUserProperties", Help: "Read several user properties.", Params: []Param{p("user", String), p("properties", StringList)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return env.Core.UserProperties(ctx, a.Str(0), a.List(1))
			}},
		{Name: "setUserProperty", Help: "Set one user property.", Params: []Param{p("user", String), p("property", String), p("value", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.SetUserProperties(ctx, env.Actor, a.Str(0), []core.UserPropertyChange{{Name: a.Str(1), Value: a.Str(2)}})
			}},
		{Name: "setUserProperties", Help: "Set several user properties at once (all or none).", Params: []Param{p("user", String), p("propertyNamesAndValues", Pairs)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				var ch []core.UserPropertyChange
				for _, pv := range a.Pairs(1) {
					ch = append(ch, core.UserPropertyChange{Name: pv[0], Value: pv[1]})
				}
				return true, env.Core.SetUserProperties(ctx, env.Actor, a.Str(0), ch)
			}},
		{Name: "getTotalUsers", Help: "Number of users.",
			Run: func(ctx context.Context, env *Env, a Args) (any, error) { return env.Store.CountUsers(ctx) }},
		{Name: "getUserGroups", Help: "Groups a user belongs to.", Params: []Param{p("user", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				u, err := env.Core.User(ctx, a.Str(0))
				if err != nil {
					return nil, err
				}
				return env.Store.UserGroups(ctx, u.ID)
			}},
		{Name: "lookUpUserNameByCardNo", Help: "Username owning a card number (either field), through the lookup converters.", Params: []Param{p("cardNo", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) { return lookUpCard(ctx, env, a.Str(0), 0) }},
		{Name: "lookUpUserNameByIDNo", Help: "Username owning an ID number (either field).", Params: []Param{p("idNo", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) { return lookUpCard(ctx, env, a.Str(0), 0) }},
		{Name: "lookUpUserNameByEmail", Help: "Username with this email address.", Params: []Param{p("email", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				u, err := env.Store.UserByEmail(ctx, a.Str(0))
				if err != nil {
					return miss("", err)
				}
				return u.Username, nil
			}},
		{Name: "lookUpUserNameBySecondaryUserName", Help: "Username with this username alias.", Params: []Param{p("secondaryUserName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				u, err := env.Store.UserByAlias(ctx, a.Str(0))
				if err != nil {
					return miss("", err)
				}
				return u.Username, nil
			}},
		{Name: "lookUpUsersByFullName", Help: "Usernames with this full name.", Params: []Param{p("fullName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				names, err := env.Store.UsernamesByFullName(ctx, a.Str(0))
				if names == nil {
					names = []string{}
				}
				return names, err
			}},
	}
}

// lookUpCard finds a user by card number in either field. The number is
// tried as given and then through the configured converter chain (card
// readers send numbers in different encodings). A miss is "".
func lookUpCard(ctx context.Context, env *Env, number string, _ int) (any, error) {
	number = cards.Normalize(number)
	if number == "" || len(number) > cards.MaxConvertInput {
		return "", nil
	}
	name, err := env.Store.UsernameByCard(ctx, number)
	if err == nil {
		return name, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	spec := env.Settings.Get(ctx, settings.CardConverters)
	if spec == "" {
		return "", nil
	}
	chain, err := cards.ParseConverters(spec)
	if err != nil {
		return nil, core.Errorf(core.Invalid, "the card converter setting is invalid: %v", err)
	}
	converted, err := chain.Convert(number)
	if err != nil {
		return "", nil // a number the converters cannot read belongs to nobody
	}
	name, err = env.Store.UsernameByCard(ctx, converted)
	return miss(name, err)
}
