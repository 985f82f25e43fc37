package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/reamprint/ream/internal/internalusers"
	"github.com/reamprint/ream/internal/model"
)

// internalUserImportPath is Users > Batch Import (internal users). It sits
// one level below /admin/users/ so that it cannot hide a user's details page.
const internalUserImportPath = "/admin/users/batch-import/internal"

// maxInternalUserImport bounds an uploaded import file.
const maxInternalUserImport = 16 << 20

func init() {
	addFeature(func(s *Server) {
		s.Handle("GET "+internalUserImportPath, Admin(model.RightUsersInternal, model.RightUsersCards), s.internalUserImportPage)
		s.Handle("POST "+internalUserImportPath, Admin(model.RightUsersInternal, model.RightUsersCards), s.internalUserImport, WithBodyLimit(maxInternalUserImport+64<<10))
		s.AddNav(NavLink{Section: "Users", Label: "Batch Import (internal users)", Path: internalUserImportPath, Order: 35})
	})
}

type internalUserImportData struct {
	OverwritePasswords, OverwritePINs, EmailOnCreation bool
	Error                                              string
	Report                                             string
	Test                                               bool
	RunID                                              int64
	MaxBytes                                           int
}

func (s *Server) internalUserImportPage(w http.ResponseWriter, r *http.Request) error {
	return s.Render(w, r, http.StatusOK, "internalusers_import.html", "Batch Import (internal users)",
		internalUserImportData{MaxBytes: maxInternalUserImport})
}

// internalUserImport runs Test or Import on an uploaded file and shows the
// report on the same page, with the choices kept for the next step.
func (s *Server) internalUserImport(w http.ResponseWriter, r *http.Request) error {
	d := internalUserImportData{
		OverwritePasswords: r.PostFormValue("overwrite_passwords") == "on",
		OverwritePINs:      r.PostFormValue("overwrite_pins") == "on",
		EmailOnCreation:    r.PostFormValue("email_on_creation") == "on",
		Test:               r.PostFormValue("action") != "import",
		MaxBytes:           maxInternalUserImport,
	}
	fail := func(status int, msg string) error {
		d.Error = msg
		return s.Render(w, r, status, "internalusers_import.html", "Batch Import (internal users)", d)
	}
	f, hdr, err := r.FormFile("file")
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %d MB.", maxInternalUserImport>>20))
	case err != nil:
		return fail(http.StatusBadRequest, "Choose the file to import.")
	}
	defer f.Close()
	if hdr.Size > maxInternalUserImport {
		return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %d MB.", maxInternalUserImport>>20))
	}
	opts := internalusers.Options{OverwritePasswords: d.OverwritePasswords, OverwritePINs: d.OverwritePINs,
		EmailOnCreation: d.EmailOnCreation, Test: d.Test}
	rep, err := internalusers.New(s.core).Import(r.Context(), s.Actor(r), f, opts)
	if err != nil {
		if msg, ok := formError(err); ok {
			return fail(http.StatusBadRequest, msg)
		}
		return err
	}
	d.Report, d.RunID = rep.Text(), rep.RunID
	return s.Render(w, r, http.StatusOK, "internalusers_import.html", "Batch Import (internal users)", d)
}
