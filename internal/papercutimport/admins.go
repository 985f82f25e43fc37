package papercutimport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// applyAdmins gives the admin-access entries a Ream source lists
// (listAdminAccess) the same rights and scope in this Ream.
func (ap *applier) applyAdmins(ctx context.Context) error {
	for _, e := range ap.snap.Admins {
		ap.report.Admins.Read++
		if err := ap.applyAdmin(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func (ap *applier) applyAdmin(ctx context.Context, e SourceAdmin) error {
	label := e.Kind + " " + e.Name
	if e.Kind != "user" && e.Kind != "group" || strings.TrimSpace(e.Name) == "" {
		ap.report.Admins.Skipped++
		ap.report.skip("admin access", label, "not a user or group entry")
		return nil
	}
	var rights []model.AdminRight
	scope := model.ScopeAll
	var scopeAccounts []string
	for _, f := range strings.Split(e.Rights, "\t") {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "rights":
			for _, r := range strings.Split(v, ",") {
				if r == "" {
					continue
				}
				if !model.KnownAdminRight(model.AdminRight(r)) {
					ap.report.Admins.Skipped++
					ap.report.skip("admin access", label, "the right %q is not one Ream knows", r)
					return nil
				}
				rights = append(rights, model.AdminRight(r))
			}
		case "scope":
			if v != model.ScopeAll && v != model.ScopeAccessList {
				scope, scopeAccounts = model.ScopeAccounts, strings.Split(v, ",")
			} else {
				scope = v
			}
		}
	}
	rights = model.SortAdminRights(rights)
	var ids []int64
	for _, name := range scopeAccounts {
		acc := ap.accounts[store.AccountKey(name)]
		if acc == nil {
			ap.report.Admins.Skipped++
			ap.report.skip("admin access", label, "its scope names the shared account %q, which is not in Ream", name)
			return nil
		}
		ids = append(ids, acc.ID)
	}
	cur, err := ap.tx.AdminAccessEntry(ctx, e.Kind, e.Name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if cur != nil && slices.Equal(model.SortAdminRights(cur.Rights), rights) && cur.Scope == scope &&
		slices.Equal(sortedNames(cur.Accounts), sortedNames(scopeAccounts)) {
		ap.report.Admins.Unchanged++
		return nil
	}
	if err := ap.tx.SetAdminAccess(ctx, e.Kind, e.Name, true); err != nil {
		return err
	}
	if err := ap.tx.SetAdminAccessRights(ctx, e.Kind, e.Name, rights); err != nil {
		return err
	}
	if err := ap.tx.SetAdminAccessScope(ctx, e.Kind, e.Name, scope, ids); err != nil {
		return err
	}
	if err := ap.audit(ctx, "admin.access", label, fmt.Sprintf("rights %s, scope %s, set by the import from PaperCut at %s", e.Rights, scope, ap.snap.URL)); err != nil {
		return err
	}
	if cur == nil {
		ap.report.Admins.Created++
		ap.report.Changes = append(ap.report.Changes, "give admin access to "+label)
	} else {
		ap.report.Admins.Updated++
		ap.report.Changes = append(ap.report.Changes, "change admin access of "+label)
	}
	return nil
}

func sortedNames(n []string) []string {
	out := make([]string, len(n))
	for i, s := range n {
		out[i] = store.AccountKey(s)
	}
	slices.Sort(out)
	return out
}
