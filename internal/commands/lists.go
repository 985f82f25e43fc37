package commands

import (
	"context"
	"errors"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// MaxListLimit is the largest limit any list method takes over XML-RPC. A
// limit up to it is always honoured in full (a short page means the end of
// the list, the way PaperCut's example scripts page); a larger one is
// refused naming it, never cut. server-command has no maximum: it streams.
const MaxListLimit = 10000

// ListFunc streams a list command's names from offset, at most limit of
// them (limit < 0: all), to emit, in order. It must not hold them all.
type ListFunc func(ctx context.Context, env *Env, a Args, offset, limit int, emit func(string) error) error

// listCommand declares a list method: its leading parameters, then
// offset and limit, then any trailing optional ones. Offset and limit may
// be left out on the command line (everything is listed, streamed);
// over XML-RPC they are required, as PaperCut's API has them.
func listCommand(name, help string, lead []Param, trail []Param, list ListFunc) Command {
	params := append(append(append([]Param(nil), lead...), opt("offset", Int), opt("limit", Int)), trail...)
	at := len(lead)
	help += " Over XML-RPC limit is at most 10000 (MaxListLimit), always answered in full; on the command line offset and limit may be left out: all, streamed."
	return Command{Name: name, Help: help, Params: params, List: list, ListAt: at,
		Run: func(ctx context.Context, env *Env, a Args) (any, error) {
			off, lim, err := listRange(env, a, at)
			if err != nil {
				return nil, err
			}
			names := []string{}
			err = list(ctx, env, a, off, lim, func(s string) error { names = append(names, s); return nil })
			if err != nil {
				return nil, err
			}
			return names, nil
		}}
}

// listRange reads and checks a list command's offset and limit.
func listRange(env *Env, a Args, at int) (offset, limit int, err error) {
	if env.FromAPI && (!a.Has(at) || !a.Has(at+1)) {
		return 0, 0, core.Errorf(core.Invalid, "%s takes offset and limit over XML-RPC (limit 1 to %d)", a.cmd.Name, MaxListLimit)
	}
	offset, limit = a.Int(at), -1
	if offset < 0 {
		return 0, 0, core.Errorf(core.Invalid, "offset must not be negative, got %d", offset)
	}
	if a.Has(at + 1) {
		limit = a.Int(at + 1)
		if limit <= 0 {
			return 0, 0, core.Errorf(core.Invalid, "limit must be at least 1, got %d", limit)
		}
		if env.FromAPI && limit > MaxListLimit {
			return 0, 0, core.Errorf(core.Invalid, "limit must be at most %d (the maximum of every list method), got %d: page with offset", MaxListLimit, limit)
		}
	}
	return offset, limit, nil
}

func listCommands() []Command {
	return []Command{
		listCommand("listUserAccounts", "List usernames in order.", nil, nil,
			func(ctx context.Context, env *Env, a Args, off, lim int, emit func(string) error) error {
				return env.Store.EachUsername(ctx, off, lim, emit)
			}),
		listCommand("listSharedAccounts", `List shared account names in order ("Parent", then its "Parent\Sub" accounts).`, nil, nil,
			func(ctx context.Context, env *Env, a Args, off, lim int, emit func(string) error) error {
				return env.Store.EachAccountName(ctx, off, lim, emit)
			}),
		listCommand("listUserSharedAccounts", "Shared accounts a user may use.", []Param{p("user", String)}, []Param{opt("ignoreAccountMode", Bool)},
			func(ctx context.Context, env *Env, a Args, off, lim int, emit func(string) error) error {
				u, err := env.Core.User(ctx, a.Str(0))
				if err != nil {
					return err
				}
				groups, err := env.Store.UserGroups(ctx, u.ID)
				if err != nil {
					return err
				}
				return env.Store.EachAccountForUser(ctx, u.Username, groups, off, lim, func(acc *model.Account) error { return emit(acc.FullName()) })
			}),
		listCommand("listUserGroups", "List group names in order.", nil, nil,
			func(ctx context.Context, env *Env, a Args, off, lim int, emit func(string) error) error {
				return env.Store.EachGroupName(ctx, off, lim, emit)
			}),
		listCommand("getGroupMembers", "List a group's members in order.", []Param{p("group", String)}, nil,
			func(ctx context.Context, env *Env, a Args, off, lim int, emit func(string) error) error {
				err := env.Store.EachGroupMember(ctx, a.Str(0), off, lim, emit)
				if errors.Is(err, store.ErrNotFound) {
					return core.Errorf(core.NotFound, "group %q does not exist", a.Str(0))
				}
				return err
			}),
	}
}
