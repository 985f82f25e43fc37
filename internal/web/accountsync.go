package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/accounts"
	"github.com/reamprint/ream/internal/accounts/source"
	"github.com/reamprint/ream/internal/model"
)

// Accounts > Shared Account Sync and Accounts > Batch Import / Update
// (SPEC §3). Only admins whose access covers every shared account may run
// them (AdminAllAccounts on every POST and the progress stream); the pages
// themselves show the others why, in words, instead of the form.
func init() {
	addFeature(func(s *Server) {
		s.Handle("GET /admin/accounts/sync", Admin(model.RightAccountsSync), s.accountSyncPage)
		s.Handle("POST /admin/accounts/sync", AdminAllAccounts(model.RightAccountsSync), s.accountSyncPost)
		s.Handle("GET /admin/accounts/sync/progress", AdminAllAccounts(model.RightAccountsSync), s.accountSyncProgress)
		s.Handle("GET /admin/accounts/import", Admin(model.RightAccountsSync), s.accountImportPage)
		s.Handle("POST /admin/accounts/import", AdminAllAccounts(model.RightAccountsSync), s.accountImportPost, WithBodyLimit(accountImportLimit))
		s.AddNav(NavLink{Section: "Accounts", Label: "Shared Account Sync", Path: "/admin/accounts/sync", Order: 40})
		s.AddNav(NavLink{Section: "Accounts", Label: "Batch Import / Update", Path: "/admin/accounts/import", Order: 30})
	})
}

// accountImportLimit bounds an uploaded import file (a million accounts
// is about 100 MB).
const accountImportLimit = 256 << 20

func (s *Server) accountSync() (*accounts.Service, error) {
	if s.features.AccountSync == nil {
		return nil, Errorf(http.StatusNotFound, "shared account sync is not available on this server")
	}
	return s.features.AccountSync, nil
}

// accountSyncForm is the page's form. DeleteMissing is never filled from
// the settings: it applies to one run and is unticked on every page load.
type accountSyncForm struct {
	accounts.Settings
	DeleteMissing bool
	ConfirmDelete int
}

type accountSyncData struct {
	Refused string // why the person may not run it (scope); no form then
	Form    accountSyncForm
	Error   string
	NextRun string
	Roots   []string
	Result  *planView
}

// planView is a plan cut to a readable size for a page: 100,000 names do
// not belong on one page; the full list is in the run's report and in
// `ream accounts sync --json`.
type planView struct {
	Test              bool
	Status, Message   string
	RunID             int64
	Read              int
	Created, Updated  int
	Unchanged         int
	Deleted, Skipped  int
	Warnings          int
	NeedsConfirmation bool
	Lists             []planList
}

type planList struct {
	Title string
	ID    string
	Lines []string
	More  int
}

const planViewLimit = 200

func viewOf(r *accounts.Report) *planView {
	v := &planView{Test: r.Test, Status: r.Status, Message: r.Message, RunID: r.RunID}
	p := r.Plan
	if p == nil {
		return v
	}
	c := p.Counts()
	v.Read, v.Created, v.Updated, v.Unchanged, v.Deleted, v.Skipped, v.Warnings =
		c.Read, c.Created, c.Updated, c.Unchanged, c.Deleted, c.Skipped, len(p.Warnings)
	v.NeedsConfirmation = p.NeedsConfirmation
	items := func(title, id string, list []accounts.Item, text func(*accounts.Item) string) {
		if len(list) == 0 {
			return
		}
		l := planList{Title: title, ID: id, More: max(len(list)-planViewLimit, 0)}
		for i := range list[:min(len(list), planViewLimit)] {
			it := &list[i]
			line := text(it)
			if it.Line > 0 {
				line = "line " + strconv.Itoa(it.Line) + ": " + line
			}
			l.Lines = append(l.Lines, line)
		}
		v.Lists = append(v.Lists, l)
	}
	lineErrors := func(title, id string, list []source.LineError) {
		if len(list) == 0 {
			return
		}
		l := planList{Title: title, ID: id, More: max(len(list)-planViewLimit, 0)}
		for _, e := range list[:min(len(list), planViewLimit)] {
			l.Lines = append(l.Lines, e.Error())
		}
		v.Lists = append(v.Lists, l)
	}
	lineErrors("Lines that could not be used", "skipped", p.Skipped)
	// After a run that was applied the lists say what was done, not what would be.
	create, update, del := "Accounts to create", "Accounts to update", "Accounts to delete"
	if !r.Test && r.Status == accounts.StatusOK {
		create, update, del = "Accounts created", "Accounts updated", "Accounts deleted"
	}
	items(create, "creates", p.Creates, func(it *accounts.Item) string {
		if it.Restored {
			return it.Name + " (restored, same id)"
		}
		return it.Name
	})
	items(update, "updates", p.Updates, func(it *accounts.Item) string { return it.Name + ": " + it.Changed.String() })
	items(del, "deletes", p.Deletes, func(it *accounts.Item) string { return it.Name })
	lineErrors("Warnings", "warnings", p.Warnings)
	items("Unchanged accounts", "unchanged", p.Unchanged, func(it *accounts.Item) string { return it.Name })
	return v
}

func (s *Server) accountSyncData(svc *accounts.Service, form accountSyncForm) accountSyncData {
	d := accountSyncData{Form: form, Roots: s.cfg.Sync.AllowedRoots}
	if next := svc.NextRun(time.Now()); !next.IsZero() {
		d.NextRun = next.Format("2006-01-02 15:04")
	}
	return d
}

func (s *Server) accountSyncPage(w http.ResponseWriter, r *http.Request) error {
	if se := SessionOf(r); !se.AllAccounts {
		return s.Render(w, r, http.StatusOK, "accountsync.html", "Shared Account Sync", accountSyncData{Refused: scopeRefusal})
	}
	svc, err := s.accountSync()
	if err != nil {
		return err
	}
	data := s.accountSyncData(svc, accountSyncForm{Settings: svc.Settings(r.Context())})
	return s.Render(w, r, http.StatusOK, "accountsync.html", "Shared Account Sync", data)
}

func accountSyncFormOf(r *http.Request) (accountSyncForm, error) {
	f := accountSyncForm{
		Settings: accounts.Settings{
			Source:      strings.TrimSpace(r.PostFormValue("source")),
			SubAccounts: r.PostFormValue("subdirectories") != "",
			Schedule:    strings.TrimSpace(r.PostFormValue("schedule")),
		},
		DeleteMissing: r.PostFormValue("delete_missing") != "",
	}
	switch f.Source {
	case accounts.SourceFile:
		f.Location = strings.TrimSpace(r.PostFormValue("file_location"))
	case accounts.SourceDirectory:
		f.Location = strings.TrimSpace(r.PostFormValue("directory_location"))
	}
	if c := strings.TrimSpace(r.PostFormValue("confirm_delete")); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return f, errors.New("the confirmed number of deletions " + strconv.Quote(c) + " is not a number")
		}
		f.ConfirmDelete = n
	}
	return f, nil
}

func (f accountSyncForm) options() accounts.Options {
	o := f.Settings.Options()
	o.DeleteMissing, o.ConfirmDelete = f.DeleteMissing, f.ConfirmDelete
	return o
}

func (s *Server) accountSyncPost(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	svc, err := s.accountSync()
	if err != nil {
		return err
	}
	form, err := accountSyncFormOf(r)
	data := s.accountSyncData(svc, form)
	fail := func(msg string) error {
		data.Error = msg
		return s.Render(w, r, http.StatusUnprocessableEntity, "accountsync.html", "Shared Account Sync", data)
	}
	if err != nil {
		return fail(err.Error())
	}
	switch r.PostFormValue("action") {
	case "test":
		if form.Source == accounts.SourceNone {
			return fail("Choose a source to test: a text file or a directory scan.")
		}
		rep, err := svc.Test(ctx, s.Actor(r), form.options())
		if err != nil {
			return fail(messageOf(err))
		}
		data.Result = viewOf(rep)
		// The delete box stays as it was for this answer only, so that the
		// confirmation can follow the test; a fresh page load clears it.
		return s.Render(w, r, http.StatusOK, "accountsync.html", "Shared Account Sync", data)
	case "sync":
	default:
		return Errorf(http.StatusBadRequest, "unknown action")
	}
	// Synchronize Now saves the chosen settings (which restarts the
	// schedule) and runs in the background.
	if err := svc.SaveSettings(ctx, s.Actor(r), form.Settings); err != nil {
		return fail(messageOf(err))
	}
	if form.Source == accounts.SourceNone {
		return s.Redirect(w, r, "/admin/accounts/sync", "ok", "Shared account sync is off.")
	}
	if err := svc.Start(ctx, s.Actor(r), form.options()); err != nil {
		return fail(messageOf(err))
	}
	return s.Redirect(w, r, "/admin/accounts/sync/progress", "ok", "Synchronization started.")
}

type accountSyncProgressData struct {
	Status  accounts.RunStatus
	Percent int
	Result  *planView
	Report  string
	Form    accountSyncForm // for the delete-limit confirmation
}

func (s *Server) accountSyncProgress(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.accountSync()
	if err != nil {
		return err
	}
	st := svc.Status()
	data := accountSyncProgressData{Status: st, Form: accountSyncForm{Settings: svc.Settings(r.Context())}}
	if st.Progress.Total > 0 {
		data.Percent = 100 * st.Progress.Done / st.Progress.Total
	}
	if st.Running {
		// Live progress without JavaScript.
		w.Header().Set("Refresh", "2")
	} else if st.Report != nil {
		data.Result, data.Report = viewOf(st.Report), st.Report.Text()
		data.Form.DeleteMissing = true
		if st.Report.Plan != nil {
			data.Form.ConfirmDelete = len(st.Report.Plan.Deletes)
		}
	}
	return s.Render(w, r, http.StatusOK, "accountsync_progress.html", "Shared Account Sync", data)
}

type accountImportData struct {
	Refused       string // why the person may not run it (scope); no form then
	Error         string
	DeleteMissing bool
	Result        *planView
	Report        string
}

// scopeRefusal is SPEC §3's rule, told to a scoped admin on the pages that
// change every shared account.
const scopeRefusal = "You cannot perform shared account synchronization unless you have admin access to all shared accounts. " +
	"Your admin access covers only some shared accounts, so Shared Account Sync, Batch Import / Update and deleting missing accounts are not available to you. " +
	"Ask an administrator with access to all shared accounts."

func (s *Server) accountImportPage(w http.ResponseWriter, r *http.Request) error {
	if se := SessionOf(r); !se.AllAccounts {
		return s.Render(w, r, http.StatusOK, "accountsync_import.html", "Batch Import / Update", accountImportData{Refused: scopeRefusal})
	}
	return s.Render(w, r, http.StatusOK, "accountsync_import.html", "Batch Import / Update", accountImportData{})
}

func (s *Server) accountImportPost(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.accountSync()
	if err != nil {
		return err
	}
	data := accountImportData{DeleteMissing: r.PostFormValue("delete_missing") != ""}
	fail := func(msg string) error {
		data.Error = msg
		return s.Render(w, r, http.StatusUnprocessableEntity, "accountsync_import.html", "Batch Import / Update", data)
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		return fail("Choose the import file to upload.")
	}
	defer file.Close()
	opts := accounts.Options{DeleteMissing: data.DeleteMissing}
	if c := strings.TrimSpace(r.PostFormValue("confirm_delete")); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return fail("The confirmed number of deletions " + strconv.Quote(c) + " is not a number.")
		}
		opts.ConfirmDelete = n
	}
	var rep *accounts.Report
	switch r.PostFormValue("action") {
	case "test":
		rep, err = svc.TestBatchImport(r.Context(), s.Actor(r), hdr.Filename, file, opts)
	case "import":
		rep, err = svc.BatchImport(r.Context(), s.Actor(r), hdr.Filename, file, opts)
	default:
		return Errorf(http.StatusBadRequest, "unknown action")
	}
	if err != nil {
		return fail(messageOf(err))
	}
	data.Result, data.Report = viewOf(rep), rep.Text()
	return s.Render(w, r, http.StatusOK, "accountsync_import.html", "Batch Import / Update", data)
}
