package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/passwordlink"
	"github.com/reamprint/ream/internal/settings"
)

// Set and reset internal users' passwords by email (issue 12):
// "Forgot your password?" beside the user login, the page its link opens,
// "Email a set-password link" for one user and in Bulk User Actions, and
// Options > Password Links.
func init() {
	addFeature(func(s *Server) {
		s.Handle("GET /user/login/forgot", Public, s.forgotPage)
		s.Handle("POST /user/login/forgot", Public, s.forgotPost)
		s.Handle("GET /user/login/reset", Public, s.resetPage)
		s.Handle("POST /user/login/reset", Public, s.resetPost)
		s.Handle("POST /admin/users/{name}/password-link", Admin(model.RightUsersInternal), s.userPasswordLink)
		s.Handle("POST /admin/groups/bulk/password-links", Admin(model.RightGroups, model.RightUsersInternal), s.bulkPasswordLinks)
		s.Handle("GET /admin/options/password-links", Admin(model.RightOptions), s.passwordLinkOptionsPage)
		s.Handle("POST /admin/options/password-links", Admin(model.RightOptions), s.passwordLinkOptionsPost)
		s.AddNav(NavLink{Section: "Options", Label: "Password Links", Path: "/admin/options/password-links", Order: 35})
	})
}

func (s *Server) passwordLinks() (*passwordlink.Service, error) {
	if s.features.PasswordLinks == nil {
		return nil, Errorf(http.StatusNotFound, "Password links by email are not available on this server.")
	}
	return s.features.PasswordLinks, nil
}

// resetOffered reports whether the user login page offers "Forgot your password?".
func (s *Server) resetOffered(r *http.Request) bool {
	return s.features.PasswordLinks != nil && s.features.PasswordLinks.ResetEnabled(r.Context())
}

type forgotData struct {
	LoginCSRF    string
	Identifier   string
	Sent         bool
	Error        string
	PasswordHelp string
	Off          bool
}

// forgotAnswer is the one answer to every accepted request, whoever it names.
const forgotAnswer = "If an internal account has that username or email address, a link to choose a new password is on its way to its email address. It works once, for a limited time."

func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request) error {
	d := forgotData{LoginCSRF: s.loginCSRF(w, r), PasswordHelp: s.settings.Get(r.Context(), settings.UserPasswordHelp), Off: !s.resetOffered(r)}
	status := http.StatusOK
	if d.Off {
		status = http.StatusNotFound
	}
	return s.Render(w, r, status, "password_forgot.html", "Forgot your password?", d)
}

// forgotPost queues the request (passwordlink.Request answers before it
// looks anyone up) and shows the same page for every name.
func (s *Server) forgotPost(w http.ResponseWriter, r *http.Request) error {
	if msg := s.checkLoginCSRF(r); msg != "" {
		return Errorf(http.StatusForbidden, "%s", msg)
	}
	d := forgotData{LoginCSRF: s.loginCSRF(w, r), PasswordHelp: s.settings.Get(r.Context(), settings.UserPasswordHelp)}
	svc, err := s.passwordLinks()
	if err != nil {
		return err
	}
	d.Identifier = strings.TrimSpace(r.PostFormValue("identifier"))
	err = svc.Request(r.Context(), d.Identifier, clientAddress(r))
	var throttled *passwordlink.ThrottledError
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", fmt.Sprint(int(throttled.Wait.Seconds())+1))
		d.Error = fmt.Sprintf("Too many requests. Try again in %s.", humanWait(throttled.Wait))
		return s.Render(w, r, http.StatusTooManyRequests, "password_forgot.html", "Forgot your password?", d)
	case err != nil:
		status, msg, ok := publicError(err)
		if !ok || status >= 500 {
			return err
		}
		d.Error, d.Off = msg, status == http.StatusForbidden
		return s.Render(w, r, status, "password_forgot.html", "Forgot your password?", d)
	}
	d.Sent = true
	return s.Render(w, r, http.StatusOK, "password_forgot.html", "Forgot your password?", d)
}

type resetData struct {
	LoginCSRF string
	Token     string
	Purpose   string
	Username  string
	Problem   string // the link cannot be used: why
	Error     string // the new password was refused: the rule
}

func (s *Server) renderReset(w http.ResponseWriter, r *http.Request, status int, d resetData) error {
	title := "Choose a new password"
	if d.Purpose == passwordlink.PurposeSet {
		title = "Choose your password"
	}
	if d.Problem != "" {
		title = "This link cannot be used"
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.Render(w, r, status, "password_reset.html", title, d)
}

// linkStatus is the answer to a link that cannot be used: 410 for one used
// or expired, 404 for one that was never valid.
func linkStatus(lp *passwordlink.LinkProblem) int {
	if lp.Reason == "invalid" {
		return http.StatusNotFound
	}
	return http.StatusGone
}

func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.passwordLinks()
	if err != nil {
		return err
	}
	d := resetData{LoginCSRF: s.loginCSRF(w, r), Token: r.URL.Query().Get("token")}
	link, err := svc.Check(r.Context(), d.Token)
	if lp, ok := passwordlink.IsLinkProblem(err); ok {
		d.Problem, d.Token = lp.Msg, ""
		return s.renderReset(w, r, linkStatus(lp), d)
	}
	if err != nil {
		return err
	}
	d.Purpose, d.Username = link.Purpose, link.Username
	return s.renderReset(w, r, http.StatusOK, d)
}

func (s *Server) resetPost(w http.ResponseWriter, r *http.Request) error {
	if msg := s.checkLoginCSRF(r); msg != "" {
		return Errorf(http.StatusForbidden, "%s", msg)
	}
	svc, err := s.passwordLinks()
	if err != nil {
		return err
	}
	d := resetData{LoginCSRF: s.loginCSRF(w, r), Token: r.PostFormValue("token")}
	pw, again := r.PostFormValue("password"), r.PostFormValue("password2")
	link, err := svc.Check(r.Context(), d.Token)
	if lp, ok := passwordlink.IsLinkProblem(err); ok {
		d.Problem, d.Token = lp.Msg, ""
		return s.renderReset(w, r, linkStatus(lp), d)
	}
	if err != nil {
		return err
	}
	d.Purpose, d.Username = link.Purpose, link.Username
	if pw != again {
		d.Error = "The two passwords are not the same."
		return s.renderReset(w, r, http.StatusBadRequest, d)
	}
	if _, err := svc.SetPassword(r.Context(), d.Token, pw, clientAddress(r)); err != nil {
		if lp, ok := passwordlink.IsLinkProblem(err); ok {
			d.Problem, d.Token = lp.Msg, ""
			return s.renderReset(w, r, linkStatus(lp), d)
		}
		if msg, ok := formError(err); ok {
			d.Error = msg
			return s.renderReset(w, r, http.StatusBadRequest, d)
		}
		return err
	}
	return s.Redirect(w, r, "/user/login", "ok", "Your password was set. Log in with it; every earlier session was logged out.")
}

// userPasswordLink is "Email a set-password link" on a user's page.
func (s *Server) userPasswordLink(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.passwordLinks()
	if err != nil {
		return err
	}
	u, err := s.core.User(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	back := userPath(u.Username)
	res, err := svc.SendSetLinks(r.Context(), s.Actor(r), passwordlink.Selection{Users: []string{u.Username}})
	if err != nil {
		if _, msg, ok := publicError(err); ok {
			return s.Redirect(w, r, back, "error", msg)
		}
		return err
	}
	switch {
	case res.Sent == 1:
		return s.Redirect(w, r, back, "ok", "A set-password link was emailed to "+u.Email+".")
	case len(res.NotInternal) > 0:
		return s.Redirect(w, r, back, "error", "This user's password is managed in the directory: there is nothing to set in Ream.")
	case len(res.Refused) > 0:
		return s.Redirect(w, r, back, "error", "This user is an administrator: only an administrator with every right and all shared accounts may send them a link.")
	default:
		return s.Redirect(w, r, back, "error", "This user has no usable email address. Add one under Edit, then send the link.")
	}
}

// bulkPasswordLinks previews (action "preview") or sends (action "apply")
// set-password links for a group or a list of users in Bulk User Actions.
func (s *Server) bulkPasswordLinks(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.passwordLinks()
	if err != nil {
		return err
	}
	d := bulkData{Group: strings.TrimSpace(r.PostFormValue("group")), Users: r.PostFormValue("users")}
	links := &bulkLinks{OnlyWithout: r.PostFormValue("only_without") != "no"}
	d.Links = links
	sel := passwordlink.Selection{Group: d.Group, OnlyWithoutPasswd: links.OnlyWithout}
	if strings.TrimSpace(d.Users) != "" {
		sel.Group, d.Group = "", ""
		sel.Users = strings.FieldsFunc(d.Users, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t' })
	}
	send := r.PostFormValue("action") == "apply"
	var res passwordlink.SendResult
	if send {
		res, err = svc.SendSetLinks(r.Context(), s.Actor(r), sel)
	} else {
		res, err = svc.PreviewSetLinks(r.Context(), s.Actor(r), sel)
	}
	if err != nil {
		status, msg, ok := publicError(err)
		if !ok || status >= 500 {
			return err
		}
		d.Error = msg
		return s.Render(w, r, http.StatusBadRequest, "bulk_actions.html", "Bulk User Actions", s.bulkData(r, d))
	}
	links.Result, links.Sent = &res, send
	return s.Render(w, r, http.StatusOK, "bulk_actions.html", "Bulk User Actions", s.bulkData(r, d))
}

// bulkLinks is the state of the set-password links part of Bulk User Actions.
type bulkLinks struct {
	OnlyWithout bool
	Sent        bool // Result is what was sent; otherwise what would be
	Result      *passwordlink.SendResult
}

type passwordLinkOptions struct {
	PublicURL               string
	Reset, Set              bool
	ResetMinutes, SetHours  string
	ResetSubject, ResetBody string
	SetSubject, SetBody     string
	Placeholders            []string
	ResetPreviewSubject     string
	ResetPreviewBody        string
	SetPreviewSubject       string
	SetPreviewBody          string
	Error                   string
	MailReady               bool
}

func (s *Server) renderPasswordLinkOptions(w http.ResponseWriter, r *http.Request, status int, d passwordLinkOptions) error {
	ctx := r.Context()
	d.Placeholders = passwordlink.Placeholders()
	d.MailReady = s.settings.Get(ctx, settings.SMTPHost) != "" && s.settings.Get(ctx, settings.SMTPFrom) != ""
	now := time.Now()
	base := d.PublicURL
	if base == "" {
		base = "https://print.example.org:9192"
	}
	link := passwordlink.LinkFor(base, "EXAMPLE-TOKEN")
	minutes, hours := s.settings.Int(ctx, settings.PasswordResetMinutes), s.settings.Int(ctx, settings.PasswordSetHours)
	d.ResetPreviewSubject, d.ResetPreviewBody = passwordlink.Render(d.ResetSubject, orDefault(d.ResetBody, passwordlink.DefaultResetBody),
		passwordlink.SampleUser(), link, now, now.Add(time.Duration(minutes)*time.Minute))
	d.SetPreviewSubject, d.SetPreviewBody = passwordlink.Render(d.SetSubject, orDefault(d.SetBody, passwordlink.DefaultSetBody),
		passwordlink.SampleUser(), link, now, now.Add(time.Duration(hours)*time.Hour))
	return s.Render(w, r, status, "password_links_options.html", "Options: Password Links", d)
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

func (s *Server) passwordLinkOptionsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	resetSubject, resetBody := passwordlink.Template(ctx, s.settings, passwordlink.PurposeReset)
	setSubject, setBody := passwordlink.Template(ctx, s.settings, passwordlink.PurposeSet)
	return s.renderPasswordLinkOptions(w, r, http.StatusOK, passwordLinkOptions{
		PublicURL: s.settings.Get(ctx, settings.PublicURL),
		Reset:     s.settings.Bool(ctx, settings.PasswordReset), Set: s.settings.Bool(ctx, settings.PasswordSet),
		ResetMinutes: s.settings.Get(ctx, settings.PasswordResetMinutes), SetHours: s.settings.Get(ctx, settings.PasswordSetHours),
		ResetSubject: resetSubject, ResetBody: resetBody, SetSubject: setSubject, SetBody: setBody,
	})
}

// passwordLinkOptionsPost saves the options ("save") or previews the
// templates without saving ("preview").
func (s *Server) passwordLinkOptionsPost(w http.ResponseWriter, r *http.Request) error {
	body := func(name string) string { return strings.ReplaceAll(r.PostFormValue(name), "\r\n", "\n") }
	d := passwordLinkOptions{
		PublicURL: strings.TrimSpace(r.PostFormValue("public_url")),
		Reset:     r.PostFormValue("reset") == "on", Set: r.PostFormValue("set") == "on",
		ResetMinutes: strings.TrimSpace(r.PostFormValue("reset_minutes")), SetHours: strings.TrimSpace(r.PostFormValue("set_hours")),
		ResetSubject: strings.TrimSpace(r.PostFormValue("reset_subject")), ResetBody: body("reset_body"),
		SetSubject: strings.TrimSpace(r.PostFormValue("set_subject")), SetBody: body("set_body"),
	}
	if r.PostFormValue("action") == "preview" {
		return s.renderPasswordLinkOptions(w, r, http.StatusOK, d)
	}
	yn := map[bool]string{true: "Y", false: "N"}
	// The built-in texts are kept as "empty", so a later improvement of
	// them reaches sites that never changed them.
	builtIn := func(v, def string) string {
		if strings.TrimSpace(v) == strings.TrimSpace(def) {
			return ""
		}
		return v
	}
	values := map[string]string{
		settings.PublicURL: d.PublicURL, settings.PasswordReset: yn[d.Reset], settings.PasswordSet: yn[d.Set],
		settings.PasswordResetMinutes: d.ResetMinutes, settings.PasswordSetHours: d.SetHours,
		settings.PasswordResetSubject: d.ResetSubject, settings.PasswordResetBody: builtIn(d.ResetBody, passwordlink.DefaultResetBody),
		settings.PasswordSetSubject: d.SetSubject, settings.PasswordSetBody: builtIn(d.SetBody, passwordlink.DefaultSetBody),
	}
	if _, err := s.core.ApplyConfigValues(r.Context(), s.Actor(r), values); err != nil {
		msg, ok := formError(err)
		if !ok {
			return err
		}
		d.Error = msg
		return s.renderPasswordLinkOptions(w, r, http.StatusBadRequest, d)
	}
	return s.Redirect(w, r, "/admin/options/password-links", "ok", "Password link options saved.")
}
