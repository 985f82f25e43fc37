package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/papercutimport"
	"github.com/reamprint/ream/internal/tasks"
)

// Options > Import from PaperCut: the same engine as `ream import-papercut`,
// run as a background task the page follows. Built-in admin only.
func init() {
	addFeature(func(s *Server) {
		s.Handle("GET /admin/options/papercut-import", BuiltInAdminOnly(), s.paperCutImportPage)
		s.Handle("POST /admin/options/papercut-import", BuiltInAdminOnly(), s.paperCutImportPost)
		s.Handle("GET /admin/options/papercut-import/progress", BuiltInAdminOnly(), s.paperCutImportProgress)
		s.AddNav(NavLink{Section: "Options", Label: "Import from PaperCut", Path: "/admin/options/papercut-import", Order: 95})
	})
}

// paperCutImportForm is what the page asks. The token is never shown back
// nor stored: it is used for the one run.
type paperCutImportForm struct {
	URL         string
	CAPEM       string
	Insecure    bool
	Users       bool
	Groups      bool
	Accounts    bool
	Concurrency int
}

type paperCutImportData struct {
	Form  paperCutImportForm
	Error string
}

func (s *Server) paperCutTasks() (*tasks.Runner, error) {
	if s.features.Tasks == nil {
		return nil, Errorf(http.StatusNotFound, "Import from PaperCut is not available on this server")
	}
	return s.features.Tasks, nil
}

func (s *Server) paperCutImportPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.paperCutTasks(); err != nil {
		return err
	}
	f := paperCutImportForm{Users: true, Groups: true, Accounts: true, Concurrency: 4}
	return s.Render(w, r, http.StatusOK, "papercut_import.html", "Import from PaperCut", paperCutImportData{Form: f})
}

func (s *Server) paperCutImportPost(w http.ResponseWriter, r *http.Request) error {
	runner, err := s.paperCutTasks()
	if err != nil {
		return err
	}
	f := paperCutImportForm{
		URL:      strings.TrimSpace(r.PostFormValue("url")),
		CAPEM:    strings.TrimSpace(r.PostFormValue("ca_pem")),
		Insecure: r.PostFormValue("insecure") != "",
		Users:    r.PostFormValue("users") != "",
		Groups:   r.PostFormValue("groups") != "",
		Accounts: r.PostFormValue("accounts") != "",
	}
	f.Concurrency, _ = strconv.Atoi(strings.TrimSpace(r.PostFormValue("concurrency")))
	data := paperCutImportData{Form: f}
	fail := func(msg string) error {
		data.Error = msg
		return s.Render(w, r, http.StatusUnprocessableEntity, "papercut_import.html", "Import from PaperCut", data)
	}
	var dry bool
	switch r.PostFormValue("action") {
	case "test":
		dry = true
	case "import":
	default:
		return Errorf(http.StatusBadRequest, "unknown action")
	}
	parts := papercutimport.Parts{Users: f.Users, Groups: f.Groups, Accounts: f.Accounts}
	if parts == (papercutimport.Parts{}) {
		return fail("Choose what to import: users, groups or shared accounts.")
	}
	src, err := papercutimport.NewSource(papercutimport.SourceOptions{URL: f.URL, Token: strings.TrimSpace(r.PostFormValue("token")),
		CAPEM: []byte(f.CAPEM), InsecureSkipVerify: f.Insecure, Concurrency: f.Concurrency})
	if err != nil {
		return fail(messageOf(err))
	}
	actor := s.Actor(r)
	first := "Import from PaperCut at " + src.URL()
	if dry {
		first = "Test (nothing is written) of the import from PaperCut at " + src.URL()
	}
	id, err := runner.Start(r.Context(), "papercut-import", first, func(ctx context.Context, progress tasks.Progress) (string, error) {
		defer src.Close()
		var last time.Time
		rep, err := papercutimport.Run(ctx, s.store, src, papercutimport.Options{Parts: parts, DryRun: dry, Actor: actor,
			Progress: func(p papercutimport.Progress) {
				// A line every few seconds: the page shows the last one.
				if time.Since(last) >= 2*time.Second || p.Total > 0 && p.Done == p.Total {
					last = time.Now()
					progress(p.String())
				}
			}})
		if err != nil {
			return "", err
		}
		var b strings.Builder
		if err := rep.Write(&b, false); err != nil {
			return "", err
		}
		return b.String(), nil
	})
	if err != nil {
		return fail(messageOf(err))
	}
	return s.Redirect(w, r, "/admin/options/papercut-import/progress?task="+strconv.FormatInt(id, 10), "ok", "The import from PaperCut started.")
}

type paperCutImportProgressData struct {
	Task      int64
	Completed bool
	Failed    bool
	Lines     []string // progress so far, the first line first
	Report    string   // the finished run's report (or why it failed)
}

func (s *Server) paperCutImportProgress(w http.ResponseWriter, r *http.Request) error {
	runner, err := s.paperCutTasks()
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.URL.Query().Get("task"), 10, 64)
	if err != nil {
		return Errorf(http.StatusNotFound, "no such import")
	}
	st, err := runner.Status(r.Context(), id)
	if err != nil {
		return Errorf(http.StatusNotFound, "no such import")
	}
	lines := strings.Split(st.Message, "\n")
	data := paperCutImportProgressData{Task: id, Completed: st.Completed}
	if !st.Completed {
		w.Header().Set("Refresh", "2") // live progress without JavaScript
		data.Lines = lines
	} else {
		// The first line names the run; the report is the rest after the
		// progress lines (each starts with the phase).
		data.Lines = lines[:1]
		rest := lines[1:]
		for len(rest) > 0 && isProgressLine(rest[0]) {
			rest = rest[1:]
		}
		data.Report = strings.Join(rest, "\n")
		data.Failed = strings.Contains(data.Report, "Error: ")
	}
	return s.Render(w, r, http.StatusOK, "papercut_import_progress.html", "Import from PaperCut", data)
}

func isProgressLine(l string) bool {
	for _, p := range []string{papercutimport.PhaseReading, papercutimport.PhasePlanning, papercutimport.PhaseApplying} {
		if strings.HasPrefix(l, p+":") {
			return true
		}
	}
	return false
}
