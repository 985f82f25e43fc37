package core

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

func validateGroupName(name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return Errorf(Invalid, "group name is empty")
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) || utf8.RuneCountInString(name) > 255 {
		return Errorf(Invalid, "group name %q is not a valid name", name)
	}
	if model.IsAllUsersGroup(name) || name == model.GroupInternalUsers || name == model.GroupInternalUsersAlt {
		return Errorf(Invalid, "%q is a built-in group", name)
	}
	return nil
}

// CreateGroup adds a group made in Ream (not from a directory).
func (c *Core) CreateGroup(ctx context.Context, a Actor, name string) error {
	if err := validateGroupName(name); err != nil {
		return err
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		g := &model.Group{Name: name}
		if err := tx.CreateGroup(ctx, g); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return Errorf(Conflict, "group %q already exists", name)
			}
			return err
		}
		return audit(ctx, tx, a, "group.create", g.Name, "created")
	})
}

// RemoveGroup deletes a group and its memberships.
func (c *Core) RemoveGroup(ctx context.Context, a Actor, name string) error {
	g, err := c.Store.GroupByName(ctx, name)
	if err != nil {
		return notFound(err, "group", name)
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteGroup(ctx, g.ID); err != nil {
			return err
		}
		return audit(ctx, tx, a, "group.delete", g.Name, "removed")
	})
}

// ChangeGroupMember adds a user to, or removes a user from, a group.
func (c *Core) ChangeGroupMember(ctx context.Context, a Actor, user, group string, add bool) error {
	u, err := c.User(ctx, user)
	if err != nil {
		return err
	}
	g, err := c.Store.GroupByName(ctx, group)
	if err != nil {
		return notFound(err, "group", group)
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		action := "group.member.add"
		if add {
			err = tx.AddGroupMember(ctx, g.ID, u.ID)
		} else {
			action = "group.member.remove"
			err = tx.RemoveGroupMember(ctx, g.ID, u.ID)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, a, action, g.Name, u.Username)
	})
}

// ChangeAdminAccess adds or removes a user or group from the admin list.
// Only an administrator with every right and all shared accounts may do
// it: a new entry has every right, and removing one is not a delegate's call.
func (c *Core) ChangeAdminAccess(ctx context.Context, a Actor, kind, name string, add bool) error {
	if err := checkAdminKind(kind); err != nil {
		return err
	}
	if !a.fullAdmin() {
		return Errorf(Forbidden, "only an administrator with every right and all shared accounts may add or remove admin access")
	}
	name = strings.TrimSpace(name)
	var user *model.User
	if kind == "user" {
		u, err := c.User(ctx, name)
		if err != nil && add {
			return err
		}
		user = u
	} else if add {
		if ok, err := c.Store.GroupExists(ctx, name); err != nil {
			return err
		} else if !ok {
			return Errorf(NotFound, "group %q does not exist", name)
		}
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		before, err := adminEntryText(ctx, tx, kind, name)
		if err != nil {
			return err
		}
		if err := tx.SetAdminAccess(ctx, kind, name, add); err != nil {
			return err
		}
		after, err := adminEntryText(ctx, tx, kind, name)
		if err != nil {
			return err
		}
		action := "admin.access.add"
		if !add {
			action = "admin.access.remove"
		}
		if !add {
			// Taking admin rights away ends the admin sessions they allowed.
			if user != nil {
				if err := tx.EndSessions(ctx, "admin", user.ID, ""); err != nil {
					return err
				}
			}
		}
		return audit(ctx, tx, a, action, kind+" "+name, "before: "+before+"; after: "+after)
	})
}

// adminEntryText is how the audit log shows an admin-access entry: its
// rights and scope, or "no admin access".
func adminEntryText(ctx context.Context, tx *store.Tx, kind, name string) (string, error) {
	e, err := tx.AdminAccessEntry(ctx, kind, name)
	if errors.Is(err, store.ErrNotFound) {
		return "no admin access", nil
	}
	if err != nil {
		return "", err
	}
	return "rights=" + rightNames(e.Rights) + " scope=" + scopeText(*e), nil
}
