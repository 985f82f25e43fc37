package commands

import (
	"context"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/xmlrpc"
)

func adminCommands() []Command {
	access := func(name, kind string, add bool) Command {
		verb := "Remove admin access from a " + kind + "."
		if add {
			verb = "Give a " + kind + " admin access (all shared accounts)."
		}
		return Command{Name: name, Help: verb, Params: []Param{p(kind, String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.ChangeAdminAccess(ctx, env.Actor, kind, a.Str(0), add)
			}}
	}
	return []Command{
		access("addAdminAccessUser", "user", true),
		access("removeAdminAccessUser", "user", false),
		access("addAdminAccessGroup", "group", true),
		access("removeAdminAccessGroup", "group", false),
		{Name: "listAdminAccess", CLIName: "list-admin-access",
			Help: "The admin-access entries, one a line: user or group, name, rights=RIGHT,… and scope=all|access-list|ACCOUNT,…, separated by tabs.",
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				list, err := env.Core.AdminAccessList(ctx)
				if err != nil {
					return nil, err
				}
				lines := []string{}
				for _, e := range list {
					lines = append(lines, core.AdminAccessLine(e))
				}
				return lines, nil
			}},
		{Name: "setAdminAccessRights", CLIName: "set-admin-access-rights",
			Help:   "Turn rights of an admin-access entry on (RIGHT=Y) or off (RIGHT=N); the others stay. Rights: dashboard, users.view, users.edit, users.balance, users.cards, users.internal, groups, accounts.view, accounts.edit, accounts.balance, accounts.sync, user-sync, options, logs, admin-rights.",
			Params: []Param{p("kind", String), p("name", String), p("rights", Words)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				changes, err := core.ParseRightChanges(a.List(2))
				if err != nil {
					return nil, err
				}
				return true, env.Core.SetAdminAccessRights(ctx, env.Actor, a.Str(0), a.Str(1), changes)
			}},
		{Name: "setAdminAccessScope", CLIName: "set-admin-access-scope",
			Help:   "Set the shared accounts an admin-access entry covers: all, access-list (accounts whose access list includes the person) or ACCOUNT[,ACCOUNT…] (top-level accounts; their sub-accounts follow).",
			Params: []Param{p("kind", String), p("name", String), p("scope", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				scope, accounts, err := core.ParseAdminScope(a.Str(2))
				if err != nil {
					return nil, err
				}
				return true, env.Core.SetAdminAccessScope(ctx, env.Actor, a.Str(0), a.Str(1), scope, accounts)
			}},
		{Name: "getConfigValue", Help: "Read a setting (API: allow-listed keys only).", Params: []Param{p("configName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				if !env.FromAPI {
					// The CLI is for whoever can read the server's configuration.
					return env.Core.LocalConfigValue(ctx, a.Str(0))
				}
				return env.Core.ConfigValue(ctx, a.Str(0))
			}},
		// PaperCut's own command-line names, used by its installer to put a
		// new web-services token in place. Local only: over XML-RPC the
		// allow-listed getConfigValue/setConfigValue stay the only doors.
		{Name: "getConfig", CLIOnly: true, Help: "Read any setting; a secret prints (set) or nothing, never its value (but health.api.key prints). Local command line only.",
			Params: []Param{p("configName", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return env.Core.LocalConfigValue(ctx, a.Str(0))
			}},
		{Name: "setConfig", CLIOnly: true, Help: "Change any setting, including auth.webservices.auth-token and health.api.key; takes effect without a restart. Local command line only.",
			Params: []Param{p("configName", String), p("configValue", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.SetConfigValue(ctx, env.Actor, a.Str(0), a.Str(1), false)
			}},
		{Name: "setConfigValue", Help: "Change a setting (API: allow-listed keys only).", Params: []Param{p("configName", String), p("configValue", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.SetConfigValue(ctx, env.Actor, a.Str(0), a.Str(1), env.FromAPI)
			}},
		{Name: "changeInternalAdminPassword", Help: "Change the built-in admin's password.", Params: []Param{p("newPassword", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.SetAdminPassword(ctx, env.Actor, a.Str(0))
			}},
	}
}

func taskCommands() []Command {
	return []Command{
		{Name: "getTaskStatus", Help: "Progress of the newest background task: {completed, message}.", NoToken: true,
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				st, err := env.Tasks.Poll(ctx)
				if err != nil {
					return nil, err
				}
				// In PaperCut's order: some clients read the members by position.
				return xmlrpc.Struct{{Name: "completed", Value: st.Completed}, {Name: "message", Value: st.Message}}, nil
			}},
	}
}
