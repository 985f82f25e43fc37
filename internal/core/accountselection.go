package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// AccountSelectionChange is a new account selection with its shared
// accounts named ("Parent" or "Parent\Sub"; "" for none), as the API and
// the admin pages give it.
type AccountSelectionChange struct {
	Mode           string
	Account        string // AUTO_CHARGE_TO_SHARED's account
	DefaultAccount string // the popups' preselected account
	AllowPersonal  bool
	AllowList      bool
	AllowPIN       bool
	AllowOtherUser bool
	ChargePersonal bool
}

// AccountSelectionChangeOf is the change that would set sel again, for
// read-modify-write through properties.
func AccountSelectionChangeOf(sel model.AccountSelection) AccountSelectionChange {
	return AccountSelectionChange{Mode: sel.Mode, Account: sel.AccountName, DefaultAccount: sel.DefaultAccountName,
		AllowPersonal: sel.AllowPersonal, AllowList: sel.AllowList, AllowPIN: sel.AllowPIN,
		AllowOtherUser: sel.AllowOtherUser, ChargePersonal: sel.ChargePersonal}
}

// resolveAccountSelection checks a change for the users it is for and
// turns it into what the store keeps: the mode must be one of PaperCut's
// that Ream keeps, and each shared account named must exist, be enabled
// and be allowed to every one of the users. Fields the mode does not use
// are cleared, so that what is read back is what the mode means.
func (c *Core) resolveAccountSelection(ctx context.Context, a Actor, ch AccountSelectionChange, users []*model.User) (model.AccountSelection, error) {
	mode := strings.ToUpper(strings.TrimSpace(ch.Mode))
	sel := model.AccountSelection{Mode: mode}
	switch mode {
	case model.SelectAutoPersonal, model.SelectPersonalWithConfirm:
		sel.AllowPersonal = true
		return sel, nil
	case model.SelectAutoShared:
		if strings.TrimSpace(ch.Account) == "" {
			return sel, Errorf(Invalid, "account-selection.auto-shared-account: %s needs the shared account to charge", mode)
		}
		sel.ChargePersonal = ch.ChargePersonal
	case model.SelectStandardPopup:
		sel.AllowPersonal, sel.AllowList, sel.AllowPIN, sel.AllowOtherUser = ch.AllowPersonal, ch.AllowList, ch.AllowPIN, ch.AllowOtherUser
		sel.ChargePersonal = ch.ChargePersonal
		if !sel.AllowPersonal && !sel.AllowList && !sel.AllowPIN && !sel.AllowOtherUser {
			return sel, Errorf(Invalid, "account-selection.mode: the standard popup must allow at least one of the personal account, the list of shared accounts, a PIN/code or printing as another user")
		}
	case model.SelectAdvancedPopup:
		sel.AllowPersonal, sel.ChargePersonal = ch.AllowPersonal, ch.ChargePersonal
		sel.AllowList, sel.AllowPIN = true, true
	default:
		return sel, Errorf(Invalid, "account-selection.mode: %q is not one of %s", ch.Mode, strings.Join(model.AccountSelectionModes, ", "))
	}
	var err error
	if mode == model.SelectAutoShared {
		if sel.AccountID, sel.AccountName, err = c.selectableAccount(ctx, a, "account-selection.auto-shared-account", ch.Account, users); err != nil {
			return sel, err
		}
	}
	if mode == model.SelectStandardPopup || mode == model.SelectAdvancedPopup {
		if strings.TrimSpace(ch.DefaultAccount) != "" {
			if sel.DefaultAccountID, sel.DefaultAccountName, err = c.selectableAccount(ctx, a, "account-selection.default-shared-account", ch.DefaultAccount, users); err != nil {
				return sel, err
			}
		}
	}
	return sel, nil
}

// selectableAccount finds a shared account that every user may charge. To
// an admin scoped to some accounts, another account does not exist.
func (c *Core) selectableAccount(ctx context.Context, a Actor, prop, name string, users []*model.User) (int64, string, error) {
	acc, err := c.Store.AccountByName(ctx, name)
	if err == nil && !a.mayChangeAccount(acc.ID) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return 0, "", Errorf(NotFound, "%s: shared account %q does not exist", prop, name)
	}
	if err != nil {
		return 0, "", err
	}
	if !acc.Enabled {
		return 0, "", Errorf(Invalid, "%s: shared account %q is disabled", prop, acc.FullName())
	}
	for _, u := range users {
		groups, err := c.Store.UserGroups(ctx, u.ID)
		if err != nil {
			return 0, "", err
		}
		inGroup := make(map[string]bool, len(groups))
		for _, g := range groups {
			inGroup[strings.ToLower(strings.TrimSpace(g))] = true
		}
		if !store.AccountAllows(acc, u.Username, inGroup) {
			return 0, "", Errorf(Invalid, "%s: user %q may not use shared account %q (it is not in the account's access users or groups)", prop, u.Username, acc.FullName())
		}
	}
	return acc.ID, acc.FullName(), nil
}

// AccountSelection returns a user's account selection.
func (c *Core) AccountSelection(ctx context.Context, name string) (*model.User, model.AccountSelection, error) {
	u, err := c.User(ctx, name)
	if err != nil {
		return nil, model.AccountSelection{}, err
	}
	sel, err := c.Store.AccountSelection(ctx, u.ID)
	return u, sel, err
}

// SetAccountSelection sets the account selection of one user (the four
// setUserAccountSelection… methods and the user's admin page).
func (c *Core) SetAccountSelection(ctx context.Context, a Actor, name string, ch AccountSelectionChange) error {
	u, err := c.User(ctx, name)
	if err != nil {
		return err
	}
	return c.SetAccountSelections(ctx, a, []*model.User{u}, ch)
}

// SetAccountSelections sets one account selection for many users at once
// (Bulk User Actions), all or none: a shared account that some of them may
// not use refuses the whole change, naming the user.
func (c *Core) SetAccountSelections(ctx context.Context, a Actor, users []*model.User, ch AccountSelectionChange) error {
	sel, err := c.resolveAccountSelection(ctx, a, ch, users)
	if err != nil {
		return err
	}
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetAccountSelection(ctx, ids, sel); err != nil {
			return err
		}
		target := fmt.Sprintf("%d users", len(users))
		if len(users) == 1 {
			target = users[0].Username
		}
		return audit(ctx, tx, a, "user.account-selection", target, describeSelection(sel))
	})
}

func describeSelection(sel model.AccountSelection) string {
	s := "account selection set to " + sel.Mode
	if sel.AccountName != "" {
		s += " (" + sel.AccountName + ")"
	}
	return s
}

// accountSelectionProperty reads one account-selection.* property.
func accountSelectionProperty(sel model.AccountSelection, prop string) string {
	switch prop {
	case "account-selection.mode":
		return sel.Mode
	case "account-selection.can-charge-personal":
		return strconv.FormatBool(sel.AllowPersonal)
	case "account-selection.can-charge-shared-from-list":
		return strconv.FormatBool(sel.AllowList)
	case "account-selection.can-charge-shared-by-pin":
		return strconv.FormatBool(sel.AllowPIN)
	case "account-selection.can-print-as-other-user":
		return strconv.FormatBool(sel.AllowOtherUser)
	case "account-selection.charge-to-personal":
		return strconv.FormatBool(sel.ChargePersonal)
	case "account-selection.auto-shared-account":
		return sel.AccountName
	case "account-selection.default-shared-account":
		return sel.DefaultAccountName
	}
	return ""
}

// applyAccountSelectionProperty changes one field of a pending change.
func applyAccountSelectionProperty(ch *AccountSelectionChange, prop, value string) error {
	flag := func(dst *bool) error {
		b, err := ParseBool(value)
		if err != nil {
			return Errorf(Invalid, "%s: %v", prop, err)
		}
		*dst = b
		return nil
	}
	switch prop {
	case "account-selection.mode":
		ch.Mode = value
		return nil
	case "account-selection.can-charge-personal":
		return flag(&ch.AllowPersonal)
	case "account-selection.can-charge-shared-from-list":
		return flag(&ch.AllowList)
	case "account-selection.can-charge-shared-by-pin":
		return flag(&ch.AllowPIN)
	case "account-selection.can-print-as-other-user":
		return flag(&ch.AllowOtherUser)
	case "account-selection.charge-to-personal":
		return flag(&ch.ChargePersonal)
	case "account-selection.auto-shared-account":
		ch.Account = strings.TrimSpace(value)
		return nil
	case "account-selection.default-shared-account":
		ch.DefaultAccount = strings.TrimSpace(value)
		return nil
	}
	return Errorf(Invalid, "unknown user property %q", prop)
}
