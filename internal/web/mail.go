package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// Logs > Mail outbox: every message Ream queued, with its state (queued,
// sent, failed with the reason), and a retry for failed ones.
func init() {
	addFeature(func(s *Server) {
		s.Handle("GET /admin/logs/mail", Admin(model.RightLogs), s.mailOutboxPage)
		s.Handle("POST /admin/logs/mail/{id}/retry", Admin(model.RightLogs), s.mailRetry)
		s.AddNav(NavLink{Section: "Logs", Label: "Mail outbox", Path: "/admin/logs/mail", Order: 30})
	})
}

type mailOutboxData struct {
	State    string
	States   []string
	Counts   map[string]int
	Messages []*store.OutboxMessage
	Pager    pager
}

func (s *Server) mailOutboxPage(w http.ResponseWriter, r *http.Request) error {
	page, state := pageParams(r)
	valid := state == ""
	for _, st := range store.MailStates {
		valid = valid || st == state
	}
	if !valid {
		return Errorf(http.StatusBadRequest, "unknown mail state %q", state)
	}
	ctx := r.Context()
	msgs, total, err := s.store.ListOutbox(ctx, state, (page-1)*pageSize, pageSize)
	if err != nil {
		return err
	}
	counts, err := s.store.OutboxCounts(ctx)
	if err != nil {
		return err
	}
	d := mailOutboxData{State: state, States: store.MailStates, Counts: counts, Messages: msgs,
		Pager: newPager("/admin/logs/mail", page, state, total, false)}
	return s.Render(w, r, http.StatusOK, "mail_outbox.html", "Mail outbox", d)
}

func (s *Server) mailRetry(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return Errorf(http.StatusNotFound, "no such message")
	}
	if err := s.store.RequeueMail(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		return Errorf(http.StatusNotFound, "message #%d is not a failed message", id)
	} else if err != nil {
		return err
	}
	if s.features.Mail != nil {
		s.features.Mail.Wake()
	}
	return s.Redirect(w, r, "/admin/logs/mail", "ok", "Message #"+strconv.FormatInt(id, 10)+" queued again.")
}
