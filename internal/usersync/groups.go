package usersync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/store"
)

// ImportGroup adds a directory group to Ream (PaperCut's addNewGroup): the
// group is created and tracked, and its members are imported (new users
// only when importing new users is on). Without a source it creates a
// local group instead.
func (s *Service) ImportGroup(ctx context.Context, a core.Actor, name string) (*Outcome, error) {
	if !s.SourceConfigured(ctx) {
		return nil, s.Core.CreateGroup(ctx, a, name)
	}
	return s.execute(ctx, a, job{opts: s.groupOptions(ctx), group: strings.TrimSpace(name), createGroup: true}, nil)
}

// SyncGroup refreshes one existing group's members from the source
// (PaperCut's syncGroup); it also becomes tracked.
func (s *Service) SyncGroup(ctx context.Context, a core.Actor, name string) (*Outcome, error) {
	if _, err := s.Store.GroupByName(ctx, name); errors.Is(err, store.ErrNotFound) {
		return nil, core.Errorf(core.NotFound, "group %q does not exist", name)
	} else if err != nil {
		return nil, err
	}
	return s.execute(ctx, a, job{opts: s.groupOptions(ctx), group: strings.TrimSpace(name)}, nil)
}

// UntrackGroup stops refreshing a group at every sync; its members stay.
func (s *Service) UntrackGroup(ctx context.Context, a core.Actor, name string) error {
	g, err := s.Store.GroupByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return core.Errorf(core.NotFound, "group %q does not exist", name)
	}
	if err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetGroupTracked(ctx, g.ID, false); err != nil {
			return fmt.Errorf("usersync: unable to stop tracking group %q: %w", g.Name, err)
		}
		return tx.Audit(ctx, auditEntry(a, "group.untrack", g.Name, "no longer refreshed by user/group sync"))
	})
}

func (s *Service) groupOptions(ctx context.Context) Options {
	o := s.OptionsFromSettings(ctx)
	o.OnlyGroups = nil
	return o
}

// onlyGroup narrows a read to one group and its members.
func onlyGroup(res *directory.Result, name string) (*directory.Result, error) {
	for _, g := range res.Groups {
		if !strings.EqualFold(g.Name, strings.TrimSpace(name)) {
			continue
		}
		members := make(map[string]bool, len(g.Members))
		for _, m := range g.Members {
			members[m] = true
		}
		out := &directory.Result{Groups: []directory.GroupRecord{g}}
		for _, u := range res.Users {
			if members[u.Username] {
				out.Users = append(out.Users, u)
			}
		}
		return out, nil
	}
	return nil, core.Errorf(core.NotFound, "group %q is not in the directory", name)
}

// trackGroup marks an existing group tracked and from src, or, with
// create, leaves a missing group for the plan to create.
func trackGroup(ctx context.Context, tx *store.Tx, name, src string, create bool) error {
	g, err := tx.GroupByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		if create {
			return nil
		}
		return core.Errorf(core.NotFound, "group %q does not exist", name)
	}
	if err != nil {
		return err
	}
	if err := tx.SetGroupTracked(ctx, g.ID, true); err != nil {
		return fmt.Errorf("usersync: unable to track group %q: %w", g.Name, err)
	}
	return tx.SetGroupSource(ctx, g.ID, src)
}

// DirectoryGroups reads the source and returns the names of its groups,
// for choosing which ones Ream tracks. Nothing is recorded or changed.
func (s *Service) DirectoryGroups(ctx context.Context) ([]string, error) {
	src, err := s.BuildSource(ctx)
	if err != nil {
		return nil, err
	}
	res, err := src.Read(ctx, directory.ReadOptions{IncludeDisabled: true}, nil)
	if err != nil {
		return nil, fmt.Errorf("usersync: the source could not be read: %w", err)
	}
	names := make([]string, 0, len(res.Groups))
	for _, g := range res.Groups {
		names = append(names, g.Name)
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return names, nil
}
