package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/store"
)

type userListData struct {
	Users []*model.User
	Pager pager
}

func (s *Server) userList(w http.ResponseWriter, r *http.Request) error {
	page, q := pageParams(r)
	users, total, err := s.store.ListUsers(r.Context(), store.UserFilter{Search: q, Offset: (page - 1) * pageSize, Limit: pageSize})
	if err != nil {
		return err
	}
	return s.Render(w, r, http.StatusOK, "users.html", "Users",
		userListData{Users: users, Pager: newPager("/admin/users", page, q, total, false)})
}

type userDetailsData struct {
	User         *model.User
	Groups       []string
	Transactions []model.Transaction
	// PrimaryOrigin and SecondaryOrigin say where each number came from
	// and when ("" for a blank field).
	PrimaryOrigin, SecondaryOrigin string
	Selection                      selectionForm
	OutOfScope                     bool // the selection names an account outside the admin's scope
	ModeLabel                      string
	// PasswordLinks: "Email a set-password link" is offered.
	PasswordLinks bool
}

// cardOrigin says where a number came from and when it was set.
func cardOrigin(c model.CardNumber) string {
	text := model.CardOriginText(c.Origin)
	if c.SetAt != nil {
		text += ", " + c.SetAt.Local().Format("2006-01-02 15:04")
	}
	return text
}

// userPath is the details page of a user.
func userPath(name string) string { return "/admin/users/" + url.PathEscape(name) }

func (s *Server) userDetails(w http.ResponseWriter, r *http.Request) error {
	u, err := s.core.User(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	groups, err := s.store.UserGroups(r.Context(), u.ID)
	if err != nil {
		return err
	}
	txs, err := s.store.Transactions(r.Context(), u.ID, 0, 20)
	if err != nil {
		return err
	}
	numbers, err := s.store.UserCardNumbers(r.Context(), u.ID)
	if err != nil {
		return err
	}
	sel, err := s.store.AccountSelection(r.Context(), u.ID)
	if err != nil {
		return err
	}
	var d userDetailsData
	// A scoped admin is not told the name of an account outside her scope.
	scope, err := s.accountScope(r)
	if err != nil {
		return err
	}
	if sel.AccountID != 0 && !scope.Contains(sel.AccountID) {
		sel.AccountName = ""
		d.OutOfScope = true
	}
	if sel.DefaultAccountID != 0 && !scope.Contains(sel.DefaultAccountID) {
		sel.DefaultAccountName = ""
		d.OutOfScope = true
	}
	d.User, d.Groups, d.Transactions = u, groups, txs
	d.Selection, d.ModeLabel = selectionForm{Modes: selectionModes, Selection: sel}, selectionLabel(sel.Mode)
	d.PasswordLinks = s.features.PasswordLinks != nil && s.features.PasswordLinks.SetEnabled(r.Context())
	for _, c := range numbers {
		if c.Slot == store.SecondaryCard {
			d.SecondaryOrigin = cardOrigin(c)
		} else {
			d.PrimaryOrigin = cardOrigin(c)
		}
	}
	return s.Render(w, r, http.StatusOK, "user.html", "User "+u.Username, d)
}

type userEditData struct {
	User    *model.User
	Error   string
	Adjust  string
	Comment string
}

func (s *Server) userEditPage(w http.ResponseWriter, r *http.Request) error {
	u, err := s.core.User(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return s.Render(w, r, http.StatusOK, "user_edit.html", "Edit "+u.Username, userEditData{User: u})
}

// userFormFields are the edit form's text fields and the core property each sets.
var userFormFields = []struct {
	field, prop string
	ptr         func(u *model.User) *string
	right       model.AdminRight // beyond users.edit, to be in the form
}{
	{"full_name", "full-name", func(u *model.User) *string { return &u.FullName }, ""},
	{"email", "email", func(u *model.User) *string { return &u.Email }, ""},
	{"department", "department", func(u *model.User) *string { return &u.Department }, ""},
	{"office", "office", func(u *model.User) *string { return &u.Office }, ""},
	{"notes", "notes", func(u *model.User) *string { return &u.Notes }, ""},
	{"alias", "username-alias", func(u *model.User) *string { return &u.Alias }, ""},
	{"home", "home", func(u *model.User) *string { return &u.HomeFolder }, ""},
	{"primary_card", "primary-card-number", func(u *model.User) *string { return &u.PrimaryCard }, model.RightUsersCards},
	{"secondary_card", "secondary-card-number", func(u *model.User) *string { return &u.SecondaryCard }, model.RightUsersCards},
}

func (s *Server) userEdit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, err := s.core.User(ctx, r.PathValue("name"))
	if err != nil {
		return err
	}
	// Only changed fields are sent, so the audit log names what changed;
	// edited keeps what was typed for the form when it is shown again.
	var changes []core.UserPropertyChange
	edited := *u
	actor := s.Actor(r)
	for _, f := range userFormFields {
		if f.right != "" && !actor.Holds(f.right) {
			continue // not in her form (core would refuse it too)
		}
		v := strings.TrimSpace(r.PostFormValue(f.field))
		if v != *f.ptr(u) {
			changes = append(changes, core.UserPropertyChange{Name: f.prop, Value: v})
		}
		*f.ptr(&edited) = v
	}
	for _, b := range []struct {
		field, prop string
		ptr         func(u *model.User) *bool
	}{
		{"restricted", "restricted", func(u *model.User) *bool { return &u.Restricted }},
		{"print_disabled", "disabled-print", func(u *model.User) *bool { return &u.PrintDisabled }},
	} {
		v := r.PostFormValue(b.field) == "on"
		if v != *b.ptr(u) {
			changes = append(changes, core.UserPropertyChange{Name: b.prop, Value: strconv.FormatBool(v)})
		}
		*b.ptr(&edited) = v
	}
	data := userEditData{User: &edited, Adjust: strings.TrimSpace(r.PostFormValue("adjust")), Comment: strings.TrimSpace(r.PostFormValue("comment"))}
	amount, msg := checkBalanceAdjustment(data.Adjust, data.Comment, u.Balance)
	if msg == "" && amount != 0 && !actor.Holds(model.RightUsersBalance) {
		msg = "Adjust balance: your admin rights do not include Users: adjust balances. Nothing was saved."
	}
	if msg != "" {
		data.Error = msg
		return s.Render(w, r, http.StatusBadRequest, "user_edit.html", "Edit "+u.Username, data)
	}
	if len(changes) > 0 {
		if err := s.core.SetUserProperties(ctx, actor, u.Username, changes); err != nil {
			if msg, ok := formError(err); ok {
				data.Error = msg
				return s.Render(w, r, http.StatusBadRequest, "user_edit.html", "Edit "+u.Username, data)
			}
			return err
		}
	}
	if amount != 0 {
		if _, err := s.core.AdjustUserBalance(ctx, actor, u.Username, amount, false, data.Comment); err != nil {
			msg, ok := formError(err)
			if !ok {
				return err
			}
			// Checked above, so only a change made meanwhile gets here.
			data.Error = "The details were saved, but the balance adjustment was refused: " + msg
			return s.Render(w, r, http.StatusBadRequest, "user_edit.html", "Edit "+u.Username, data)
		}
	}
	return s.Redirect(w, r, userPath(u.Username), "ok", "User "+u.Username+" saved.")
}

func (s *Server) userDeletePage(w http.ResponseWriter, r *http.Request) error {
	u, err := s.core.User(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return s.Render(w, r, http.StatusOK, "user_delete.html", "Delete "+u.Username, u)
}

func (s *Server) userDelete(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if r.PostFormValue("confirm") != "yes" {
		return s.Redirect(w, r, userPath(name), "error", "The user was not deleted: tick the confirmation box to delete.")
	}
	if err := s.core.DeleteUser(r.Context(), s.Actor(r), name, r.PostFormValue("redact") == "on"); err != nil {
		return err
	}
	return s.Redirect(w, r, "/admin/users", "ok", "User "+store.NormalizeUsername(name)+" deleted. Their history is kept.")
}

type passwordData struct {
	User  *model.User
	Error string
}

func (s *Server) userPasswordPage(w http.ResponseWriter, r *http.Request) error {
	u, err := s.core.User(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if !u.Internal {
		return Errorf(http.StatusBadRequest, "User %s is not an internally managed user: the password is managed in the directory.", u.Username)
	}
	return s.Render(w, r, http.StatusOK, "user_password.html", "Change password of "+u.Username, passwordData{User: u})
}

func (s *Server) userPassword(w http.ResponseWriter, r *http.Request) error {
	u, err := s.core.User(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	pw, again := r.PostFormValue("password"), r.PostFormValue("password2")
	data := passwordData{User: u}
	if pw != again {
		data.Error = "The two new passwords are not the same."
		return s.Render(w, r, http.StatusBadRequest, "user_password.html", "Change password of "+u.Username, data)
	}
	if err := s.core.SetPassword(r.Context(), s.Actor(r), u.Username, pw, ""); err != nil {
		if msg, ok := formError(err); ok {
			data.Error = msg
			return s.Render(w, r, http.StatusBadRequest, "user_password.html", "Change password of "+u.Username, data)
		}
		return err
	}
	return s.Redirect(w, r, userPath(u.Username), "ok", "Password of "+u.Username+" changed. Their sessions were ended.")
}

type newInternalData struct {
	Username, FullName, Email, Card string
	Error                           string
}

func (s *Server) newInternalUserPage(w http.ResponseWriter, r *http.Request) error {
	return s.Render(w, r, http.StatusOK, "user_new_internal.html", "Create internal user", newInternalData{})
}

func (s *Server) newInternalUser(w http.ResponseWriter, r *http.Request) error {
	in := core.NewInternalUser{
		Username: strings.TrimSpace(r.PostFormValue("username")), FullName: r.PostFormValue("full_name"),
		Email: r.PostFormValue("email"), Card: r.PostFormValue("card"), PIN: r.PostFormValue("pin"),
		Password: r.PostFormValue("password"),
	}
	data := newInternalData{Username: in.Username, FullName: in.FullName, Email: in.Email, Card: in.Card}
	if in.Password != r.PostFormValue("password2") {
		data.Error = "The two passwords are not the same."
		return s.Render(w, r, http.StatusBadRequest, "user_new_internal.html", "Create internal user", data)
	}
	u, err := s.core.CreateInternalUser(r.Context(), s.Actor(r), in)
	if err != nil {
		if msg, ok := formError(err); ok {
			data.Error = msg
			return s.Render(w, r, http.StatusBadRequest, "user_new_internal.html", "Create internal user", data)
		}
		return err
	}
	return s.Redirect(w, r, userPath(u.Username), "ok", "Internal user "+u.Username+" created.")
}

// maxAdjustmentComment is the longest balance adjustment comment core accepts.
const maxAdjustmentComment = 1000

// checkBalanceAdjustment checks an edit form's balance adjustment before
// anything is saved: the details and the adjustment are saved one after
// the other, so a refused adjustment must be caught first, or the details
// would be saved without it. It returns the amount (0 when none) or a
// message for the form naming what is wrong.
func checkBalanceAdjustment(adjust, comment string, balance money.Amount) (money.Amount, string) {
	if adjust == "" {
		return 0, ""
	}
	amount, err := money.Parse(adjust)
	if err != nil {
		return 0, "Balance adjustment: " + adjust + " is not an amount (write e.g. 5.00 or -2.50). Nothing was saved."
	}
	if !utf8.ValidString(comment) {
		return 0, "Comment: the text is not valid UTF-8. Nothing was saved."
	}
	if n := utf8.RuneCountInString(comment); n > maxAdjustmentComment {
		return 0, fmt.Sprintf("Comment: %d characters is longer than the %d allowed. Nothing was saved.", n, maxAdjustmentComment)
	}
	if _, err := balance.Add(amount); err != nil {
		return 0, "Balance adjustment: " + adjust + " would take the balance out of the allowed range. Nothing was saved."
	}
	return amount, ""
}

// userCards is the user page's Card/ID numbers form, for an admin with
// Users: card/ID numbers and PINs (who need not be able to edit details).
// Both numbers are one change, so a swap of the two works.
func (s *Server) userCards(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, err := s.core.User(ctx, r.PathValue("name"))
	if err != nil {
		return err
	}
	var changes []core.UserPropertyChange
	for _, f := range []struct{ field, prop, old string }{
		{"primary_card", "primary-card-number", u.PrimaryCard},
		{"secondary_card", "secondary-card-number", u.SecondaryCard},
	} {
		if v := strings.TrimSpace(r.PostFormValue(f.field)); v != f.old {
			changes = append(changes, core.UserPropertyChange{Name: f.prop, Value: v})
		}
	}
	if len(changes) == 0 {
		return s.Redirect(w, r, userPath(u.Username), "ok", "Card/ID numbers unchanged.")
	}
	if err := s.core.SetUserProperties(ctx, s.Actor(r), u.Username, changes); err != nil {
		if msg, ok := formError(err); ok {
			return s.Redirect(w, r, userPath(u.Username), "error", "Card/ID numbers not changed: "+msg)
		}
		return err
	}
	return s.Redirect(w, r, userPath(u.Username), "ok", "Card/ID numbers of "+u.Username+" saved.")
}
