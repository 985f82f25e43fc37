package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/usersync"
)

// Options > User/Group Sync (SPEC §4) and Groups > Directory Groups.
func init() {
	addFeature(func(s *Server) {
		s.Handle("GET /admin/options/user-sync", Admin(model.RightUserSync), s.userSyncPage)
		s.Handle("POST /admin/options/user-sync", Admin(model.RightUserSync), s.userSyncPost)
		s.Handle("GET /admin/options/user-sync/progress", Admin(model.RightUserSync), s.userSyncProgress)
		s.Handle("GET /admin/groups/directory", Admin(model.RightGroups, model.RightUserSync), s.directoryGroupsPage)
		s.Handle("POST /admin/groups/directory", Admin(model.RightGroups, model.RightUserSync), s.directoryGroupsPost)
		s.AddNav(NavLink{Section: "Options", Label: "User/Group Sync", Path: "/admin/options/user-sync", Order: 20})
		s.AddNav(NavLink{Section: "Groups", Label: "Directory Groups", Path: "/admin/groups/directory", Order: 20})
	})
}

func (s *Server) userSync() (*usersync.Service, error) {
	if s.features.UserSync == nil {
		return nil, Errorf(http.StatusNotFound, "user/group sync is not available on this server")
	}
	return s.features.UserSync, nil
}

// userSyncForm is the page's form, filled from the settings or the post.
type userSyncForm struct {
	Source, Preset, URL, BindDN, BaseDN, UserFilter, GroupBaseDN, GroupFilter string
	Attributes, CardRegex, UsersFile, GroupsFile, Schedule, Time, OnlyGroups  string
	CACertFile, Nested                                                        string
	StartTLS, SkipVerify, ImportNew, UpdateDetails, SkipDisabled, HasBindPW   bool
	DeleteMissing                                                             bool
	ConfirmDelete                                                             string
}

type userSyncData struct {
	Form      userSyncForm
	Error     string
	Plan      *usersync.Plan
	Run       int64
	Preview   planPreview
	AttrNames string
	NextRun   string
}

// planPreview is the plan cut to a readable size for the page.
type planPreview struct {
	Create, Update, Delete, NotImported, Skipped, Warnings, Groups []string
	More                                                           map[string]int
}

const previewLimit = 200

func previewOf(p *usersync.Plan) planPreview {
	pv := planPreview{More: map[string]int{}}
	add := func(key string, dst *[]string, n int, line func(i int) string) {
		for i := 0; i < n && i < previewLimit; i++ {
			*dst = append(*dst, line(i))
		}
		if n > previewLimit {
			pv.More[key] = n - previewLimit
		}
	}
	add("create", &pv.Create, len(p.Create), func(i int) string {
		u := p.Create[i].User
		return strings.TrimSpace(u.Username + " " + parens(u.FullName))
	})
	add("update", &pv.Update, len(p.Update), func(i int) string {
		uc := p.Update[i]
		var parts []string
		for _, c := range uc.Changes {
			parts = append(parts, c.Field+": "+strconv.Quote(c.Old)+" → "+strconv.Quote(c.New))
		}
		return uc.User.Username + ": " + strings.Join(parts, "; ")
	})
	add("delete", &pv.Delete, len(p.Delete), func(i int) string { return p.Delete[i].Username })
	add("notimported", &pv.NotImported, len(p.NotImported), func(i int) string { return p.NotImported[i] })
	add("skipped", &pv.Skipped, len(p.Skipped), func(i int) string { return p.Skipped[i].Error() })
	add("warnings", &pv.Warnings, len(p.Warnings), func(i int) string { return p.Warnings[i] })
	add("groups", &pv.Groups, len(p.Groups), func(i int) string {
		g := p.Groups[i]
		switch {
		case g.NotInSource:
			return g.Name + ": not in the source, left as it is"
		case g.GroupID == 0:
			return g.Name + ": created with " + strconv.Itoa(len(g.Add)) + " members"
		}
		return g.Name + ": " + strconv.Itoa(len(g.Add)) + " members added, " + strconv.Itoa(len(g.Remove)) + " removed"
	})
	return pv
}

func parens(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func (s *Server) userSyncFormFromSettings(ctx context.Context) userSyncForm {
	g := func(k string) string { return s.settings.Get(ctx, k) }
	b := func(k string) bool { return s.settings.Bool(ctx, k) }
	return userSyncForm{
		Source: g(settings.UserSyncSource), Preset: g(settings.UserSyncLDAPPreset), URL: g(settings.UserSyncLDAPURL),
		BindDN: g(settings.UserSyncLDAPBindDN), BaseDN: g(settings.UserSyncLDAPBaseDN), UserFilter: g(settings.UserSyncLDAPFilter),
		GroupBaseDN: g(settings.UserSyncLDAPGroupDN), GroupFilter: g(settings.UserSyncLDAPGroupFlt),
		Attributes: g(settings.UserSyncLDAPAttrs), CardRegex: g(settings.UserSyncLDAPCardRe),
		UsersFile: g(settings.UserSyncFileUsers), GroupsFile: g(settings.UserSyncFileGroups),
		Schedule: g(settings.UserSyncSchedule), Time: g(settings.UserSyncTime), OnlyGroups: g(settings.UserSyncOnlyGroups),
		StartTLS: b(settings.UserSyncLDAPStartTLS), SkipVerify: b(settings.UserSyncLDAPSkipTLS),
		ImportNew: b(settings.UserSyncImportNew), UpdateDetails: b(settings.UserSyncUpdate), SkipDisabled: b(settings.UserSyncSkipDisabled),
		HasBindPW:  g(settings.UserSyncLDAPBindPW) != "",
		CACertFile: g(settings.UserSyncLDAPCACert), Nested: g(settings.UserSyncLDAPNested),
	}
}

func userSyncFormFromPost(r *http.Request) userSyncForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	on := func(k string) bool { return r.PostFormValue(k) != "" }
	return userSyncForm{
		Source: v("source"), Preset: v("preset"), URL: v("url"), BindDN: v("bind_dn"), BaseDN: v("base_dn"),
		UserFilter: v("user_filter"), GroupBaseDN: v("group_base_dn"), GroupFilter: v("group_filter"),
		Attributes: r.PostFormValue("attributes"), CardRegex: v("card_regex"), UsersFile: v("users_file"),
		GroupsFile: v("groups_file"), Schedule: v("schedule"), Time: v("time"), OnlyGroups: r.PostFormValue("only_groups"),
		StartTLS: on("starttls"), SkipVerify: on("skip_verify"), ImportNew: on("import_new"), UpdateDetails: on("update_details"),
		SkipDisabled: on("skip_disabled"), DeleteMissing: on("delete_missing"), ConfirmDelete: v("confirm_delete"),
		CACertFile: v("ca_cert_file"), Nested: v("nested_groups"),
	}
}

// settingsOf lists the settings the form sets; the bind password only
// when one was typed, so that saving the page keeps the stored one.
func (f userSyncForm) settingsOf(bindPassword string) [][2]string {
	yn := func(b bool) string {
		if b {
			return "Y"
		}
		return "N"
	}
	out := [][2]string{
		{settings.UserSyncSource, f.Source}, {settings.UserSyncLDAPPreset, f.Preset}, {settings.UserSyncLDAPURL, f.URL},
		{settings.UserSyncLDAPBindDN, f.BindDN}, {settings.UserSyncLDAPBaseDN, f.BaseDN}, {settings.UserSyncLDAPFilter, f.UserFilter},
		{settings.UserSyncLDAPGroupDN, f.GroupBaseDN}, {settings.UserSyncLDAPGroupFlt, f.GroupFilter},
		{settings.UserSyncLDAPAttrs, f.Attributes}, {settings.UserSyncLDAPCardRe, f.CardRegex},
		{settings.UserSyncFileUsers, f.UsersFile}, {settings.UserSyncFileGroups, f.GroupsFile},
		{settings.UserSyncSchedule, f.Schedule}, {settings.UserSyncTime, f.Time}, {settings.UserSyncOnlyGroups, f.OnlyGroups},
		{settings.UserSyncLDAPStartTLS, yn(f.StartTLS)}, {settings.UserSyncLDAPSkipTLS, yn(f.SkipVerify)},
		{settings.UserSyncImportNew, yn(f.ImportNew)}, {settings.UserSyncUpdate, yn(f.UpdateDetails)},
		{settings.UserSyncSkipDisabled, yn(f.SkipDisabled)},
		{settings.UserSyncLDAPCACert, f.CACertFile}, {settings.UserSyncLDAPNested, nestedOrPreset(f.Nested)},
	}
	if bindPassword != "" {
		out = append(out, [2]string{settings.UserSyncLDAPBindPW, bindPassword})
	}
	return out
}

func (s *Server) userSyncPage(w http.ResponseWriter, r *http.Request) error {
	data := userSyncData{Form: s.userSyncFormFromSettings(r.Context()), AttrNames: strings.Join(usersync.AttributeFieldNames(), ", ")}
	if svc, err := s.userSync(); err == nil {
		if next := svc.NextRun(r.Context(), time.Now()); !next.IsZero() {
			data.NextRun = next.Format("2006-01-02 15:04")
		}
	}
	return s.Render(w, r, http.StatusOK, "usersync.html", "User/Group Sync", data)
}

func (s *Server) userSyncPost(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	svc, err := s.userSync()
	if err != nil {
		return err
	}
	f := userSyncFormFromPost(r)
	bindPW := r.PostFormValue("bind_password")
	data := userSyncData{Form: f, AttrNames: strings.Join(usersync.AttributeFieldNames(), ", ")}
	// The typed password is never sent back: the field shows "(unchanged)"
	// only when a saved one would be used.
	data.Form.HasBindPW = s.settings.Get(ctx, settings.UserSyncLDAPBindPW) != ""
	fail := func(msg string) error {
		data.Error = msg
		return s.Render(w, r, http.StatusUnprocessableEntity, "usersync.html", "User/Group Sync", data)
	}
	for _, kv := range f.settingsOf(bindPW) {
		if _, err := settings.Normalize(kv[0], kv[1]); err != nil {
			return fail(err.Error())
		}
	}
	opts := usersync.Options{
		ImportNew: f.ImportNew, UpdateDetails: f.UpdateDetails, SkipDisabled: f.SkipDisabled, DeleteMissing: f.DeleteMissing,
		DeleteLimitPercent: s.settings.Int(ctx, settings.DeleteLimitPercent), DeleteLimitMax: s.settings.Int(ctx, settings.DeleteLimitMax),
	}
	for _, g := range strings.Split(f.OnlyGroups, "\n") {
		if g = strings.TrimSpace(g); g != "" {
			opts.OnlyGroups = append(opts.OnlyGroups, g)
		}
	}
	if f.ConfirmDelete != "" {
		n, err := strconv.Atoi(f.ConfirmDelete)
		if err != nil || n < 0 {
			return fail("Confirm deletions: " + strconv.Quote(f.ConfirmDelete) + " is not a number of users")
		}
		opts.ConfirmDelete = n
	}
	switch r.PostFormValue("action") {
	case "test":
		sc, err := s.sourceConfigOf(ctx, f, bindPW)
		if err != nil {
			return fail(messageOf(err))
		}
		out, err := svc.TestWith(ctx, s.Actor(r), sc, opts)
		if out != nil {
			data.Plan, data.Run = out.Plan, out.Run.ID
			if out.Plan != nil {
				data.Preview = previewOf(out.Plan)
			}
		}
		if err != nil {
			return fail(messageOf(err))
		}
		return s.Render(w, r, http.StatusOK, "usersync.html", "User/Group Sync", data)
	case "save", "sync":
	default:
		return Errorf(http.StatusBadRequest, "unknown action")
	}
	values := map[string]string{}
	for _, kv := range f.settingsOf(bindPW) {
		values[kv[0]] = kv[1]
	}
	// A new URL, TLS option or bind DN without a new password clears the
	// stored one (core), so it is never sent to a server it was not meant for.
	cleared, err := s.core.ApplyConfigValues(ctx, s.Actor(r), values)
	if err != nil {
		return fail(messageOf(err))
	}
	if slices.Contains(cleared, settings.UserSyncLDAPBindPW) {
		msg := "User/group sync settings saved. The stored bind password was cleared because the server or login changed; enter it again."
		if r.PostFormValue("action") == "sync" {
			msg += " The synchronization was not started."
		}
		return s.Redirect(w, r, "/admin/options/user-sync", "error", msg)
	}
	if r.PostFormValue("action") == "save" {
		return s.Redirect(w, r, "/admin/options/user-sync", "ok", "User/group sync settings saved.")
	}
	if err := svc.Start(ctx, s.Actor(r), opts); err != nil {
		return fail(messageOf(err))
	}
	return s.Redirect(w, r, "/admin/options/user-sync/progress", "ok", "Synchronization started.")
}

// errBindPasswordNeeded is the Test answer when the form names another
// directory or login than the saved one and no password was typed.
var errBindPasswordNeeded = core.Errorf(core.Invalid, "Bind password: the saved password is used only with the saved server URL, TLS options and bind DN; type the password to test these settings.")

// nestedOrPreset reads the nested-groups choice; a form from before the
// choice existed leaves it to the preset.
func nestedOrPreset(v string) string {
	if v == "" {
		return "preset"
	}
	return v
}

// sourceConfigOf is the source the form describes. Without a typed bind
// password the stored one is used, but only for the stored server, TLS
// options and bind DN: otherwise anyone at this form could have it sent
// to a server of their choosing.
func (s *Server) sourceConfigOf(ctx context.Context, f userSyncForm, bindPW string) (usersync.SourceConfig, error) {
	sc := usersync.SourceConfig{Kind: f.Source, UsersFile: f.UsersFile, GroupsFile: f.GroupsFile}
	if f.Source != usersync.SourceLDAP {
		return sc, nil
	}
	c := directory.Preset(f.Preset)
	c.URL, c.StartTLS, c.InsecureSkipVerify, c.BindDN, c.BaseDN, c.GroupBaseDN, c.CardRegex =
		f.URL, f.StartTLS, f.SkipVerify, f.BindDN, f.BaseDN, f.GroupBaseDN, f.CardRegex
	c.CACertFile = f.CACertFile
	switch nestedOrPreset(f.Nested) {
	case "y":
		c.NestedGroups = true
	case "n":
		c.NestedGroups = false
	}
	c.BindPassword = bindPW
	if bindPW == "" && f.BindDN != "" {
		stored := s.userSyncFormFromSettings(ctx)
		if f.URL != stored.URL || f.BindDN != stored.BindDN || f.StartTLS != stored.StartTLS || f.SkipVerify != stored.SkipVerify ||
			f.CACertFile != stored.CACertFile {
			return sc, errBindPasswordNeeded
		}
		c.BindPassword = s.settings.Get(ctx, settings.UserSyncLDAPBindPW)
	}
	if f.UserFilter != "" {
		c.UserFilter = f.UserFilter
	}
	if f.GroupFilter != "" {
		c.GroupFilter = f.GroupFilter
	}
	if err := usersync.ApplyAttributeOverrides(&c.Attr, f.Attributes); err != nil {
		return sc, err
	}
	sc.LDAP = c
	return sc, nil
}

type userSyncProgressData struct {
	Status  usersync.RunStatus
	Percent int
	Run     int64
	Report  string
	Outcome string
}

func (s *Server) userSyncProgress(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.userSync()
	if err != nil {
		return err
	}
	st := svc.Status()
	data := userSyncProgressData{Status: st, Run: st.RunID}
	if st.Total > 0 {
		data.Percent = 100 * st.Done / st.Total
	}
	if !st.Running && st.RunID != 0 {
		run, err := s.store.SyncRunByID(r.Context(), st.RunID)
		if err != nil {
			return err
		}
		data.Outcome, data.Report = run.Status+": "+run.Message, run.Report
	}
	if st.Running {
		w.Header().Set("Refresh", "2")
	}
	return s.Render(w, r, http.StatusOK, "usersync_progress.html", "User/Group Sync", data)
}

type directoryGroupsData struct {
	Groups []directoryGroup
	Error  string
}

type directoryGroup struct {
	Name    string
	Tracked bool
	InReam  bool
}

func (s *Server) directoryGroupsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	svc, err := s.userSync()
	if err != nil {
		return err
	}
	data := directoryGroupsData{}
	names, err := svc.DirectoryGroups(ctx)
	if err != nil {
		data.Error = messageOf(err)
		return s.Render(w, r, http.StatusOK, "usersync_groups.html", "Directory Groups", data)
	}
	known, err := s.store.AllGroups(ctx)
	if err != nil {
		return err
	}
	tracked := map[string]bool{}
	inReam := map[string]bool{}
	for _, g := range known {
		inReam[strings.ToLower(g.Name)] = true
		tracked[strings.ToLower(g.Name)] = g.Tracked
	}
	for _, name := range names {
		k := strings.ToLower(name)
		data.Groups = append(data.Groups, directoryGroup{Name: name, Tracked: tracked[k], InReam: inReam[k]})
	}
	return s.Render(w, r, http.StatusOK, "usersync_groups.html", "Directory Groups", data)
}

func (s *Server) directoryGroupsPost(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.userSync()
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("group"))
	if name == "" {
		return Errorf(http.StatusBadRequest, "group: is required")
	}
	if r.PostFormValue("action") == "untrack" {
		if err := svc.UntrackGroup(r.Context(), s.Actor(r), name); err != nil {
			return s.Redirect(w, r, "/admin/groups/directory", "error", messageOf(err))
		}
		return s.Redirect(w, r, "/admin/groups/directory", "ok", "Group "+name+" is no longer refreshed by the sync.")
	}
	out, err := svc.ImportGroup(r.Context(), s.Actor(r), name)
	if err != nil {
		return s.Redirect(w, r, "/admin/groups/directory", "error", messageOf(err))
	}
	return s.Redirect(w, r, "/admin/groups/directory", "ok", "Group "+name+" is tracked: "+out.Run.Message)
}

// messageOf is an error's text for the admin: a core error's safe message,
// or the error itself (sync errors name the source and never a secret).
func messageOf(err error) string {
	if e, ok := core.AsError(err); ok {
		return e.Msg
	}
	return err.Error()
}
