package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// Options > Admin Rights (PaperCut's page of the same name): the users and
// groups with admin access, the rights each gives and the shared accounts
// they cover. The rules (nobody grants a right they do not hold; adding,
// removing and scoping need every right) are core's, as for the CLI.
func init() {
	addFeature(func(s *Server) {
		s.Handle("GET /admin/options/admin-rights", Admin(model.RightAdminRights), s.adminRightsPage)
		s.Handle("POST /admin/options/admin-rights/add", Admin(model.RightAdminRights), s.adminRightsAdd)
		s.Handle("POST /admin/options/admin-rights/remove", Admin(model.RightAdminRights), s.adminRightsRemove)
		s.Handle("POST /admin/options/admin-rights/rights", Admin(model.RightAdminRights), s.adminRightsSet)
		s.Handle("POST /admin/options/admin-rights/scope", Admin(model.RightAdminRights), s.adminRightsScope)
		s.AddNav(NavLink{Section: "Options", Label: "Admin Rights", Path: "/admin/options/admin-rights", Order: 90})
	})
}

const adminRightsPath = "/admin/options/admin-rights"

// adminRightsEntry is one entry as the page shows it.
type adminRightsEntry struct {
	Kind, Name string
	Rights     []adminRightBox
	Scope      string // what the scope field shows: all, access-list or ACCOUNT,…
}

// adminRightBox is one checkbox of an entry.
type adminRightBox struct {
	Right   model.AdminRight
	Label   string
	On      bool
	Mutable bool // the person looking holds this right
}

type adminRightsData struct {
	Entries []adminRightsEntry
	// Query and its matches: users and groups known to Ream to add.
	Query         string
	Users, Groups []string
	// MayManage: the person may add, remove and scope entries.
	MayManage bool
}

func (s *Server) adminRightsPage(w http.ResponseWriter, r *http.Request) error {
	list, err := s.core.AdminAccessList(r.Context())
	if err != nil {
		return err
	}
	se := SessionOf(r)
	d := adminRightsData{MayManage: se.BuiltIn || se.AllAccounts && len(se.Rights) == len(model.AdminRights)}
	scope, err := s.accountScope(r)
	if err != nil {
		return err
	}
	for _, e := range list {
		d.Entries = append(d.Entries, adminRightsView(se, scope, e))
	}
	if d.Query = strings.TrimSpace(r.URL.Query().Get("q")); d.Query != "" && d.MayManage {
		users, _, err := s.store.ListUsers(r.Context(), store.UserFilter{Search: d.Query, Limit: 20})
		if err != nil {
			return err
		}
		for _, u := range users {
			d.Users = append(d.Users, u.Username)
		}
		if d.Groups, err = s.store.GroupNamesMatching(r.Context(), d.Query, 20); err != nil {
			return err
		}
	}
	return s.Render(w, r, http.StatusOK, "admin_rights.html", "Admin Rights", d)
}

// adminRightsView is one entry as the page shows it to se; an admin scoped
// to some accounts reads only the names of those (the others are counted).
func adminRightsView(se *Session, scope *store.AccountScope, e store.AdminAccess) adminRightsEntry {
	v := adminRightsEntry{Kind: e.Kind, Name: e.Name, Scope: e.Scope}
	if e.Scope == model.ScopeAccounts {
		var names []string
		hidden := 0
		for i, name := range e.Accounts {
			if i < len(e.AccountIDs) && scope.Contains(e.AccountIDs[i]) {
				names = append(names, name)
			} else {
				hidden++
			}
		}
		v.Scope = strings.Join(names, ",")
		if hidden > 0 {
			v.Scope += fmt.Sprintf(" (and %d shared accounts outside your admin access)", hidden)
		}
	}
	for _, k := range model.AdminRights {
		v.Rights = append(v.Rights, adminRightBox{Right: k.Right, Label: k.Label,
			On: slices.Contains(e.Rights, k.Right), Mutable: se.BuiltIn || se.Rights[k.Right]})
	}
	return v
}

// adminRightsTarget reads the kind and name fields of a form.
func adminRightsTarget(r *http.Request) (kind, name string, err error) {
	kind, name = r.PostFormValue("kind"), strings.TrimSpace(r.PostFormValue("name"))
	if kind != "user" && kind != "group" {
		return "", "", Errorf(http.StatusBadRequest, "Kind: choose user or group.")
	}
	if name == "" {
		return "", "", Errorf(http.StatusBadRequest, "Name: enter the name of a %s known to Ream.", kind)
	}
	return kind, name, nil
}

func (s *Server) adminRightsAdd(w http.ResponseWriter, r *http.Request) error {
	kind, name, err := adminRightsTarget(r)
	if err != nil {
		return err
	}
	if err := s.core.ChangeAdminAccess(r.Context(), s.Actor(r), kind, name, true); err != nil {
		return err
	}
	return s.Redirect(w, r, adminRightsPath, "ok", "The "+kind+" "+name+" has admin access with every right; untick what they should not have.")
}

func (s *Server) adminRightsRemove(w http.ResponseWriter, r *http.Request) error {
	kind, name, err := adminRightsTarget(r)
	if err != nil {
		return err
	}
	if err := s.core.ChangeAdminAccess(r.Context(), s.Actor(r), kind, name, false); err != nil {
		return err
	}
	return s.Redirect(w, r, adminRightsPath, "ok", "The "+kind+" "+name+" no longer has admin access.")
}

// adminRightsSet saves an entry's checkboxes: a box left unticked turns
// its right off. Rights the person does not hold are left as they were
// (their boxes are disabled, so a browser does not send them).
func (s *Server) adminRightsSet(w http.ResponseWriter, r *http.Request) error {
	kind, name, err := adminRightsTarget(r)
	if err != nil {
		return err
	}
	se := SessionOf(r)
	ticked := r.PostForm["right"]
	for _, t := range ticked {
		if !model.KnownAdminRight(model.AdminRight(t)) {
			return Errorf(http.StatusBadRequest, "Rights: %q is not a right.", t)
		}
	}
	changes := map[model.AdminRight]bool{}
	for _, k := range model.AdminRights {
		if se.BuiltIn || se.Rights[k.Right] {
			changes[k.Right] = slices.Contains(ticked, string(k.Right))
		}
	}
	if err := s.core.SetAdminAccessRights(r.Context(), s.Actor(r), kind, name, changes); err != nil {
		return err
	}
	return s.Redirect(w, r, adminRightsPath, "ok", "The rights of the "+kind+" "+name+" are saved.")
}

func (s *Server) adminRightsScope(w http.ResponseWriter, r *http.Request) error {
	kind, name, err := adminRightsTarget(r)
	if err != nil {
		return err
	}
	scope, accounts, err := core.ParseAdminScope(r.PostFormValue("scope"))
	if err != nil {
		return err
	}
	if err := s.core.SetAdminAccessScope(r.Context(), s.Actor(r), kind, name, scope, accounts); err != nil {
		return err
	}
	return s.Redirect(w, r, adminRightsPath, "ok", "The shared accounts of the "+kind+" "+name+" are saved.")
}
