package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// ParseRightChanges reads the RIGHT=Y|N words of set-admin-access-rights
// (words may also be comma separated). It refuses an unknown right, a value
// other than Y or N and a right given twice with different values, naming
// the word.
func ParseRightChanges(words []string) (map[model.AdminRight]bool, error) {
	changes := map[model.AdminRight]bool{}
	for _, word := range words {
		for _, item := range strings.Split(word, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			name, value, ok := strings.Cut(item, "=")
			if !ok {
				return nil, Errorf(Invalid, "rights: %q is not RIGHT=Y or RIGHT=N", item)
			}
			r := model.AdminRight(strings.ToLower(strings.TrimSpace(name)))
			if !model.KnownAdminRight(r) {
				return nil, Errorf(Invalid, "rights: %q is not a right; the rights are %s", strings.TrimSpace(name), rightNames(model.AllAdminRights()))
			}
			var on bool
			switch strings.ToUpper(strings.TrimSpace(value)) {
			case "Y", "YES":
				on = true
			case "N", "NO":
			default:
				return nil, Errorf(Invalid, "rights: %s=%q: the value must be Y or N", r, value)
			}
			if was, seen := changes[r]; seen && was != on {
				return nil, Errorf(Invalid, "rights: %s is given both Y and N", r)
			}
			changes[r] = on
		}
	}
	if len(changes) == 0 {
		return nil, Errorf(Invalid, "rights: give at least one RIGHT=Y or RIGHT=N (the rights are %s)", rightNames(model.AllAdminRights()))
	}
	return changes, nil
}

// ParseAdminScope reads the scope argument of set-admin-access-scope:
// "all", "access-list" or a comma-separated list of top-level shared
// accounts (their sub-accounts follow them).
func ParseAdminScope(arg string) (scope string, accounts []string, err error) {
	arg = strings.TrimSpace(arg)
	switch strings.ToLower(arg) {
	case "":
		return "", nil, Errorf(Invalid, "scope: give all, access-list or a comma-separated list of shared accounts")
	case model.ScopeAll, model.ScopeAccessList:
		return strings.ToLower(arg), nil, nil
	}
	seen := map[string]bool{}
	for _, name := range strings.Split(arg, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return "", nil, Errorf(Invalid, "scope: %q has an empty account name", arg)
		}
		if strings.Contains(name, `\`) {
			return "", nil, Errorf(Invalid, "scope: %q is a sub-account; list its top-level account (sub-accounts follow their parent)", name)
		}
		if key := strings.ToLower(name); !seen[key] {
			seen[key] = true
			accounts = append(accounts, name)
		}
	}
	return model.ScopeAccounts, accounts, nil
}

func rightNames(rights []model.AdminRight) string {
	if len(rights) == 0 {
		return "none"
	}
	names := make([]string, len(rights))
	for i, r := range rights {
		names[i] = string(r)
	}
	return strings.Join(names, ",")
}

// AdminAccessLine is how list-admin-access shows an entry: kind, name,
// rights and scope, separated by tabs (names may hold spaces).
func AdminAccessLine(a store.AdminAccess) string {
	return fmt.Sprintf("%s\t%s\trights=%s\tscope=%s", a.Kind, a.Name, rightNames(a.Rights), scopeText(a))
}

func scopeText(a store.AdminAccess) string {
	if a.Scope == model.ScopeAccounts {
		return strings.Join(a.Accounts, ",")
	}
	return a.Scope
}

func checkAdminKind(kind string) error {
	if kind != "user" && kind != "group" {
		return Errorf(Invalid, "kind: %q is neither user nor group", kind)
	}
	return nil
}

// AdminAccessList returns the admin-access entries.
func (c *Core) AdminAccessList(ctx context.Context) ([]store.AdminAccess, error) {
	return c.Store.AdminAccessList(ctx)
}

// adminEntry reads an entry for a change, with an error naming it when it
// is not on the admin list.
func adminEntry(ctx context.Context, tx *store.Tx, kind, name string) (*store.AdminAccess, error) {
	e, err := tx.AdminAccessEntry(ctx, kind, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(NotFound, "name: %s %q has no admin access (add it first with add-admin-access-%s)", kind, name, kind)
	}
	return e, err
}

// SetAdminAccessRights turns rights of an admin-access entry on or off;
// the other rights stay as they are. Before and after go to the audit log.
func (c *Core) SetAdminAccessRights(ctx context.Context, a Actor, kind, name string, changes map[model.AdminRight]bool) error {
	if err := checkAdminKind(kind); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		e, err := adminEntry(ctx, tx, kind, name)
		if err != nil {
			return err
		}
		held := map[model.AdminRight]bool{}
		for _, r := range e.Rights {
			held[r] = true
		}
		// Taking rights away is only for entries that hold no more than the
		// delegate does: otherwise she could strip those who gave her rights.
		for r, on := range changes {
			if on || !held[r] {
				continue
			}
			for _, has := range e.Rights {
				if !a.holds(has) {
					return Errorf(Forbidden, "rights: %s %q holds %s, a right you do not hold, so you cannot take rights from it", kind, e.Name, has)
				}
			}
			if a.Delegated && !a.AllAccounts && e.AllAccounts {
				return Errorf(Forbidden, "rights: %s %q covers all shared accounts and you do not, so you cannot take rights from it", kind, e.Name)
			}
		}
		for r, on := range changes {
			if held[r] != on && !a.holds(r) {
				return Errorf(Forbidden, "rights: %s is a right you do not hold, so you cannot grant or take it away", r)
			}
			if on && !held[r] && a.Delegated && !a.AllAccounts {
				// The entry may cover accounts outside her scope, and an
				// entry with rights widens the scope of whoever it names,
				// her own included.
				return Errorf(Forbidden, "rights: an administrator limited to some shared accounts cannot grant rights")
			}
			held[r] = on
		}
		var after []model.AdminRight
		for r, on := range held {
			if on {
				after = append(after, r)
			}
		}
		after = model.SortAdminRights(after)
		if err := tx.SetAdminAccessRights(ctx, kind, name, after); err != nil {
			return err
		}
		return audit(ctx, tx, a, "admin.access.rights", kind+" "+e.Name,
			fmt.Sprintf("before: %s; after: %s", rightNames(e.Rights), rightNames(after)))
	})
}

// SetAdminAccessScope sets the shared accounts an admin-access entry
// covers. Each listed account must be a live top-level account; on any
// error nothing changes. Before and after go to the audit log.
func (c *Core) SetAdminAccessScope(ctx context.Context, a Actor, kind, name, scope string, accounts []string) error {
	if err := checkAdminKind(kind); err != nil {
		return err
	}
	if !a.fullAdmin() {
		return Errorf(Forbidden, "scope: only an administrator with every right and all shared accounts may change the scope of admin access")
	}
	name = strings.TrimSpace(name)
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		e, err := adminEntry(ctx, tx, kind, name)
		if err != nil {
			return err
		}
		var ids []int64
		var names []string
		for _, acc := range accounts {
			ac, err := tx.AccountByName(ctx, acc)
			if errors.Is(err, store.ErrNotFound) {
				return Errorf(NotFound, "scope: shared account %q does not exist", acc)
			}
			if err != nil {
				return err
			}
			ids, names = append(ids, ac.ID), append(names, ac.Name)
		}
		if scope == model.ScopeAccounts && len(ids) == 0 {
			return Errorf(Invalid, "scope: list at least one shared account")
		}
		if err := tx.SetAdminAccessScope(ctx, kind, name, scope, ids); err != nil {
			return err
		}
		after := store.AdminAccess{Scope: scope, Accounts: names}
		return audit(ctx, tx, a, "admin.access.scope", kind+" "+e.Name,
			fmt.Sprintf("before: %s; after: %s", scopeText(*e), scopeText(after)))
	})
}
