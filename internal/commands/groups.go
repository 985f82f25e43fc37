package commands

import (
	"context"
	"errors"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/store"
)

func groupCommands() []Command {
	return []Command{
		{Name: "listUserGroups", Help: "List group names in order.", Params: []Param{p("offset", Int), p("limit", Int)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				off, lim, err := page(a.Int(0), a.Int(1))
				if err != nil {
					return nil, err
				}
				groups, err := env.Store.ListGroups(ctx, off, lim)
				names := make([]string, 0, len(groups))
				for _, g := range groups {
					names = append(names, g.Name)
				}
				return names, err
			}},
		{Name: "getGroupMembers", Help: "List a group's members in order.", Params: []Param{p("group", String), p("offset", Int), p("limit", Int)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				off, lim, err := page(a.Int(1), a.Int(2))
				if err != nil {
					return nil, err
				}
				names, err := env.Store.GroupMembers(ctx, a.Str(0), off, lim)
				if errors.Is(err, store.ErrNotFound) {
					return nil, core.Errorf(core.NotFound, "group %q does not exist", a.Str(0))
				}
				if names == nil {
					names = []string{}
				}
				return names, err
			}},
		{Name: "isGroupExists", Help: "Whether a group exists.", Params: []Param{p("group", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) { return env.Store.GroupExists(ctx, a.Str(0)) }},
		{Name: "addUserToGroup", Help: "Add a user to a group.", Params: []Param{p("user", String), p("group", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.ChangeGroupMember(ctx, env.Actor, a.Str(0), a.Str(1), true)
			}},
		{Name: "removeUserFromGroup", Help: "Remove a user from a group.", Params: []Param{p("user", String), p("group", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.ChangeGroupMember(ctx, env.Actor, a.Str(0), a.Str(1), false)
			}},
	}
}
