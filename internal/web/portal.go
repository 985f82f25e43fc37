package web

import (
	"net/http"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
)

type summaryData struct {
	User      *model.User
	ShowCard  bool
	CardLabel string
	Card      string
	Accounts  []*model.Account
}

func (s *Server) portalSummary(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u := SessionOf(r).User
	d := summaryData{User: u}
	if s.settings.Bool(ctx, settings.UserViewCard) {
		d.ShowCard, d.CardLabel, d.Card = true, "Card/ID number", u.PrimaryCard
		if s.settings.Get(ctx, settings.UserViewCardField) == "secondary" {
			d.CardLabel, d.Card = "Secondary Card/ID number", u.SecondaryCard
		}
	}
	groups, err := s.store.UserGroups(ctx, u.ID)
	if err != nil {
		return err
	}
	if d.Accounts, err = s.store.AccountsForUser(ctx, u.Username, groups, 0, 500); err != nil {
		return err
	}
	return s.Render(w, r, http.StatusOK, "portal_summary.html", "Summary", d)
}

type detailsData struct {
	User         *model.User
	PasswordHelp string
	ChangePIN    bool
	Cards        *portalCards // nil: no card forms
	Error        string
}

func (s *Server) detailsData(r *http.Request) detailsData {
	ctx := r.Context()
	return detailsData{User: SessionOf(r).User, PasswordHelp: s.settings.Get(ctx, settings.UserPasswordHelp),
		ChangePIN: s.settings.Bool(ctx, settings.UserChangePIN), Cards: s.portalCardsData(r)}
}

func (s *Server) portalDetails(w http.ResponseWriter, r *http.Request) error {
	return s.Render(w, r, http.StatusOK, "portal_details.html", "Change Details", s.detailsData(r))
}

// portalPassword lets an internal user change their own password; the
// session they use stays, their other sessions end.
func (s *Server) portalPassword(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	se := SessionOf(r)
	d := s.detailsData(r)
	if !se.User.Internal {
		return Errorf(http.StatusBadRequest, "Your password is managed by your organisation's directory, not by Ream.")
	}
	fail := func(msg string) error {
		d.Error = msg
		return s.Render(w, r, http.StatusBadRequest, "portal_details.html", "Change Details", d)
	}
	current, pw, again := r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("password2")
	if msg, status, err := s.checkCurrentPassword(r, se.User, current); err != nil {
		return err
	} else if msg != "" {
		d.Error = msg
		return s.Render(w, r, status, "portal_details.html", "Change Details", d)
	}
	if pw != again {
		return fail("The two new passwords are not the same.")
	}
	if err := s.core.SetPassword(ctx, s.Actor(r), se.Username, pw, se.tokenHash); err != nil {
		if msg, ok := formError(err); ok {
			return fail(msg)
		}
		return err
	}
	return s.Redirect(w, r, "/user/details", "ok", "Your password was changed. Other sessions were logged out.")
}

func (s *Server) portalPIN(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	d := s.detailsData(r)
	if !d.ChangePIN {
		return Errorf(http.StatusForbidden, "Changing the card PIN is not allowed here. Ask your administrator.")
	}
	pin, again := r.PostFormValue("pin"), r.PostFormValue("pin2")
	if pin == "" || pin != again {
		d.Error = "Enter the new PIN twice, the same both times."
		return s.Render(w, r, http.StatusBadRequest, "portal_details.html", "Change Details", d)
	}
	if err := s.core.SetPIN(ctx, s.Actor(r), SessionOf(r).Username, pin); err != nil {
		if msg, ok := formError(err); ok {
			d.Error = msg
			return s.Render(w, r, http.StatusBadRequest, "portal_details.html", "Change Details", d)
		}
		return err
	}
	return s.Redirect(w, r, "/user/details", "ok", "Your card PIN was changed.")
}
