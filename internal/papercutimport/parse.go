package papercutimport

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/store"
)

// userRecord is a source user turned into Ream's terms.
type userRecord struct {
	user      model.User // details, cards, flags, balance
	selection model.AccountSelection
	// selectionNames are the shared accounts the selection names, resolved
	// to ids once the accounts are written.
	autoAccount, defaultAccount string
}

// parseUser checks and converts one user's properties, as PaperCut writes them.
func parseUser(su SourceUser) (*userRecord, error) {
	p := su.Props
	name := store.NormalizeUsername(su.Username)
	if err := checkText("username", name, 255); err != nil || name == "" {
		return nil, fmt.Errorf("the username is not usable: %v", orEmpty(err))
	}
	r := &userRecord{}
	u := &r.user
	u.Username = name
	for _, f := range []struct {
		prop string
		dst  *string
		max  int
	}{{"full-name", &u.FullName, 255}, {"email", &u.Email, 254}, {"other-emails", &u.OtherEmails, 1024},
		{"department", &u.Department, 255}, {"office", &u.Office, 255}, {"notes", &u.Notes, 4000},
		{"username-alias", &u.Alias, 255}, {"home", &u.HomeFolder, 1024}} {
		v := strings.TrimSpace(p[f.prop])
		if err := checkText(f.prop, v, f.max); err != nil {
			return nil, err
		}
		*f.dst = v
	}
	for _, c := range []struct {
		prop string
		dst  *string
	}{{"primary-card-number", &u.PrimaryCard}, {"secondary-card-number", &u.SecondaryCard}} {
		v := strings.TrimSpace(p[c.prop])
		if err := core.CheckCardNumber(v); err != nil {
			return nil, fmt.Errorf("%s: %v", c.prop, err)
		}
		*c.dst = v
	}
	bal, err := money.Parse(strings.TrimSpace(p["balance"]))
	if err != nil {
		return nil, fmt.Errorf("balance %q is not a decimal number", p["balance"])
	}
	u.Balance = bal
	for _, b := range []struct {
		prop string
		dst  *bool
	}{{"restricted", &u.Restricted}, {"disabled-print", &u.PrintDisabled}, {"internal", &u.Internal}} {
		v, err := core.ParseBool(p[b.prop])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.prop, err)
		}
		*b.dst = v
	}
	if !u.Internal {
		u.SourceID = SourceID
	}
	sel, err := parseSelection(p)
	if err != nil {
		return nil, err
	}
	r.selection = sel
	r.autoAccount = strings.TrimSpace(p["account-selection.auto-shared-account"])
	r.defaultAccount = strings.TrimSpace(p["account-selection.default-shared-account"])
	return r, nil
}

// SourceID marks the directory users the import brought (PaperCut synced
// them from its directory): a later user/group sync in Ream takes them over.
const SourceID = "papercut"

func parseSelection(p map[string]string) (model.AccountSelection, error) {
	sel := model.DefaultAccountSelection()
	mode := strings.TrimSpace(p["account-selection.mode"])
	if mode == "" {
		return sel, nil
	}
	known := false
	for _, m := range model.AccountSelectionModes {
		known = known || m == mode
	}
	if !known {
		return sel, fmt.Errorf("account-selection.mode %q is not one Ream keeps (%s)", mode, strings.Join(model.AccountSelectionModes, ", "))
	}
	sel.Mode = mode
	for _, f := range []struct {
		prop string
		dst  *bool
	}{{"account-selection.can-charge-personal", &sel.AllowPersonal}, {"account-selection.can-charge-shared-from-list", &sel.AllowList},
		{"account-selection.can-charge-shared-by-pin", &sel.AllowPIN}, {"account-selection.can-print-as-other-user", &sel.AllowOtherUser},
		{"account-selection.charge-to-personal", &sel.ChargePersonal}} {
		v := strings.TrimSpace(p[f.prop])
		if v == "" {
			*f.dst = false
			continue
		}
		b, err := core.ParseBool(v)
		if err != nil {
			return sel, fmt.Errorf("%s: %v", f.prop, err)
		}
		*f.dst = b
	}
	return sel, nil
}

// accountRecord is a source shared account in Ream's terms.
type accountRecord struct {
	parent, name string // name is the sub-account's own name when parent is set
	acc          model.Account
	pin          string // plain PIN/code; "" none
	pinHidden    bool
}

func (r *accountRecord) fullName() string {
	if r.parent != "" {
		return r.parent + `\` + r.name
	}
	return r.name
}

// parseAccount checks and converts one shared account's properties.
func parseAccount(sa SourceAccount) (*accountRecord, error) {
	p := sa.Props
	parent, sub := store.SplitAccountName(sa.Name)
	r := &accountRecord{parent: parent, name: sub}
	if sub == "" {
		r.parent, r.name = "", parent
	}
	for _, n := range []string{r.parent, r.name} {
		if n == "" {
			continue
		}
		if err := core.ValidateAccountName(n); err != nil {
			return nil, fmt.Errorf("the name is not usable: %v", err)
		}
	}
	a := &r.acc
	var err error
	if a.Balance, err = money.Parse(strings.TrimSpace(p["balance"])); err != nil {
		return nil, fmt.Errorf("balance %q is not a decimal number", p["balance"])
	}
	od := strings.TrimSpace(p["overdraft-amount"])
	if od == "" {
		od = "0"
	}
	if a.Overdraft, err = money.Parse(od); err != nil {
		return nil, fmt.Errorf("overdraft-amount %q is not a decimal number", p["overdraft-amount"])
	}
	if a.Restricted, err = core.ParseBool(p["restricted"]); err != nil {
		return nil, fmt.Errorf("restricted: %v", err)
	}
	disabled, err := core.ParseBool(p["disabled"])
	if err != nil {
		return nil, fmt.Errorf("disabled: %v", err)
	}
	a.Enabled = !disabled
	a.AccessUsers = core.SplitNameList(p["access-users"])
	for i, u := range a.AccessUsers {
		a.AccessUsers[i] = store.NormalizeUsername(u)
	}
	a.AccessGroups = core.SplitNameList(p["access-groups"])
	for _, n := range append(append([]string(nil), a.AccessUsers...), a.AccessGroups...) {
		if strings.ContainsFunc(n, unicode.IsControl) || utf8.RuneCountInString(n) > 255 || !utf8.ValidString(n) {
			return nil, fmt.Errorf("the access list holds a name that is not usable: %q", n)
		}
	}
	a.InvoiceOption = strings.TrimSpace(p["invoice-option"])
	if a.InvoiceOption == "" {
		a.InvoiceOption = model.InvoiceUserOff
	}
	if !model.ValidInvoiceOption(a.InvoiceOption) {
		return nil, fmt.Errorf("invoice-option %q is not one of ALWAYS_INVOICE, NEVER_INVOICE, USER_CHOICE_ON, USER_CHOICE_OFF", a.InvoiceOption)
	}
	a.CommentOption = strings.TrimSpace(p["comment-option"])
	if a.CommentOption == "" {
		a.CommentOption = model.CommentOptional
	}
	if !model.ValidCommentOption(a.CommentOption) {
		return nil, fmt.Errorf("comment-option %q is not one of NO_COMMENT, COMMENT_OPTIONAL, COMMENT_REQUIRED", a.CommentOption)
	}
	a.Notes = strings.TrimSpace(p["notes"])
	if err := checkText("notes", a.Notes, 4000); err != nil {
		return nil, err
	}
	r.pin = strings.TrimSpace(p["pin"])
	r.pinHidden = sa.PINHidden
	return r, nil
}

func checkText(what, v string, max int) error {
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return fmt.Errorf("%s is not valid text", what)
	}
	if utf8.RuneCountInString(v) > max {
		return fmt.Errorf("%s is longer than %d characters", what, max)
	}
	return nil
}

func orEmpty(err error) string {
	if err == nil {
		return "it is empty"
	}
	return err.Error()
}
