package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// Account selection (how a user's printing is charged, as PaperCut keeps
// it): shown and changed on the user's page, and set for a group or a list
// of users under Groups > Bulk User Actions, after a preview that says how
// many users will be changed.
func init() {
	addFeature(func(s *Server) {
		s.Handle("POST /admin/users/{name}/account-selection", Admin(model.RightUsersView, model.RightUsersEdit), s.userAccountSelection)
		s.Handle("POST /admin/groups/bulk/account-selection", Admin(model.RightGroups, model.RightUsersEdit), s.bulkAccountSelection)
	})
}

// selectionMode is one choice of the mode list.
type selectionMode struct{ Value, Label string }

var selectionModes = []selectionMode{
	{model.SelectAutoPersonal, "Automatically charge to personal account"},
	{model.SelectPersonalWithConfirm, "Charge to personal account, with a confirmation popup"},
	{model.SelectAutoShared, "Automatically charge to a shared account"},
	{model.SelectStandardPopup, "Show the standard account selection popup"},
	{model.SelectAdvancedPopup, "Show the advanced account selection popup"},
}

// selectionLabel is a mode's words for the pages.
func selectionLabel(mode string) string {
	for _, m := range selectionModes {
		if m.Value == mode {
			return m.Label
		}
	}
	return mode
}

// selectionForm is what the account selection fields need.
type selectionForm struct {
	Modes     []selectionMode
	Selection model.AccountSelection
}

func selectionFromForm(r *http.Request) core.AccountSelectionChange {
	on := func(f string) bool { return r.PostFormValue(f) == "on" }
	return core.AccountSelectionChange{Mode: r.PostFormValue("as_mode"), Account: strings.TrimSpace(r.PostFormValue("as_account")),
		DefaultAccount: strings.TrimSpace(r.PostFormValue("as_default")), AllowPersonal: on("as_personal"), AllowList: on("as_list"),
		AllowPIN: on("as_pin"), AllowOtherUser: on("as_other"), ChargePersonal: on("as_charge_personal")}
}

// selectionOfChange is the form's values shown again after a mistake.
func selectionOfChange(ch core.AccountSelectionChange) model.AccountSelection {
	return model.AccountSelection{Mode: ch.Mode, AccountName: ch.Account, DefaultAccountName: ch.DefaultAccount,
		AllowPersonal: ch.AllowPersonal, AllowList: ch.AllowList, AllowPIN: ch.AllowPIN, AllowOtherUser: ch.AllowOtherUser, ChargePersonal: ch.ChargePersonal}
}

// selectionMistake is the message of an error the form's user can fix (a
// shared account that is missing counts: it was typed in the form).
func selectionMistake(err error) (string, bool) {
	status, msg, ok := publicError(err)
	return msg, ok && status < 500
}

func (s *Server) userAccountSelection(w http.ResponseWriter, r *http.Request) error {
	u, err := s.core.User(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	err = s.core.SetAccountSelection(r.Context(), s.Actor(r), u.Username, selectionFromForm(r))
	if msg, ok := selectionMistake(err); ok {
		return s.Redirect(w, r, userPath(u.Username), "error", "Account selection not changed: "+msg)
	}
	if err != nil {
		return err
	}
	return s.Redirect(w, r, userPath(u.Username), "ok", "Account selection changed.")
}

// bulkSelectionData is the bulk account selection form and its preview.
type bulkSelectionData struct {
	selectionForm
	Group, Users string
	Count        int
	Missing      []string
	Done         bool
	Error        string
}

// bulkUsers resolves a group or a list of usernames to users.
func (s *Server) bulkUsers(r *http.Request, group, names string) ([]*model.User, []string, error) {
	var users []*model.User
	var missing []string
	err := s.store.InTx(r.Context(), func(tx *store.Tx) error {
		var ids []int64
		if list := strings.FieldsFunc(names, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t' }); len(list) > 0 {
			var err error
			if ids, missing, err = tx.UserIDsByNames(r.Context(), list); err != nil {
				return err
			}
			var uerr error
			users, uerr = tx.UsersByIDs(r.Context(), ids)
			return uerr
		}
		if group == "" {
			return core.Errorf(core.Invalid, "choose a group or list some users")
		}
		var err error
		users, err = tx.GroupUsers(r.Context(), group)
		if errors.Is(err, store.ErrNotFound) {
			return core.Errorf(core.NotFound, "group %q does not exist", group)
		}
		return err
	})
	return users, missing, err
}

func (s *Server) bulkAccountSelection(w http.ResponseWriter, r *http.Request) error {
	ch := selectionFromForm(r)
	d := bulkSelectionData{selectionForm: selectionForm{Modes: selectionModes, Selection: selectionOfChange(ch)},
		Group: strings.TrimSpace(r.PostFormValue("group")), Users: r.PostFormValue("users")}
	if strings.TrimSpace(d.Users) != "" {
		d.Group = ""
	}
	render := func(status int) error {
		return s.Render(w, r, status, "bulk_account_selection.html", "Bulk User Actions", d)
	}
	users, missing, err := s.bulkUsers(r, d.Group, d.Users)
	if msg, ok := selectionMistake(err); ok {
		d.Error = msg
		return render(http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	d.Count, d.Missing = len(users), missing
	if r.PostFormValue("action") != "apply" {
		return render(http.StatusOK)
	}
	if len(users) == 0 {
		d.Error = "no users to change"
		return render(http.StatusBadRequest)
	}
	err = s.core.SetAccountSelections(r.Context(), s.Actor(r), users, ch)
	if msg, ok := selectionMistake(err); ok {
		d.Error = msg
		return render(http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	d.Done = true
	return render(http.StatusOK)
}
