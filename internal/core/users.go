package core

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// validateDirectoryUsername checks a username that comes from a directory
// or the API's addNewUser: printable, at most 255 characters. Internal users
// follow the stricter rule of auth.ValidateUsername.
func validateDirectoryUsername(name string) error {
	if strings.TrimSpace(name) == "" {
		return Errorf(Invalid, "username is empty")
	}
	if !utf8.ValidString(name) {
		return Errorf(Invalid, "username is not valid UTF-8")
	}
	if utf8.RuneCountInString(name) > 255 {
		return Errorf(Invalid, "username is longer than 255 characters")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return Errorf(Invalid, "username %q contains a control character", name)
		}
	}
	if err := auth.CheckUsernameLooks(store.NormalizeUsername(name)); err != nil {
		return invalidInput(err)
	}
	return nil
}

// NewUsernameProblem says why a normalized name cannot be given to a new
// (or renamed, except: its id) user, or returns nil: it is the built-in
// admin's or looks like it, mixes scripts, or, when byHand, looks like the
// name of an existing user (UTS #39 skeletons). A directory sync is not
// byHand: the directory is the authority on its own names, and two real
// people may well be "jsmith1" and "jsmithl" there.
func NewUsernameProblem(ctx context.Context, tx *store.Tx, name string, except int64, byHand bool) error {
	if err := auth.CheckUsernameLooks(name); err != nil {
		return invalidInput(err)
	}
	if !byHand {
		return nil
	}
	other, err := tx.UserNamedLike(ctx, auth.UsernameSkeleton(name), except)
	if err != nil {
		return err
	}
	if err := auth.CheckNotConfusable(name, other); err != nil {
		return &Error{Code: Conflict, Msg: err.(*auth.PolicyError).Message}
	}
	return nil
}

// CreateUser adds a (non-internal) user, e.g. from addNewUser, the first
// login of a directory user, or an import. Card numbers given are kept;
// hooks (card generation when blank) run in the same transaction.
func (c *Core) CreateUser(ctx context.Context, a Actor, u *model.User) error {
	if err := validateDirectoryUsername(u.Username); err != nil {
		return err
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		return c.CreateUserTx(ctx, tx, a, u)
	})
}

// CreateUserTx is CreateUser inside a caller's transaction (sync, import).
// It is the one place users are created.
func (c *Core) CreateUserTx(ctx context.Context, tx *store.Tx, a Actor, u *model.User) error {
	u.Username = store.NormalizeUsername(u.Username)
	if err := NewUsernameProblem(ctx, tx, u.Username, 0, u.SourceID == ""); err != nil {
		return err
	}
	if err := tx.CreateUser(ctx, u); err != nil {
		switch {
		case errors.Is(err, store.ErrConflict):
			return Errorf(Conflict, "user %q already exists", u.Username)
		case errors.Is(err, store.ErrCardInUse):
			return Errorf(Conflict, "card/ID number is already in use by another user")
		}
		return err
	}
	for _, hook := range c.NewUserHooks {
		if err := hook(ctx, tx, u); err != nil {
			return err
		}
	}
	kind := "user"
	if u.Internal {
		kind = "internal user"
	}
	return audit(ctx, tx, a, "user.create", u.Username, "created "+kind)
}

// NewInternalUser is what an admin (or the API) gives to create an internal user.
type NewInternalUser struct {
	Username, Password, FullName, Email, Card, PIN string
	// AfterCreate, when set, runs inside the creating transaction (e.g. to
	// queue a welcome mail with the change that causes it).
	AfterCreate func(ctx context.Context, tx *store.Tx, u *model.User) error
}

// CreateInternalUser creates an internal user with a password (SPEC §6).
func (c *Core) CreateInternalUser(ctx context.Context, a Actor, in NewInternalUser) (*model.User, error) {
	if err := auth.ValidateUsername(in.Username); err != nil {
		return nil, invalidInput(err)
	}
	if err := auth.CheckPassword(in.Password); err != nil {
		return nil, invalidInput(err)
	}
	if err := CheckCardNumber(in.Card); err != nil {
		return nil, err
	}
	if err := checkEmail(in.Email); err != nil {
		return nil, err
	}
	hash, err := c.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	u := &model.User{Username: in.Username, FullName: strings.TrimSpace(in.FullName), Email: strings.TrimSpace(in.Email),
		PrimaryCard: strings.TrimSpace(in.Card), PasswordHash: hash, Internal: true}
	if in.PIN != "" {
		if err := checkPIN(in.PIN); err != nil {
			return nil, err
		}
		if u.PINHash, err = c.Hasher.HashPIN(ctx, in.PIN); err != nil {
			return nil, err
		}
	}
	err = c.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := c.CreateUserTx(ctx, tx, a, u); err != nil {
			return err
		}
		if in.AfterCreate != nil {
			return in.AfterCreate(ctx, tx, u)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// User returns a live user or a NotFound error naming it.
func (c *Core) User(ctx context.Context, name string) (*model.User, error) {
	u, err := c.Store.UserByName(ctx, name)
	return u, notFound(err, "user", name)
}

// RenameUser changes a username; the new name must be free.
func (c *Core) RenameUser(ctx context.Context, a Actor, oldName, newName string) error {
	u, err := c.User(ctx, oldName)
	if err != nil {
		return err
	}
	if u.Internal {
		err = auth.ValidateUsername(newName)
	} else {
		err = validateDirectoryUsername(newName)
	}
	if err != nil {
		return invalidInput(err)
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := NewUsernameProblem(ctx, tx, store.NormalizeUsername(newName), u.ID, true); err != nil {
			return err
		}
		if err := tx.RenameUser(ctx, u.ID, newName); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return Errorf(Conflict, "user %q already exists", store.NormalizeUsername(newName))
			}
			return err
		}
		return audit(ctx, tx, a, "user.rename", u.Username, "renamed to "+store.NormalizeUsername(newName))
	})
}

// DeleteUser marks a user deleted (history kept), optionally wiping personal details.
func (c *Core) DeleteUser(ctx context.Context, a Actor, name string, redact bool) error {
	u, err := c.User(ctx, name)
	if err != nil {
		return err
	}
	if err := c.mayManageAdmin(ctx, a, u); err != nil {
		return err
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteUser(ctx, u, redact); err != nil {
			return err
		}
		detail := "deleted"
		if redact {
			detail = "deleted and personal details redacted"
		}
		return audit(ctx, tx, a, "user.delete", u.Username, detail)
	})
}

// SetPassword sets an internal user's password and ends the user's other
// sessions (all of them when keepSession is empty).
func (c *Core) SetPassword(ctx context.Context, a Actor, name, password, keepSession string) error {
	u, err := c.User(ctx, name)
	if err != nil {
		return err
	}
	if !u.Internal {
		return Errorf(Invalid, "user %q is not an internal user: the password is managed in the directory", u.Username)
	}
	if err := c.mayManageAdmin(ctx, a, u); err != nil {
		return err
	}
	if err := auth.CheckPassword(password); err != nil {
		return invalidInput(err)
	}
	hash, err := c.Hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetUserPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		if err := tx.EndSessions(ctx, "", u.ID, keepSession); err != nil {
			return err
		}
		return audit(ctx, tx, a, "user.password", u.Username, "password changed")
	})
}

// SetPIN sets (or with "" clears) a user's card PIN; only its hash is kept.
func (c *Core) SetPIN(ctx context.Context, a Actor, name, pin string) error {
	u, err := c.User(ctx, name)
	if err != nil {
		return err
	}
	hash := ""
	if pin != "" {
		if err := checkPIN(pin); err != nil {
			return err
		}
		if hash, err = c.Hasher.HashPIN(ctx, pin); err != nil {
			return err
		}
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetUserPIN(ctx, u.ID, hash); err != nil {
			return err
		}
		return audit(ctx, tx, a, "user.pin", u.Username, "card PIN changed")
	})
}

func checkPIN(pin string) error {
	if len(pin) < 4 || len(pin) > 32 {
		return Errorf(Invalid, "card PIN must be 4 to 32 characters")
	}
	for _, r := range pin {
		if !unicode.IsPrint(r) || r > unicode.MaxASCII {
			return Errorf(Invalid, "card PIN may contain only printable ASCII characters")
		}
	}
	return nil
}

// CheckCardNumber is the rule of a stored card/ID number (SPEC §5): at
// most 64 letters and digits, after surrounding spaces are trimmed.
func CheckCardNumber(card string) error {
	card = strings.TrimSpace(card)
	if len(card) > 64 {
		return Errorf(Invalid, "card/ID number is longer than 64 characters")
	}
	for _, r := range card {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return Errorf(Invalid, "card/ID number %q may contain only letters and digits", card)
		}
	}
	return nil
}

func checkEmail(email string) error {
	email = strings.TrimSpace(email)
	if email == "" {
		return nil
	}
	if len(email) > 254 || strings.ContainsAny(email, " \t\r\n<>,;") || !strings.Contains(email, "@") {
		return Errorf(Invalid, "%q is not an email address", email)
	}
	return nil
}

// SetCard sets one of a user's card numbers (store.PrimaryCard or
// store.SecondaryCard), keeping the other.
func (c *Core) SetCard(ctx context.Context, a Actor, name string, slot int, number string) error {
	prop := "primary-card-number"
	if slot == store.SecondaryCard {
		prop = "secondary-card-number"
	}
	return c.SetUserProperties(ctx, a, name, []UserPropertyChange{{Name: prop, Value: number}})
}

// cardChange is the card part of one SetUserProperties call: the final
// number of each field it names (nil: left as it is), and the property
// names the caller used for them.
type cardChange struct {
	primary, secondary         *string
	primaryName, secondaryName string
}

// setCardsTx applies both fields at once, so that a swap, or a number held
// in both fields of one user, is one change; a number is still one user's.
// A conflict names the property and, to callers who may list users anyway
// (the API and the CLI), the user who holds the number.
func (c *Core) setCardsTx(ctx context.Context, tx *store.Tx, a Actor, u *model.User, ch cardChange) error {
	primary, secondary := u.PrimaryCard, u.SecondaryCard
	if ch.primary != nil {
		primary = *ch.primary
	}
	if ch.secondary != nil {
		secondary = *ch.secondary
	}
	err := tx.SetUserCards(ctx, u.ID, primary, secondary, model.CardOriginAdmin)
	if errors.Is(err, store.ErrCardInUse) {
		return c.cardConflict(ctx, tx, a, u, ch)
	}
	if err != nil {
		return err
	}
	var fields []string
	if ch.primary != nil && *ch.primary != u.PrimaryCard {
		fields = append(fields, "primary")
	}
	if ch.secondary != nil && *ch.secondary != u.SecondaryCard {
		fields = append(fields, "secondary")
	}
	if len(fields) == 0 {
		return nil
	}
	return audit(ctx, tx, a, "user.card", u.Username, strings.Join(fields, " and ")+" card/ID number set")
}

func (c *Core) cardConflict(ctx context.Context, tx *store.Tx, a Actor, u *model.User, ch cardChange) error {
	for _, f := range []struct {
		prop   string
		number *string
	}{{ch.primaryName, ch.primary}, {ch.secondaryName, ch.secondary}} {
		if f.number == nil || *f.number == "" {
			continue
		}
		id, owner, err := tx.CardOwner(ctx, *f.number)
		if errors.Is(err, store.ErrNotFound) || (err == nil && id == u.ID) {
			continue
		}
		if err != nil {
			return err
		}
		if a.Kind == model.ActorAPI || a.Kind == model.ActorCLI {
			return Errorf(Conflict, "%s: card/ID number %q is already in use by user %q", f.prop, *f.number, owner)
		}
		return Errorf(Conflict, "%s: card/ID number %q is already in use by another user", f.prop, *f.number)
	}
	return Errorf(Conflict, "the card/ID numbers of %q could not be set: one is already in use", u.Username)
}
