package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/store"
)

// ValidateAccountName checks one level of an account name: not empty, at
// most 255 characters, no `\` (it separates parent and sub-account), no
// control characters.
func ValidateAccountName(name string) error {
	if strings.TrimSpace(name) == "" {
		return Errorf(Invalid, "account name is empty")
	}
	if !utf8.ValidString(name) {
		return Errorf(Invalid, "account name is not valid UTF-8")
	}
	if utf8.RuneCountInString(name) > 255 {
		return Errorf(Invalid, "account name is longer than 255 characters")
	}
	for _, r := range name {
		if r == '\\' {
			return Errorf(Invalid, "account name %q may not contain \\ (it separates an account from its sub-account)", name)
		}
		if unicode.IsControl(r) {
			return Errorf(Invalid, "account name %q contains a control character", name)
		}
	}
	return nil
}

func (c *Core) requireAllAccounts(a Actor) error {
	if !a.AllAccounts {
		return Errorf(Forbidden, "%s does not have access to all shared accounts", a.Name)
	}
	return nil
}

// requireAccountRight refuses an actor without right r, or one whose scope
// leaves out account id; an account out of scope answers as one that does
// not exist (full names it in the message).
func (c *Core) requireAccountRight(a Actor, r model.AdminRight, id int64, full string) error {
	if !a.holds(r) {
		return Errorf(Forbidden, "%s does not hold the right %s", a.Name, r)
	}
	if !a.mayChangeAccount(id) {
		return notFound(store.ErrNotFound, "shared account", full)
	}
	return nil
}

// Account returns a live account by its full name ("Parent" or "Parent\Sub").
func (c *Core) Account(ctx context.Context, full string) (*model.Account, error) {
	a, err := c.Store.AccountByName(ctx, full)
	return a, notFound(err, "shared account", full)
}

// CreateAccount creates a shared account from its full name; a sub-account's
// missing parent is created too. Fields of tmpl (PIN, notes, options…) are applied.
//
// An actor scoped to some accounts may create sub-accounts of a top-level
// account in its scope (they follow their parent into it); a new top-level
// account needs all shared accounts.
func (c *Core) CreateAccount(ctx context.Context, a Actor, full string, tmpl *model.Account) (*model.Account, error) {
	if !a.holds(model.RightAccountsEdit) {
		return nil, Errorf(Forbidden, "%s does not hold the right %s", a.Name, model.RightAccountsEdit)
	}
	parentName, subName := store.SplitAccountName(full)
	if !a.AllAccounts {
		if subName == "" {
			return nil, Errorf(Forbidden, "creating a top-level shared account needs admin access to all shared accounts; %s may create sub-accounts of the accounts in its scope", a.Name)
		}
		parent, err := c.Store.AccountByName(ctx, parentName)
		if err != nil || !a.mayChangeAccount(parent.ID) {
			return nil, notFound(store.ErrNotFound, "shared account", parentName)
		}
	}
	if tmpl != nil && tmpl.Balance != 0 && !a.holds(model.RightAccountsBalance) {
		return nil, Errorf(Forbidden, "an initial balance needs the right %s", model.RightAccountsBalance)
	}
	if err := ValidateAccountName(parentName); err != nil {
		return nil, err
	}
	acc := &model.Account{Enabled: true}
	if tmpl != nil {
		*acc = *tmpl
	}
	acc.Name = parentName
	if subName != "" || strings.Contains(full, `\`) {
		if err := ValidateAccountName(subName); err != nil {
			return nil, err
		}
		acc.Name = subName
	}
	if err := validateAccountFields(acc); err != nil {
		return nil, err
	}
	err := c.Store.InTx(ctx, func(tx *store.Tx) error {
		if subName != "" {
			// As in the import format, a sub-account brings its parent along.
			parent, err := tx.AccountByName(ctx, parentName)
			if errors.Is(err, store.ErrNotFound) && a.AllAccounts {
				parent = &model.Account{Name: parentName, Enabled: true}
				if err := tx.CreateAccount(ctx, parent); err != nil {
					return accountErr(err, parent)
				}
				if err := audit(ctx, tx, a, "account.create", parent.Name, "created as the parent of "+subName); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			acc.ParentID, acc.ParentName = parent.ID, parent.Name
		}
		if err := tx.CreateAccount(ctx, acc); err != nil {
			return accountErr(err, acc)
		}
		return audit(ctx, tx, a, "account.create", acc.FullName(), "created")
	})
	if err != nil {
		return nil, err
	}
	return acc, nil
}

func accountErr(err error, acc *model.Account) error {
	switch {
	case errors.Is(err, store.ErrPINInUse):
		return Errorf(Conflict, "the PIN/code given for %q is already used by another account", acc.FullName())
	case errors.Is(err, store.ErrConflict):
		return Errorf(Conflict, "shared account %q already exists", acc.FullName())
	}
	return err
}

func validateAccountFields(acc *model.Account) error {
	if acc.InvoiceOption != "" && !model.ValidInvoiceOption(acc.InvoiceOption) {
		return Errorf(Invalid, "invoice option %q is not one of ALWAYS_INVOICE, NEVER_INVOICE, USER_CHOICE_ON, USER_CHOICE_OFF", acc.InvoiceOption)
	}
	if acc.CommentOption != "" && !model.ValidCommentOption(acc.CommentOption) {
		return Errorf(Invalid, "comment option %q is not one of NO_COMMENT, COMMENT_OPTIONAL, COMMENT_REQUIRED", acc.CommentOption)
	}
	if acc.PINHash != "" && !auth.IsAccountPINHash(acc.PINHash) {
		return errors.New("core: an account's PIN must be hashed (AccountPINHash) before it is stored")
	}
	if utf8.RuneCountInString(acc.Notes) > 4000 {
		return Errorf(Invalid, "notes are longer than 4000 characters")
	}
	for _, n := range append(append([]string{}, acc.AccessUsers...), acc.AccessGroups...) {
		if strings.ContainsAny(n, "\n\r\x00") || utf8.RuneCountInString(n) > 255 {
			return Errorf(Invalid, "access list entry %q is not a valid name", n)
		}
	}
	return nil
}

// UpdateAccount saves an edited account (name, options, access lists…).
// Balance changes go through AdjustAccountBalance.
func (c *Core) UpdateAccount(ctx context.Context, a Actor, acc *model.Account) error {
	if err := c.requireAccountRight(a, model.RightAccountsEdit, acc.ID, acc.FullName()); err != nil {
		return err
	}
	if err := ValidateAccountName(acc.Name); err != nil {
		return err
	}
	if err := validateAccountFields(acc); err != nil {
		return err
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateAccount(ctx, acc); err != nil {
			return notFound(accountErr(err, acc), "shared account", acc.FullName())
		}
		return audit(ctx, tx, a, "account.update", acc.FullName(), "details changed")
	})
}

// RenameAccount renames an account; the new full name must keep the same parent.
func (c *Core) RenameAccount(ctx context.Context, a Actor, oldFull, newFull string) error {
	if err := c.requireAllAccounts(a); err != nil {
		return err
	}
	newParent, newSub := store.SplitAccountName(newFull)
	return c.changeAccount(ctx, oldFull, func(tx *store.Tx, acc *model.Account) error {
		name := newParent
		if acc.ParentID != 0 {
			if !strings.EqualFold(newParent, acc.ParentName) || newSub == "" {
				return Errorf(Invalid, "a sub-account keeps its parent: rename %q to %s\\<new name>", oldFull, acc.ParentName)
			}
			name = newSub
		} else if newSub != "" {
			return Errorf(Invalid, "%q names a sub-account; a top-level account cannot become one by renaming", newFull)
		}
		if err := ValidateAccountName(name); err != nil {
			return err
		}
		old := acc.FullName()
		acc.Name = name
		if err := tx.UpdateAccount(ctx, acc); err != nil {
			return accountErr(err, acc)
		}
		return audit(ctx, tx, a, "account.rename", old, "renamed to "+acc.FullName())
	})
}

// changeAccount runs a read-modify-write change of one account inside one
// transaction, with the account read there (and locked on PostgreSQL), so
// that two changes at once cannot undo each other.
func (c *Core) changeAccount(ctx context.Context, full string, fn func(tx *store.Tx, acc *model.Account) error) error {
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		acc, err := tx.AccountByNameForUpdate(ctx, full)
		if err != nil {
			return notFound(err, "shared account", full)
		}
		return fn(tx, acc)
	})
}

// DeleteAccount marks an account (and its sub-accounts) deleted.
func (c *Core) DeleteAccount(ctx context.Context, a Actor, full string) error {
	acc, err := c.Account(ctx, full)
	if err != nil {
		return err
	}
	if err := c.requireAccountRight(a, model.RightAccountsEdit, acc.ID, full); err != nil {
		return err
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteAccount(ctx, acc.ID); err != nil {
			return err
		}
		return audit(ctx, tx, a, "account.delete", acc.FullName(), "deleted")
	})
}

// RestoreAccount brings a deleted account back under its old id.
func (c *Core) RestoreAccount(ctx context.Context, a Actor, id int64) (*model.Account, error) {
	acc, err := c.Store.AccountByID(ctx, id)
	if err != nil {
		return nil, notFound(err, "shared account", "#"+strconv.FormatInt(id, 10))
	}
	if err := c.requireAccountRight(a, model.RightAccountsEdit, id, "#"+strconv.FormatInt(id, 10)); err != nil {
		return nil, err
	}
	err = c.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.RestoreAccount(ctx, id); err != nil {
			if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrPINInUse) {
				return Errorf(Conflict, "cannot restore %q: a live account already has its name or PIN", acc.FullName())
			}
			return err
		}
		return audit(ctx, tx, a, "account.restore", acc.FullName(), "restored")
	})
	if err != nil {
		return nil, err
	}
	return c.Store.AccountByID(ctx, id)
}

// AdjustAccountBalance adds amount to (or, with set, sets) an account's balance.
// An actor scoped to some accounts may adjust those; another account
// answers as one that does not exist.
func (c *Core) AdjustAccountBalance(ctx context.Context, a Actor, full string, amount money.Amount, set bool, comment string) (money.Amount, error) {
	acc, err := c.Account(ctx, full)
	if err != nil {
		return 0, err
	}
	if err := c.requireAccountRight(a, model.RightAccountsBalance, acc.ID, full); err != nil {
		return 0, err
	}
	if utf8.RuneCountInString(comment) > 1000 {
		return 0, Errorf(Invalid, "comment is longer than 1000 characters")
	}
	var after money.Amount
	err = c.Store.InTx(ctx, func(tx *store.Tx) error {
		after, err = tx.AdjustAccountBalance(ctx, acc.ID, amount, set, comment, a.Name)
		if err != nil {
			return Errorf(Invalid, "balance of %q: %v", acc.FullName(), err)
		}
		verb := "adjusted by " + amount.String()
		if set {
			verb = "set to " + amount.String()
		}
		return audit(ctx, tx, a, "account.balance", acc.FullName(), "balance "+verb+": "+comment)
	})
	return after, err
}

// AccountPINHash checks a PIN/code typed for a shared account and returns
// the form it is stored in (auth.AccountPINHash); "" stays "" (no PIN).
func (c *Core) AccountPINHash(ctx context.Context, pin string) (string, error) {
	pin = strings.TrimSpace(pin)
	if err := auth.CheckAccountPIN(pin); err != nil {
		return "", Errorf(Invalid, "%v", err)
	}
	return c.Store.HashAccountPIN(ctx, pin)
}

// AccountPropertyNames are the properties of get/setSharedAccountProperty.
// PINs are stored hashed: "pin" reads as "" and "pin-set" says whether
// there is one.
var AccountPropertyNames = []string{"access-groups", "access-users", "account-id", "balance", "comment-option",
	"disabled", "invoice-option", "notes", "overdraft-amount", "pin", "pin-set", "restricted"}

// AccountProperty reads one property of an account as text. Access lists
// are joined with "|", as in the import file.
func (c *Core) AccountProperty(ctx context.Context, full, prop string) (string, error) {
	acc, err := c.Account(ctx, full)
	if err != nil {
		return "", err
	}
	return accountProperty(acc, prop)
}

// AccountProperties reads several properties of one account, reading the
// account once (getSharedAccountProperties; an import reads every account).
func (c *Core) AccountProperties(ctx context.Context, full string, props []string) ([]string, error) {
	acc, err := c.Account(ctx, full)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(props))
	for _, p := range props {
		v, err := accountProperty(acc, p)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func accountProperty(acc *model.Account, prop string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(prop)) {
	case "access-groups":
		return strings.Join(acc.AccessGroups, "|"), nil
	case "access-users":
		return strings.Join(acc.AccessUsers, "|"), nil
	case "account-id":
		return strconv.FormatInt(acc.ID, 10), nil
	case "balance":
		return acc.Balance.String(), nil
	case "comment-option":
		return acc.CommentOption, nil
	case "disabled":
		return strconv.FormatBool(!AccountEnabled(acc, time.Now())), nil
	case "invoice-option":
		return acc.InvoiceOption, nil
	case "notes":
		return acc.Notes, nil
	case "overdraft-amount":
		return acc.Overdraft.String(), nil
	case "pin":
		return "", nil // stored hashed: it cannot be read back
	case "pin-set":
		return strconv.FormatBool(acc.PINHash != ""), nil
	case "restricted":
		return strconv.FormatBool(acc.Restricted), nil
	}
	return "", Errorf(Invalid, "unknown shared account property %q (known: %s)", prop, strings.Join(AccountPropertyNames, ", "))
}

// AccountEnabled reports whether an account is usable now.
func AccountEnabled(acc *model.Account, now time.Time) bool {
	if acc.DisabledUntil != nil && acc.DisabledUntil.After(now) {
		return false
	}
	return acc.Enabled
}

// SplitNameList splits an access list given as "a|b" (or "a,b").
func SplitNameList(v string) []string {
	sep := "|"
	if !strings.Contains(v, "|") && strings.Contains(v, ",") {
		sep = ","
	}
	var out []string
	for _, n := range strings.Split(v, sep) {
		if n = strings.TrimSpace(n); n != "" && n != "-" {
			out = append(out, n)
		}
	}
	return out
}

// AccountPropertyChange is one property to set on an account.
type AccountPropertyChange struct{ Name, Value string }

// SetAccountProperties sets several properties in one transaction.
func (c *Core) SetAccountProperties(ctx context.Context, a Actor, full string, changes []AccountPropertyChange) error {
	if err := c.requireAllAccounts(a); err != nil {
		return err
	}
	// PINs are hashed before the transaction: the site's key may have to be
	// made first, in a transaction of its own.
	pinHashes := map[int]string{}
	for i, ch := range changes {
		if strings.ToLower(strings.TrimSpace(ch.Name)) == "pin" {
			hash, err := c.AccountPINHash(ctx, ch.Value)
			if err != nil {
				return err
			}
			pinHashes[i] = hash
		}
	}
	return c.changeAccount(ctx, full, func(tx *store.Tx, acc *model.Account) error {
		var setBalance *money.Amount
		for i, ch := range changes {
			v := ch.Value
			switch prop := strings.ToLower(strings.TrimSpace(ch.Name)); prop {
			case "access-groups":
				acc.AccessGroups = SplitNameList(v)
			case "access-users":
				acc.AccessUsers = SplitNameList(v)
			case "balance":
				amt, err := money.Parse(v)
				if err != nil {
					return Errorf(Invalid, "balance: %q is not a decimal number", v)
				}
				setBalance = &amt
			case "comment-option":
				acc.CommentOption = strings.ToUpper(strings.TrimSpace(v))
			case "invoice-option":
				acc.InvoiceOption = strings.ToUpper(strings.TrimSpace(v))
			case "disabled":
				b, err := ParseBool(v)
				if err != nil {
					return Errorf(Invalid, "disabled: %v", err)
				}
				acc.Enabled, acc.DisabledUntil = !b, nil
			case "notes":
				acc.Notes = v
			case "overdraft-amount":
				amt, err := money.Parse(v)
				if err != nil {
					return Errorf(Invalid, "overdraft-amount: %q is not a decimal number", v)
				}
				acc.Overdraft = amt
			case "pin":
				acc.PINHash = pinHashes[i]
			case "pin-set":
				return Errorf(Invalid, "shared account property pin-set is read-only; set pin (\"\" removes it)")
			case "restricted":
				b, err := ParseBool(v)
				if err != nil {
					return Errorf(Invalid, "restricted: %v", err)
				}
				acc.Restricted = b
			case "account-id":
				return Errorf(Invalid, "shared account property account-id is read-only")
			default:
				return Errorf(Invalid, "unknown shared account property %q (known: %s)", prop, strings.Join(AccountPropertyNames, ", "))
			}
		}
		if err := validateAccountFields(acc); err != nil {
			return err
		}
		if err := tx.UpdateAccount(ctx, acc); err != nil {
			return accountErr(err, acc)
		}
		if setBalance != nil {
			if _, err := tx.AdjustAccountBalance(ctx, acc.ID, *setBalance, true, "balance set", a.Name); err != nil {
				return Errorf(Invalid, "balance: %v", err)
			}
		}
		names := make([]string, len(changes))
		for i, ch := range changes {
			names[i] = ch.Name
		}
		return audit(ctx, tx, a, "account.update", acc.FullName(), "set "+strings.Join(names, ", "))
	})
}

// ChangeAccountAccess adds or removes one user or group on an account's access list.
func (c *Core) ChangeAccountAccess(ctx context.Context, a Actor, full, kind, name string, add bool) error {
	if err := c.requireAllAccounts(a); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return Errorf(Invalid, "%s name is empty", kind)
	}
	return c.changeAccount(ctx, full, func(tx *store.Tx, acc *model.Account) error {
		list := &acc.AccessUsers
		if kind == "group" {
			list = &acc.AccessGroups
		}
		var out []string
		found := false
		for _, n := range *list {
			if strings.EqualFold(n, name) {
				found = true
				if !add {
					continue
				}
			}
			out = append(out, n)
		}
		if add && !found {
			out = append(out, name)
		}
		*list = out
		if err := validateAccountFields(acc); err != nil {
			return err
		}
		verb := "removed"
		if add {
			verb = "added"
		}
		if err := tx.UpdateAccount(ctx, acc); err != nil {
			return err
		}
		return audit(ctx, tx, a, "account.access", acc.FullName(), fmt.Sprintf("%s %s %q", verb, kind, name))
	})
}

// maxDisableMinutes keeps "disabled until" far from time.Duration's overflow.
const maxDisableMinutes = 100 * 365 * 24 * 60

// DisableAccount disables an account for minutes (negative or zero: until re-enabled).
func (c *Core) DisableAccount(ctx context.Context, a Actor, full string, minutes int) error {
	if err := c.requireAllAccounts(a); err != nil {
		return err
	}
	if minutes > maxDisableMinutes {
		return Errorf(Invalid, "minutes: %d is more than %d (100 years); use 0 to disable until enabled again", minutes, maxDisableMinutes)
	}
	return c.changeAccount(ctx, full, func(tx *store.Tx, acc *model.Account) error {
		if minutes > 0 {
			until := time.Now().Add(time.Duration(minutes) * time.Minute)
			acc.DisabledUntil = &until
		} else {
			acc.Enabled, acc.DisabledUntil = false, nil
		}
		if err := tx.UpdateAccount(ctx, acc); err != nil {
			return err
		}
		return audit(ctx, tx, a, "account.disable", acc.FullName(), fmt.Sprintf("disabled for %d minutes", minutes))
	})
}
