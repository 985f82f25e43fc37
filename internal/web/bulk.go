package web

import (
	"net/http"
	"strings"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/model"
)

// Groups > Bulk User Actions (SPEC §5): generate random primary Card/ID
// numbers for a group or a list of users, after a preview that says how
// many users will be changed.
func init() {
	addFeature(func(s *Server) {
		s.Handle("GET /admin/groups/bulk", Admin(model.RightGroups), s.bulkPage)
		s.Handle("POST /admin/groups/bulk", Admin(model.RightGroups, model.RightUsersCards), s.bulkPost)
		s.AddNav(NavLink{Section: "Groups", Label: "Bulk User Actions", Path: "/admin/groups/bulk", Order: 30})
	})
}

type bulkData struct {
	Group, Users string
	OnlyBlank    bool
	Groups       []string
	Preview      *cards.BulkPreview
	Result       *cards.BulkResult
	NoEmail      string
	Error        string
	Selection    selectionForm // the account selection form
	Links        *bulkLinks    // the set-password links form; nil: not used yet
	LinksOffered bool
}

func (s *Server) bulkData(r *http.Request, d bulkData) bulkData {
	d.Selection = selectionForm{Modes: selectionModes, Selection: model.DefaultAccountSelection()}
	d.LinksOffered = s.features.PasswordLinks != nil && s.features.PasswordLinks.SetEnabled(r.Context())
	d.Groups = []string{"[All Users]"}
	if groups, err := s.store.ListGroups(r.Context(), 0, 1000); err == nil {
		for _, g := range groups {
			d.Groups = append(d.Groups, g.Name)
		}
	}
	return d
}

func (s *Server) bulkPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.cardService(); err != nil {
		return err
	}
	d := bulkData{Group: r.URL.Query().Get("group")}
	return s.Render(w, r, http.StatusOK, "bulk_actions.html", "Bulk User Actions", s.bulkData(r, d))
}

// bulkPost previews (action "preview": nothing changes) or applies
// (action "apply", only from the preview's confirmation form).
func (s *Server) bulkPost(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.cardService()
	if err != nil {
		return err
	}
	d := bulkData{Group: strings.TrimSpace(r.PostFormValue("group")), Users: r.PostFormValue("users"),
		OnlyBlank: r.PostFormValue("scope") == "blank"}
	sel := cards.Selection{Group: d.Group, OnlyBlank: d.OnlyBlank}
	if strings.TrimSpace(d.Users) != "" {
		sel.Group, d.Group = "", ""
		sel.Users = strings.FieldsFunc(d.Users, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t' })
	}
	fail := func(err error) error {
		// A group that does not exist is a form mistake here, not a missing page.
		status, msg, ok := publicError(err)
		if !ok || status >= 500 {
			return err
		}
		d.Error = msg
		return s.Render(w, r, http.StatusBadRequest, "bulk_actions.html", "Bulk User Actions", s.bulkData(r, d))
	}
	if r.PostFormValue("action") != "apply" {
		p, err := svc.PreviewBulk(r.Context(), sel)
		if err != nil {
			return fail(err)
		}
		d.Preview = &p
		return s.Render(w, r, http.StatusOK, "bulk_actions.html", "Bulk User Actions", s.bulkData(r, d))
	}
	res, err := svc.BulkGenerate(r.Context(), s.Actor(r), sel, nil)
	if err != nil {
		return fail(err)
	}
	d.Result = &res
	if len(res.NoEmail) > 0 {
		d.NoEmail = strings.Join(res.NoEmail[:min(len(res.NoEmail), 200)], ", ")
		if len(res.NoEmail) > 200 {
			d.NoEmail += " …"
		}
	}
	return s.Render(w, r, http.StatusOK, "bulk_actions.html", "Bulk User Actions", s.bulkData(r, d))
}
