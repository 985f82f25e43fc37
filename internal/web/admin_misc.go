package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

// timeNow is the clock of the pages (enabled-until checks).
var timeNow = time.Now

type groupListData struct {
	Groups []model.Group
	Pager  pager
}

func (s *Server) groupList(w http.ResponseWriter, r *http.Request) error {
	page, _ := pageParams(r)
	groups, err := s.store.ListGroups(r.Context(), (page-1)*pageSize, pageSize+1)
	if err != nil {
		return err
	}
	more := len(groups) > pageSize
	if more {
		groups = groups[:pageSize]
	}
	return s.Render(w, r, http.StatusOK, "groups.html", "Groups",
		groupListData{Groups: groups, Pager: newPager("/admin/groups", page, "", -1, more)})
}

type groupMembersData struct {
	Name    string
	Members []string
	Pager   pager
}

func (s *Server) groupMembers(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	page, _ := pageParams(r)
	members, err := s.store.GroupMembers(r.Context(), name, (page-1)*pageSize, pageSize+1)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(http.StatusNotFound, "There is no group %q.", name)
	}
	if err != nil {
		return err
	}
	more := len(members) > pageSize
	if more {
		members = members[:pageSize]
	}
	return s.Render(w, r, http.StatusOK, "group.html", "Group "+name,
		groupMembersData{Name: name, Members: members, Pager: newPager("/admin/groups/"+url.PathEscape(name), page, "", -1, more)})
}

type auditData struct {
	Entries []model.AuditEntry
	Pager   pager
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	page, q := pageParams(r)
	entries, total, err := s.store.AuditLog(r.Context(), q, (page-1)*pageSize, pageSize)
	if err != nil {
		return err
	}
	return s.Render(w, r, http.StatusOK, "audit.html", "Audit log",
		auditData{Entries: entries, Pager: newPager("/admin/logs", page, q, total, false)})
}

type syncRunsData struct {
	Runs  []*model.SyncRun
	Pager pager
}

func (s *Server) syncRunList(w http.ResponseWriter, r *http.Request) error {
	page, _ := pageParams(r)
	runs, total, err := s.store.ListSyncRuns(r.Context(), "", (page-1)*pageSize, pageSize)
	if err != nil {
		return err
	}
	return s.Render(w, r, http.StatusOK, "sync_runs.html", "Sync runs",
		syncRunsData{Runs: runs, Pager: newPager("/admin/logs/sync-runs", page, "", total, false)})
}

func (s *Server) syncRunDetails(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return Errorf(http.StatusNotFound, "There is no sync run #%s.", r.PathValue("id"))
	}
	run, err := s.store.SyncRunByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(http.StatusNotFound, "There is no sync run #%d.", id)
	}
	if err != nil {
		return err
	}
	return s.Render(w, r, http.StatusOK, "sync_run.html", "Sync run #"+strconv.FormatInt(id, 10), run)
}

type optionsData struct {
	Currency     string
	ViewCard     bool
	ViewCardSlot string
	ChangePIN    bool
	RegisterCard bool
	RegisterSlot string
	GenerateCard bool
	PasswordHelp string
	Error        string
}

// optionsFromValues is the form as the settings values say.
func optionsFromValues(values map[string]string) optionsData {
	return optionsData{Currency: values[settings.CurrencySymbol], ViewCard: values[settings.UserViewCard] == "Y",
		ViewCardSlot: values[settings.UserViewCardField], ChangePIN: values[settings.UserChangePIN] == "Y",
		RegisterCard: values[settings.UserRegisterCard] == "Y", RegisterSlot: values[settings.UserRegisterField],
		GenerateCard: values[settings.UserGenerateCard] == "Y", PasswordHelp: values[settings.UserPasswordHelp]}
}

// generalOptions are the settings of Options > General.
var generalOptions = []string{settings.CurrencySymbol, settings.UserViewCard, settings.UserViewCardField,
	settings.UserChangePIN, settings.UserRegisterCard, settings.UserRegisterField, settings.UserGenerateCard,
	settings.UserPasswordHelp}

func (s *Server) optionsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	values := map[string]string{}
	for _, k := range generalOptions {
		values[k] = s.settings.Get(ctx, k)
	}
	return s.Render(w, r, http.StatusOK, "options.html", "Options: General", optionsFromValues(values))
}

func (s *Server) optionsSave(w http.ResponseWriter, r *http.Request) error {
	yn := func(field string) string {
		if r.PostFormValue(field) == "on" {
			return "Y"
		}
		return "N"
	}
	values := map[string]string{
		settings.CurrencySymbol:    r.PostFormValue("currency"),
		settings.UserViewCard:      yn("view_card"),
		settings.UserViewCardField: r.PostFormValue("view_card_field"),
		settings.UserChangePIN:     yn("change_pin"),
		settings.UserRegisterCard:  yn("register_card"),
		settings.UserRegisterField: r.PostFormValue("register_card_field"),
		settings.UserGenerateCard:  yn("generate_card"),
		settings.UserPasswordHelp:  r.PostFormValue("password_help"),
	}
	if err := s.core.SetConfigValues(r.Context(), s.Actor(r), values); err != nil {
		if msg, ok := formError(err); ok {
			d := optionsFromValues(values)
			d.Error = msg
			return s.Render(w, r, http.StatusBadRequest, "options.html", "Options: General", d)
		}
		return err
	}
	return s.Redirect(w, r, "/admin/options", "ok", "Options saved.")
}
