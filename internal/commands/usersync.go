package commands

import (
	"context"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/tasks"
)

// UserSyncService is what these commands need of internal/usersync.Service.
// Each method runs to the end and returns its report as text.
type UserSyncService interface {
	SourceConfigured(ctx context.Context) bool
	PerformSync(ctx context.Context, a core.Actor, advanced, deleteMissing, updateDetails bool, progress func(string)) (string, error)
	AddNewUsers(ctx context.Context, a core.Actor, progress func(string)) (string, error)
	ImportGroupReport(ctx context.Context, a core.Actor, name string) (string, error)
	SyncGroupReport(ctx context.Context, a core.Actor, name string) (string, error)
	BatchImportUsers(ctx context.Context, a core.Actor, path string, createNew, confine bool) (string, error)
}

func userSync(env *Env) (UserSyncService, error) {
	if env.Features == nil || env.Features.UserSync == nil {
		return nil, core.Errorf(core.Invalid, "user/group sync is not available on this server")
	}
	return env.Features.UserSync, nil
}

// inBackground runs work as a background task over the API (the answer is
// true; getTaskStatus reports progress and the report) and in the
// foreground from server-command, whose process would otherwise end first
// (the answer is the report).
func inBackground(ctx context.Context, env *Env, kind, first string, work func(ctx context.Context, progress func(string)) (string, error)) (any, error) {
	if !env.FromAPI || env.Tasks == nil {
		return work(ctx, nil)
	}
	_, err := env.Tasks.Start(ctx, kind, first, func(ctx context.Context, progress tasks.Progress) (string, error) {
		return work(ctx, progress)
	})
	return true, err
}

func userSyncCommands() []Command {
	return []Command{
		{Name: "performUserAndGroupSync", Help: "Synchronize users and groups with the directory now (background task).",
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				svc, err := userSync(env)
				if err != nil {
					return nil, err
				}
				actor := env.Actor
				return inBackground(ctx, env, "user-sync", "User/group sync started.", func(ctx context.Context, progress func(string)) (string, error) {
					return svc.PerformSync(ctx, actor, false, false, false, progress)
				})
			}},
		{Name: "performUserAndGroupSyncAdvanced", Help: "Synchronize users and groups, choosing to delete users missing from the directory and to update details (background task).",
			Params: []Param{p("deleteNonExistentUsers", Bool), p("updateUserDetails", Bool)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				svc, err := userSync(env)
				if err != nil {
					return nil, err
				}
				actor, del, upd := env.Actor, a.Bool(0), a.Bool(1)
				return inBackground(ctx, env, "user-sync", "User/group sync started.", func(ctx context.Context, progress func(string)) (string, error) {
					return svc.PerformSync(ctx, actor, true, del, upd, progress)
				})
			}},
		{Name: "addNewUsers", Help: "Import users the directory has and Ream lacks, changing no existing user (background task).",
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				svc, err := userSync(env)
				if err != nil {
					return nil, err
				}
				actor := env.Actor
				return inBackground(ctx, env, "user-sync", "Adding new users started.", func(ctx context.Context, progress func(string)) (string, error) {
					return svc.AddNewUsers(ctx, actor, progress)
				})
			}},
		{Name: "syncGroup", Help: "Refresh a group's members from the directory (background task).", Params: []Param{p("group", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				svc, err := userSync(env)
				if err != nil {
					return nil, err
				}
				actor, name := env.Actor, a.Str(0)
				return inBackground(ctx, env, "group-sync", "Group sync of "+name+" started.", func(ctx context.Context, _ func(string)) (string, error) {
					return svc.SyncGroupReport(ctx, actor, name)
				})
			}},
		{Name: "addNewGroup", Help: "Add a group: from the directory with its members when a sync source is set (background task), otherwise a group made in Ream.",
			Params: []Param{p("group", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				svc, err := userSync(env)
				if err != nil || !svc.SourceConfigured(ctx) {
					return true, env.Core.CreateGroup(ctx, env.Actor, a.Str(0))
				}
				actor, name := env.Actor, a.Str(0)
				return inBackground(ctx, env, "group-sync", "Adding group "+name+" started.", func(ctx context.Context, _ func(string)) (string, error) {
					return svc.ImportGroupReport(ctx, actor, name)
				})
			}},
		{Name: "removeGroup", Help: "Remove a group (its users stay).", Params: []Param{p("group", String)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				return true, env.Core.RemoveGroup(ctx, env.Actor, a.Str(0))
			}},
		{Name: "batchImportUsers", Help: "Import or update users from a tab-separated file on the server (background task).",
			Params: []Param{p("file", String), opt("createNewUsers", Bool)},
			Run: func(ctx context.Context, env *Env, a Args) (any, error) {
				svc, err := userSync(env)
				if err != nil {
					return nil, err
				}
				actor, path, create, confine := env.Actor, a.Str(0), a.Bool(1), env.FromAPI
				return inBackground(ctx, env, "user-import", "Batch user import started.", func(ctx context.Context, _ func(string)) (string, error) {
					return svc.BatchImportUsers(ctx, actor, path, create, confine)
				})
			}},
	}
}
