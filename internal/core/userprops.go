package core

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/store"
)

// userProperty is one property of SPEC §7's getUserProperty/setUserProperty.
// get is nil for set-only properties; set is nil for read-only ones.
type userProperty struct {
	get func(u *model.User) string
	set func(u *model.User, v string) error // for plain detail fields
	// selection marks the account-selection.* properties, kept apart
	// from the user row.
	selection bool
	// unsupported, when set, is why a property PaperCut documents cannot
	// be set here (it belongs to printing or internet control).
	unsupported string
}

// fixed is a property PaperCut documents that has no meaning without
// printing (or internet control), which Ream does not do yet: it reads as
// the value a user who never printed has, so that scripts asking for many
// properties in one getUserProperties keep working, and it cannot be set.
func fixed(v, why string) userProperty {
	return userProperty{get: func(*model.User) string { return v }, unsupported: why}
}

const (
	printStat    = "is a printing statistic; Ream keeps none yet"
	printSetting = "is a print-release or printing setting; Ream does no printing yet"
)

var selection = userProperty{selection: true}

func textField(ptr func(u *model.User) *string, max int) userProperty {
	return userProperty{
		get: func(u *model.User) string { return *ptr(u) },
		set: func(u *model.User, v string) error {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return fmt.Errorf("value is not valid text")
			}
			if utf8.RuneCountInString(v) > max {
				return fmt.Errorf("value is longer than %d characters", max)
			}
			*ptr(u) = strings.TrimSpace(v)
			return nil
		},
	}
}

func boolField(ptr func(u *model.User) *bool) userProperty {
	return userProperty{
		get: func(u *model.User) string { return fmt.Sprint(*ptr(u)) },
		set: func(u *model.User, v string) error {
			b, err := ParseBool(v)
			if err != nil {
				return err
			}
			*ptr(u) = b
			return nil
		},
	}
}

// userProperties are the plain detail fields; cards, PIN, password and
// balance are handled in SetUserProperty because they have rules of their own.
var userProperties = map[string]userProperty{
	"full-name":             textField(func(u *model.User) *string { return &u.FullName }, 255),
	"email":                 textField(func(u *model.User) *string { return &u.Email }, 254),
	"department":            textField(func(u *model.User) *string { return &u.Department }, 255),
	"office":                textField(func(u *model.User) *string { return &u.Office }, 255),
	"notes":                 textField(func(u *model.User) *string { return &u.Notes }, 4000),
	"home":                  textField(func(u *model.User) *string { return &u.HomeFolder }, 1024),
	"username-alias":        textField(func(u *model.User) *string { return &u.Alias }, 255),
	"restricted":            boolField(func(u *model.User) *bool { return &u.Restricted }),
	"disabled-print":        boolField(func(u *model.User) *bool { return &u.PrintDisabled }),
	"internal":              {get: func(u *model.User) string { return fmt.Sprint(u.Internal) }},
	"other-emails":          {get: func(u *model.User) string { return u.OtherEmails }},
	"balance":               {get: func(u *model.User) string { return u.Balance.String() }},
	"primary-card-number":   {get: func(u *model.User) string { return u.PrimaryCard }},
	"secondary-card-number": {get: func(u *model.User) string { return u.SecondaryCard }},
	"card-pin":              {},
	"password":              {},
	// Account selection, as PaperCut keeps it per user.
	"account-selection.mode":                        selection,
	"account-selection.can-charge-personal":         selection,
	"account-selection.can-charge-shared-from-list": selection,
	"account-selection.can-charge-shared-by-pin":    selection,
	"account-selection.can-print-as-other-user":     selection,
	"account-selection.charge-to-personal":          selection,
	"account-selection.auto-shared-account":         selection,
	"account-selection.default-shared-account":      selection,
	// Printing and internet control: what a user who never printed has, read only.
	"print-stats.job-count":                fixed("0", printStat),
	"print-stats.page-count":               fixed("0", printStat),
	"net-stats.data-mb":                    fixed("0", printStat),
	"net-stats.time-hours":                 fixed("0", printStat),
	"disabled-net":                         fixed("false", "is internet control, which Ream does not do"),
	"unauthenticated":                      fixed("false", printSetting),
	"dont-hold-jobs-in-release-station":    fixed("false", printSetting),
	"dont-apply-printer-filter-rules":      fixed("false", printSetting),
	"dont-archive":                         fixed("false", printSetting),
	"auto-release-jobs":                    fixed("false", printSetting),
	"printer-cost-adjustment-rate-percent": fixed("100", printSetting),
	"delegated-users":                      fixed("", printSetting),
	"delegated-groups":                     fixed("", printSetting),
	"overdraft-amount":                     fixed("0.00", "is a per-user overdraft, which Ream does not keep: a restricted user may not go below zero"),
}

// propertyAlias maps PaperCut's legacy names.
var propertyAlias = map[string]string{
	"card-number":            "primary-card-number",
	"card-number2":           "secondary-card-number",
	"auto-shared-account":    "account-selection.auto-shared-account",
	"default-shared-account": "account-selection.default-shared-account",
}

func canonicalUserProperty(name string) (string, userProperty, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if alias, ok := propertyAlias[name]; ok {
		name = alias
	}
	p, ok := userProperties[name]
	if !ok {
		return "", p, Errorf(Invalid, "unknown user property %q", name)
	}
	return name, p, nil
}

// UserPropertyNames lists the properties getUserProperty understands.
func UserPropertyNames() []string {
	out := make([]string, 0, len(userProperties))
	for k := range userProperties {
		out = append(out, k)
	}
	return out
}

// UserProperty returns one property of a user as text.
func (c *Core) UserProperty(ctx context.Context, name, prop string) (string, error) {
	prop, p, err := canonicalUserProperty(prop)
	if err != nil {
		return "", err
	}
	if p.selection {
		_, sel, err := c.AccountSelection(ctx, name)
		if err != nil {
			return "", err
		}
		return accountSelectionProperty(sel, prop), nil
	}
	if p.get == nil {
		return "", Errorf(Invalid, "user property %q can be set but never read", prop)
	}
	u, err := c.User(ctx, name)
	if err != nil {
		return "", err
	}
	return p.get(u), nil
}

// UserProperties reads several properties of one user, reading the user
// (and the account selection, when asked for) once: getUserProperties,
// which an import calls for every user.
func (c *Core) UserProperties(ctx context.Context, name string, props []string) ([]string, error) {
	u, err := c.User(ctx, name)
	if err != nil {
		return nil, err
	}
	var sel *model.AccountSelection
	out := make([]string, 0, len(props))
	for _, prop := range props {
		prop, p, err := canonicalUserProperty(prop)
		if err != nil {
			return nil, err
		}
		switch {
		case p.selection:
			if sel == nil {
				s, err := c.Store.AccountSelection(ctx, u.ID)
				if err != nil {
					return nil, err
				}
				sel = &s
			}
			out = append(out, accountSelectionProperty(*sel, prop))
		case p.get == nil:
			return nil, Errorf(Invalid, "user property %q can be set but never read", prop)
		default:
			out = append(out, p.get(u))
		}
	}
	return out, nil
}

// UserPropertyChange is one property to set.
type UserPropertyChange struct{ Name, Value string }

// userPropertyRight is the admin right changing a user property needs
// (what a delegated administrator must hold; the API and CLI hold all).
func userPropertyRight(prop string) model.AdminRight {
	switch prop {
	case "primary-card-number", "secondary-card-number", "card-pin":
		return model.RightUsersCards
	case "balance":
		return model.RightUsersBalance
	case "password":
		return model.RightUsersInternal
	}
	return model.RightUsersEdit
}

// SetUserProperties sets several properties of a user in one transaction:
// all or none are applied.
func (c *Core) SetUserProperties(ctx context.Context, a Actor, name string, changes []UserPropertyChange) error {
	u, err := c.User(ctx, name)
	if err != nil {
		return err
	}
	type pending struct {
		prop  string
		value string
	}
	// Detail setters are checked here on a copy and applied again inside
	// the transaction to the row as it is then, so that two changes at
	// once cannot undo each other.
	var details []func(u *model.User) error
	var later []pending
	var cards cardChange            // validated and applied together: a swap is one change
	var sel *AccountSelectionChange // likewise: a mode and its flags are one change
	for _, ch := range changes {
		prop, p, err := canonicalUserProperty(ch.Name)
		if err != nil {
			return err
		}
		if need := userPropertyRight(prop); !a.holds(need) {
			return Errorf(Forbidden, "%s: changing it needs the admin right %s", prop, need)
		}
		switch prop {
		case "primary-card-number", "secondary-card-number":
			if err := CheckCardNumber(ch.Value); err != nil {
				return Errorf(Invalid, "%s: %s", strings.ToLower(strings.TrimSpace(ch.Name)), err.Error())
			}
			v := strings.TrimSpace(ch.Value)
			given := strings.ToLower(strings.TrimSpace(ch.Name)) // errors use the caller's name for it
			if prop == "primary-card-number" {
				cards.primary, cards.primaryName = &v, given
			} else {
				cards.secondary, cards.secondaryName = &v, given
			}
		case "balance":
			if _, err := money.Parse(ch.Value); err != nil {
				return Errorf(Invalid, "balance: %q is not a decimal number", ch.Value)
			}
			later = append(later, pending{prop, ch.Value})
		case "card-pin":
			if ch.Value != "" {
				if err := checkPIN(ch.Value); err != nil {
					return err
				}
			}
			later = append(later, pending{prop, ch.Value})
		case "password":
			if !u.Internal {
				return Errorf(Invalid, "user %q is not an internal user: the password is managed in the directory", u.Username)
			}
			later = append(later, pending{prop, ch.Value})
		default:
			if p.selection {
				if sel == nil {
					cur, err := c.Store.AccountSelection(ctx, u.ID)
					if err != nil {
						return err
					}
					start := AccountSelectionChangeOf(cur)
					sel = &start
				}
				if err := applyAccountSelectionProperty(sel, prop, ch.Value); err != nil {
					return err
				}
				continue
			}
			if p.unsupported != "" {
				return Errorf(Invalid, "user property %q is read-only: it %s", prop, p.unsupported)
			}
			if p.set == nil {
				return Errorf(Invalid, "user property %q is read-only", prop)
			}
			if prop == "email" {
				if err := checkEmail(ch.Value); err != nil {
					return err
				}
			}
			if err := p.set(u, ch.Value); err != nil {
				return Errorf(Invalid, "%s: %v", prop, err)
			}
			set, value := p.set, ch.Value
			details = append(details, func(u *model.User) error { return set(u, value) })
		}
	}
	var newSel model.AccountSelection
	if sel != nil {
		if newSel, err = c.resolveAccountSelection(ctx, a, *sel, []*model.User{u}); err != nil {
			return err
		}
	}
	// Hash outside the transaction: hashing is slow and bounded.
	hashes := map[string]string{}
	for _, p := range later {
		switch {
		case p.prop == "password":
			if err := c.checkPassword(p.value); err != nil {
				return err
			}
			h, err := c.Hasher.Hash(ctx, p.value)
			if err != nil {
				return err
			}
			hashes[p.prop] = h
		case p.prop == "card-pin" && p.value != "":
			h, err := c.Hasher.HashPIN(ctx, p.value)
			if err != nil {
				return err
			}
			hashes[p.prop] = h
		}
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.UserByNameForUpdate(ctx, u.Username)
		if err != nil {
			return notFound(err, "user", name)
		}
		if len(details) > 0 {
			for _, set := range details {
				if err := set(u); err != nil {
					return Errorf(Invalid, "%v", err)
				}
			}
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
			if err := audit(ctx, tx, a, "user.update", u.Username, "details changed"); err != nil {
				return err
			}
		}
		if sel != nil {
			if err := tx.SetAccountSelection(ctx, []int64{u.ID}, newSel); err != nil {
				return err
			}
			if err := audit(ctx, tx, a, "user.account-selection", u.Username, describeSelection(newSel)); err != nil {
				return err
			}
		}
		if cards.primary != nil || cards.secondary != nil {
			if err := c.setCardsTx(ctx, tx, a, u, cards); err != nil {
				return err
			}
		}
		for _, p := range later {
			var err error
			switch p.prop {
			case "balance":
				amt, _ := money.Parse(p.value)
				_, err = tx.AdjustUserBalance(ctx, u.ID, amt, true, "balance set", a.Name)
				if err == nil {
					err = audit(ctx, tx, a, "user.balance", u.Username, "balance set to "+amt.String())
				}
			case "card-pin":
				if err = tx.SetUserPIN(ctx, u.ID, hashes["card-pin"]); err == nil {
					err = audit(ctx, tx, a, "user.pin", u.Username, "card PIN changed")
				}
			case "password":
				if err = tx.SetUserPassword(ctx, u.ID, hashes["password"]); err == nil {
					if err = tx.EndSessions(ctx, "", u.ID, ""); err == nil {
						err = audit(ctx, tx, a, "user.password", u.Username, "password changed")
					}
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func (c *Core) checkPassword(pw string) error {
	if err := auth.CheckPassword(pw); err != nil {
		return invalidInput(err)
	}
	return nil
}

// ParseBool reads the booleans the API and import files use: Y/N, true/false, 1/0.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "y", "yes", "true", "1":
		return true, nil
	case "n", "no", "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not Y/N or true/false", v)
}

// AdjustUserBalance adds amount to (or, with set, sets) a user's balance.
func (c *Core) AdjustUserBalance(ctx context.Context, a Actor, name string, amount money.Amount, set bool, comment string) (money.Amount, error) {
	if !a.holds(model.RightUsersBalance) {
		return 0, Errorf(Forbidden, "%s does not hold the right %s", a.Name, model.RightUsersBalance)
	}
	u, err := c.User(ctx, name)
	if err != nil {
		return 0, err
	}
	if utf8.RuneCountInString(comment) > 1000 {
		return 0, Errorf(Invalid, "comment is longer than 1000 characters")
	}
	var after money.Amount
	err = c.Store.InTx(ctx, func(tx *store.Tx) error {
		after, err = tx.AdjustUserBalance(ctx, u.ID, amount, set, comment, a.Name)
		if err != nil {
			return Errorf(Invalid, "balance of %q: %v", u.Username, err)
		}
		verb := "adjusted by " + amount.String()
		if set {
			verb = "set to " + amount.String()
		}
		return audit(ctx, tx, a, "user.balance", u.Username, "balance "+verb+": "+comment)
	})
	return after, err
}

// AdjustUserBalanceIfAvailable adjusts only when the balance stays at or
// above zero (or the user is unrestricted); it reports whether it did.
func (c *Core) AdjustUserBalanceIfAvailable(ctx context.Context, a Actor, name string, amount money.Amount, comment string) (bool, error) {
	u, err := c.User(ctx, name)
	if err != nil {
		return false, err
	}
	done := false
	err = c.Store.InTx(ctx, func(tx *store.Tx) error {
		// Checked with the row locked, so two charges at once cannot both
		// pass on the same funds.
		balance, restricted, err := tx.UserBalanceForUpdate(ctx, u.ID)
		if err != nil {
			return notFound(err, "user", name)
		}
		if amount < 0 && restricted && balance+amount < 0 {
			return nil
		}
		if _, err := tx.AdjustUserBalance(ctx, u.ID, amount, false, comment, a.Name); err != nil {
			return Errorf(Invalid, "balance of %q: %v", u.Username, err)
		}
		done = true
		return audit(ctx, tx, a, "user.balance", u.Username, "balance adjusted by "+amount.String()+": "+comment)
	})
	return done, err
}
