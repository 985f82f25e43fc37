package commands

import (
	"context"
)

func groupCommands() []Command {
	return []Command{
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
