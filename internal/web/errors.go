package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/store"
)

// Error is a failure with a status and a message that is safe to show.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// Errorf builds an *Error with a status and a message for the person at the browser.
func Errorf(status int, format string, args ...any) error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// publicError maps any handler error to a status and a message that is
// safe to show; ok is false when the error is internal (500, details logged only).
func publicError(err error) (status int, msg string, ok bool) {
	var we *Error
	if errors.As(err, &we) {
		return we.Status, we.Msg, true
	}
	if ce, isCore := core.AsError(err); isCore {
		switch ce.Code {
		case core.Invalid:
			return http.StatusBadRequest, ce.Msg, true
		case core.NotFound:
			return http.StatusNotFound, ce.Msg, true
		case core.Conflict:
			return http.StatusConflict, ce.Msg, true
		case core.Forbidden:
			return http.StatusForbidden, ce.Msg, true
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return http.StatusNotFound, "Not found.", true
	}
	return http.StatusInternalServerError, "Something went wrong on the server. The problem has been logged.", false
}

// formError returns the message of an error that a form should show next
// to the fields (bad input, a taken name), or ok=false for other errors.
func formError(err error) (string, bool) {
	status, msg, ok := publicError(err)
	if ok && (status == http.StatusBadRequest || status == http.StatusConflict) {
		return msg, true
	}
	return "", false
}

// writeError answers with the error page for err.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, ok := publicError(err)
	if !ok {
		s.log.ErrorContext(r.Context(), "web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	s.renderError(w, r, status, msg)
}

// renderError writes the error page (in the layout) with a status.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	title := http.StatusText(status)
	if err := s.Render(w, r, status, "error.html", title, msg); err != nil {
		s.log.ErrorContext(r.Context(), "web: unable to render the error page", "err", err)
		http.Error(w, msg, status)
	}
}
