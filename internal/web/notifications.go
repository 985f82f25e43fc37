package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/mail"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
)

// Options > Notifications (SPEC §5): the Card/ID Number Notification, its
// template with a preview, the SMTP settings and Send test email.
func init() {
	addFeature(func(s *Server) {
		s.Handle("GET /admin/options/notifications", Admin(model.RightOptions), s.notificationsPage)
		s.Handle("POST /admin/options/notifications", Admin(model.RightOptions), s.notificationsPost)
		s.AddNav(NavLink{Section: "Options", Label: "Notifications", Path: "/admin/options/notifications", Order: 30})
	})
}

type notificationsForm struct {
	Notify                         bool
	Subject, Body                  string
	Host, Port, Security, Username string
	From, TestAddress              string
	HasPassword                    bool
}

type notificationsData struct {
	Form                        notificationsForm
	Placeholders                []string
	PreviewSubject, PreviewBody string
	Error                       string
	Queued                      int
}

func (s *Server) notificationsForm(r *http.Request, svc *cards.Service) notificationsForm {
	ctx := r.Context()
	subject, body := svc.NotificationTemplate(ctx)
	return notificationsForm{
		Notify: s.settings.Bool(ctx, settings.NotifyCardGenerated), Subject: subject, Body: body,
		Host: s.settings.Get(ctx, settings.SMTPHost), Port: s.settings.Get(ctx, settings.SMTPPort),
		Security: s.settings.Get(ctx, settings.SMTPSecurity), Username: s.settings.Get(ctx, settings.SMTPUsername),
		From: s.settings.Get(ctx, settings.SMTPFrom), HasPassword: s.settings.Get(ctx, settings.SMTPPassword) != "",
	}
}

func (s *Server) renderNotifications(w http.ResponseWriter, r *http.Request, status int, d notificationsData) error {
	d.Placeholders = cards.Placeholders()
	d.PreviewSubject, d.PreviewBody = cards.RenderFor(d.Form.Subject, d.Form.Body, cards.SampleUser(), cards.SampleUser().PrimaryCard, time.Now())
	if counts, err := s.store.OutboxCounts(r.Context()); err == nil {
		d.Queued = counts["queued"]
	}
	return s.Render(w, r, status, "notifications.html", "Options: Notifications", d)
}

func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.cardService()
	if err != nil {
		return err
	}
	return s.renderNotifications(w, r, http.StatusOK, notificationsData{Form: s.notificationsForm(r, svc)})
}

// notificationsPost applies the form ("save"), renders the template with
// the sample user without saving ("preview"), or queues a test email ("test").
func (s *Server) notificationsPost(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.cardService()
	if err != nil {
		return err
	}
	f := notificationsForm{
		Notify: r.PostFormValue("notify") == "on", Subject: strings.TrimSpace(r.PostFormValue("subject")),
		Body: strings.ReplaceAll(r.PostFormValue("body"), "\r\n", "\n"),
		Host: strings.TrimSpace(r.PostFormValue("host")), Port: strings.TrimSpace(r.PostFormValue("port")),
		Security: r.PostFormValue("security"), Username: strings.TrimSpace(r.PostFormValue("username")),
		From: strings.TrimSpace(r.PostFormValue("from")), TestAddress: strings.TrimSpace(r.PostFormValue("test_address")),
		HasPassword: s.settings.Get(r.Context(), settings.SMTPPassword) != "",
	}
	switch r.PostFormValue("action") {
	case "preview":
		return s.renderNotifications(w, r, http.StatusOK, notificationsData{Form: f})
	case "test":
		if err := svc.SendTestEmail(r.Context(), s.Actor(r), f.TestAddress); err != nil {
			msg, ok := formError(err)
			if !ok {
				return err
			}
			return s.renderNotifications(w, r, http.StatusBadRequest, notificationsData{Form: s.notificationsForm(r, svc), Error: msg})
		}
		return s.Redirect(w, r, "/admin/logs/mail", "ok", "Test email to "+f.TestAddress+" queued; its state is shown below.")
	}
	yn := map[bool]string{true: "Y", false: "N"}
	values := map[string]string{
		settings.NotifyCardGenerated: yn[f.Notify], settings.NotifyCardSubject: f.Subject,
		settings.SMTPHost: f.Host, settings.SMTPPort: f.Port, settings.SMTPSecurity: f.Security,
		settings.SMTPUsername: f.Username, settings.SMTPFrom: f.From,
	}
	// The built-in text is kept as "empty", so a later improvement of it
	// reaches sites that never changed it.
	if strings.TrimSpace(f.Body) == strings.TrimSpace(cards.DefaultNotificationBody) {
		values[settings.NotifyCardBody] = ""
	} else {
		values[settings.NotifyCardBody] = f.Body
	}
	// The password is never shown back: empty keeps it, "clear" removes it.
	if pw := r.PostFormValue("password"); pw != "" {
		values[settings.SMTPPassword] = pw
	} else if r.PostFormValue("clear_password") == "on" {
		values[settings.SMTPPassword] = ""
	}
	if port, err := strconv.Atoi(f.Port); err == nil && f.Host != "" && f.From != "" {
		cfg := mail.SMTPConfig{Host: f.Host, Port: port, Security: f.Security, Username: f.Username, From: f.From}
		if err := cfg.Validate(); err != nil {
			return s.renderNotifications(w, r, http.StatusBadRequest, notificationsData{Form: f, Error: strings.ReplaceAll(err.Error(), "\n", "; ")})
		}
	}
	// A new server, port, security or login without a new password clears
	// the stored one (core), so it is never sent where it was not meant to go.
	cleared, err := s.core.ApplyConfigValues(r.Context(), s.Actor(r), values)
	if err != nil {
		msg, ok := formError(err)
		if !ok {
			return err
		}
		return s.renderNotifications(w, r, http.StatusBadRequest, notificationsData{Form: f, Error: msg})
	}
	if s.features.Mail != nil {
		s.features.Mail.Wake() // mail waiting for settings goes now
	}
	if slices.Contains(cleared, settings.SMTPPassword) {
		return s.Redirect(w, r, "/admin/options/notifications", "error",
			"Notification options saved. The stored SMTP password was cleared because the server or login changed; enter it again.")
	}
	return s.Redirect(w, r, "/admin/options/notifications", "ok", "Notification options saved.")
}
