package usersync

import (
	"context"
	"errors"
	"fmt"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// apply carries out a plan inside tx: deletions first (they free card
// numbers), then updates in plan order (each frees its old numbers before
// taking new ones), then new users through core, then group memberships.
func (s *Service) apply(ctx context.Context, tx *store.Tx, a core.Actor, p *Plan, run *model.SyncRun, progress Progress) error {
	total := len(p.Delete) + len(p.Update) + len(p.Create)
	done := 0
	step := func(n int) {
		done += n
		progress(StageApplying, done, total)
	}
	for _, u := range p.Delete {
		if err := tx.DeleteUser(ctx, u, false); err != nil {
			return fmt.Errorf("usersync: unable to delete user %q: %w", u.Username, err)
		}
		step(1)
	}
	if err := s.applyUpdates(ctx, tx, p, step); err != nil {
		return err
	}
	users := make([]*model.User, 0, len(p.Create))
	created := make([]*model.User, 0, len(p.Create)) // for the audit entry: streamed ones too
	for i := range p.Create {
		uc := &p.Create[i]
		created = append(created, uc.User)
		if uc.User.ID != 0 {
			continue // created while the source was still being read
		}
		if uc.PIN != "" {
			hash, err := s.Core.Hasher.HashPIN(ctx, uc.PIN)
			if err != nil {
				return fmt.Errorf("usersync: unable to hash the card PIN of %q: %w", uc.User.Username, err)
			}
			uc.User.PINHash = hash
		}
		users = append(users, uc.User)
	}
	why := fmt.Sprintf("created by user/group sync run #%d from %s", run.ID, p.Source)
	if err := s.Core.CreateUsersUnauditedTx(ctx, tx, users); err != nil {
		return fmt.Errorf("usersync: unable to create the new users: %w", err)
	}
	if err := s.Core.AuditUsersCreated(ctx, tx, a, created, why); err != nil {
		return err
	}
	step(len(p.Create))
	if err := s.applyGroups(ctx, tx, p); err != nil {
		return err
	}
	return tx.Audit(ctx, a.Stamp(model.AuditEntry{Action: "users.sync",
		Target: p.Source, Detail: fmt.Sprintf("run #%d: %s", run.ID, summary(p, false))}))
}

func (s *Service) applyUpdates(ctx context.Context, tx *store.Tx, p *Plan, step func(int)) error {
	if len(p.Update) == 0 {
		return nil
	}
	w, err := tx.NewUserSyncWriter(ctx)
	if err != nil {
		return err
	}
	defer w.Close()
	for i := range p.Update {
		uc := &p.Update[i]
		u := uc.User
		if uc.PIN != "" {
			if u.PINHash, err = s.Core.Hasher.HashPIN(ctx, uc.PIN); err != nil {
				return fmt.Errorf("usersync: unable to hash the card PIN of %q: %w", u.Username, err)
			}
		}
		if err := w.UpdateUser(ctx, u); err != nil {
			return err
		}
		for _, c := range []struct {
			slot     int
			old, new string
		}{{store.PrimaryCard, uc.Old.PrimaryCard, u.PrimaryCard}, {store.SecondaryCard, uc.Old.SecondaryCard, u.SecondaryCard}} {
			if c.old == c.new {
				continue
			}
			if err := tx.SetUserCard(ctx, u.ID, c.slot, c.new, model.CardOriginDirectory); err != nil {
				if errors.Is(err, store.ErrCardInUse) {
					return core.Errorf(core.Conflict, "usersync: card/ID number %q of %q was taken during the sync; run it again", c.new, u.Username)
				}
				return err
			}
		}
		if uc.Merged {
			// The password is gone: sessions opened with it end too.
			if err := tx.EndSessions(ctx, "", u.ID, ""); err != nil {
				return err
			}
		}
		step(1)
	}
	return nil
}

// applyGroups creates the new groups and applies the membership changes.
func (s *Service) applyGroups(ctx context.Context, tx *store.Tx, p *Plan) error {
	if len(p.Groups) == 0 {
		return nil
	}
	ids, err := userIDs(p)
	if err != nil {
		return err
	}
	w, err := tx.NewUserSyncWriter(ctx)
	if err != nil {
		return err
	}
	defer w.Close()
	for _, g := range p.Groups {
		if g.NotInSource {
			continue
		}
		id := g.GroupID
		if id == 0 {
			id = g.streamedID
		}
		if id == 0 {
			ng := &model.Group{Name: g.Name, SourceID: p.Source, Tracked: true}
			if err := tx.CreateGroup(ctx, ng); err != nil {
				return fmt.Errorf("usersync: unable to create group %q: %w", g.Name, err)
			}
			id = ng.ID
		}
		add := make([]int64, 0, len(g.Add)-len(g.streamed))
		for _, m := range g.Add {
			if !g.streamed[m] {
				add = append(add, ids[m])
			}
		}
		if err := w.AddMembers(ctx, id, add); err != nil {
			return err
		}
		for _, m := range g.Remove {
			if err := w.RemoveMember(ctx, id, ids[m]); err != nil {
				return err
			}
		}
	}
	return nil
}

// userIDs maps every username a group change names to its id, after the
// new users exist.
func userIDs(p *Plan) (map[string]int64, error) {
	ids := make(map[string]int64, len(p.Create))
	for _, uc := range p.Create {
		ids[uc.User.Username] = uc.User.ID
	}
	for _, g := range p.Groups {
		for _, list := range [][]string{g.Add, g.Remove} {
			for _, m := range list {
				if _, ok := ids[m]; ok {
					continue
				}
				u, ok := p.users[m]
				if !ok || u.ID == 0 {
					return nil, fmt.Errorf("usersync: group member %q is not a user", m)
				}
				ids[m] = u.ID
			}
		}
	}
	return ids, nil
}

func auditEntry(a core.Actor, action, target, detail string) model.AuditEntry {
	return a.Stamp(model.AuditEntry{Action: action, Target: target, Detail: detail})
}
