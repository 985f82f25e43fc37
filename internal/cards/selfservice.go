package cards

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

// RefusalText is the one answer to a self-service number that is not
// given: held by another user, or too many attempts. It says neither whose
// the number is nor whether it exists, so the portal cannot be used to
// probe numbers.
const RefusalText = "This number cannot be registered; ask your administrator."

// ErrRefused is the self-service refusal (RefusalText).
var ErrRefused = &core.Error{Code: core.Conflict, Msg: RefusalText}

// NumberRules are the site's rules for a number as a person types it or a
// USB card reader sends it: the card regular expression of the directory's
// card import (user-sync.ldap.card-regex), then the lookup converters
// (cards.lookup-converters). The result is the number as lookups see it.
type NumberRules struct {
	Extract *regexp.Regexp // nil: no expression
	Chain   Chain          // nil: no conversion
}

// Rules returns the site's number rules from the settings.
func (s *Service) Rules(ctx context.Context) (NumberRules, error) {
	var r NumberRules
	if expr := s.Core.Settings.Get(ctx, settings.UserSyncLDAPCardRe); expr != "" {
		re, err := regexp.Compile(expr)
		if err != nil {
			return r, core.Errorf(core.Invalid, "the card regular expression setting is invalid: %v", err)
		}
		r.Extract = re
	}
	chain, err := ParseConverters(s.Core.Settings.Get(ctx, settings.CardConverters))
	if err != nil {
		return r, core.Errorf(core.Invalid, "the card converter setting is invalid: %v", err)
	}
	r.Chain = chain
	return r, nil
}

// Apply turns raw input into the number to store, or says clearly what is
// wrong with it. Nothing here depends on other users' numbers.
func (r NumberRules) Apply(raw string) (string, error) {
	v := Normalize(raw)
	switch {
	case v == "":
		return "", errors.New("enter the number of your card")
	case len(v) > MaxConvertInput:
		return "", fmt.Errorf("the number is %d characters long: at most %d allowed", len(v), MaxConvertInput)
	}
	if r.Extract != nil {
		if v = directory.ExtractCard(r.Extract, v); v == "" {
			return "", errors.New("that is not a card number this site accepts")
		}
	}
	v, err := r.Chain.Convert(v)
	if err != nil {
		return "", errors.New("that is not a number this site's card readers produce")
	}
	if v == "" {
		return "", errors.New("that is not a card number this site accepts")
	}
	if err := core.CheckCardNumber(v); err != nil {
		return "", err
	}
	return v, nil
}

// SelfServiceOptions say what the portal offers one user.
type SelfServiceOptions struct {
	Register     bool // a Register a card form
	RegisterSlot int  // store.PrimaryCard or store.SecondaryCard
	Generate     bool // a Generate a new number button
	// Managed* say that the directory provides that number, so it is not
	// the user's to change (the page says so instead of offering a form).
	ManagedRegister, ManagedGenerate bool
}

// SelfService returns what the portal offers u.
func (s *Service) SelfService(ctx context.Context, u *model.User) SelfServiceOptions {
	set := s.Core.Settings
	o := SelfServiceOptions{Register: set.Bool(ctx, settings.UserRegisterCard), RegisterSlot: store.SecondaryCard,
		Generate: set.Bool(ctx, settings.UserGenerateCard)}
	if set.Get(ctx, settings.UserRegisterField) == "primary" {
		o.RegisterSlot = store.PrimaryCard
	}
	o.ManagedRegister = o.Register && s.directoryManages(ctx, u, o.RegisterSlot)
	o.ManagedGenerate = o.Generate && s.directoryManages(ctx, u, store.PrimaryCard)
	return o
}

// directoryManages asks DirectoryManages; without it, any user from a sync
// source counts as managed, so a server wired without it never lets a
// directory user overwrite the directory's number.
func (s *Service) directoryManages(ctx context.Context, u *model.User, slot int) bool {
	if s.DirectoryManages != nil {
		return s.DirectoryManages(ctx, u, slot)
	}
	return !u.Internal && u.SourceID != ""
}

// SlotName is "primary" or "secondary".
func SlotName(slot int) string {
	if slot == store.SecondaryCard {
		return "secondary"
	}
	return "primary"
}

// CardChange is what a self-service change did.
type CardChange struct {
	Slot      int
	Number    string
	Unchanged bool // the number was already the user's, in that field
	Notified  bool // the card/ID notification was queued
}

func (s *Service) selfLimiter() *auth.Limiter {
	s.limiterOnce.Do(func() {
		if s.SelfLimiter == nil {
			s.SelfLimiter = auth.NewLimiter(auth.CardRegistrationLimiterConfig)
		}
	})
	return s.SelfLimiter
}

// countAttempt charges one self-service attempt to the user and the
// address, or refuses it when the budget is spent (audited).
func (s *Service) countAttempt(ctx context.Context, a core.Actor, u *model.User, action string) error {
	l, now := s.selfLimiter(), time.Now()
	if ok, wait, reason := l.AllowShared(u.Username, a.Address, now); !ok {
		detail := fmt.Sprintf("too many attempts (%s); refused for %s", reason, wait.Round(time.Second))
		if err := s.Core.Store.Audit(ctx, a.Entry(action+".refused", u.Username, detail)); err != nil {
			return err
		}
		return ErrRefused
	}
	l.FailureShared(u.Username, a.Address, now)
	return nil
}

// RegisterOwnCard stores the number of a card the user u holds (typed, or
// sent by a card reader acting as a keyboard) in the field the settings
// choose, when the site allows it and the directory does not provide that
// number. The number passes the site's NumberRules. A number held by
// another user, and an attempt past the rate limit, get ErrRefused; the
// refusal is audited for the administrators. The user's sessions stay.
func (s *Service) RegisterOwnCard(ctx context.Context, a core.Actor, u *model.User, raw string) (CardChange, error) {
	const action = "user.card-register"
	o := s.SelfService(ctx, u)
	switch {
	case !o.Register:
		return CardChange{}, core.Errorf(core.Forbidden, "Registering a card is not allowed here. Ask your administrator.")
	case o.ManagedRegister:
		return CardChange{}, core.Errorf(core.Forbidden, "Your %s Card/ID number is managed by your organisation's directory.", SlotName(o.RegisterSlot))
	}
	if err := s.countAttempt(ctx, a, u, action); err != nil {
		return CardChange{}, err
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return CardChange{}, err
	}
	number, err := rules.Apply(raw)
	if err != nil {
		return CardChange{}, core.Errorf(core.Invalid, "%s", capitalize(err.Error()))
	}
	change := CardChange{Slot: o.RegisterSlot, Number: number}
	field := SlotName(o.RegisterSlot)
	taken := false
	err = s.Core.Store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := liveUserTx(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		old, other := cur.PrimaryCard, cur.SecondaryCard
		if o.RegisterSlot == store.SecondaryCard {
			old, other = other, old
		}
		switch number {
		case old:
			change.Unchanged = true
			return nil
		case other:
			return core.Errorf(core.Invalid, "That number is already your %s Card/ID number.", SlotName(store.PrimaryCard+store.SecondaryCard-o.RegisterSlot))
		}
		err = tx.SetUserCard(ctx, u.ID, o.RegisterSlot, number, model.CardOriginSelfRegistered)
		if errors.Is(err, store.ErrCardInUse) {
			taken = true
			return nil
		}
		if err != nil {
			return err
		}
		return tx.Audit(ctx, a.Entry(action, u.Username, fmt.Sprintf("%s card/ID number registered in the portal: %s (was %s)", field, Mask(number), Mask(old))))
	})
	if err != nil {
		return CardChange{}, err
	}
	if taken {
		// Written after the registration's own transaction, so that the
		// refusal costs the same work as a registration that went through.
		detail := fmt.Sprintf("%s card/ID number %s refused: held by another user", field, Mask(number))
		if err := s.Core.Store.Audit(ctx, a.Entry(action+".refused", u.Username, detail)); err != nil {
			return CardChange{}, err
		}
		return CardChange{}, ErrRefused
	}
	return change, nil
}

// GenerateOwnCard gives u a new random primary number, drawn by the same
// generator and rules as the automatic one (length, prefix, Luhn,
// uniqueness), when the site allows it and the directory does not provide
// the primary number. The Card/ID number notification is queued when it is
// on. The number is returned to be shown once.
func (s *Service) GenerateOwnCard(ctx context.Context, a core.Actor, u *model.User) (CardChange, error) {
	const action = "user.card-generate"
	o := s.SelfService(ctx, u)
	switch {
	case !o.Generate:
		return CardChange{}, core.Errorf(core.Forbidden, "Generating a Card/ID number is not allowed here. Ask your administrator.")
	case o.ManagedGenerate:
		return CardChange{}, core.Errorf(core.Forbidden, "Your primary Card/ID number is managed by your organisation's directory.")
	}
	if err := s.countAttempt(ctx, a, u, action); err != nil {
		return CardChange{}, err
	}
	change := CardChange{Slot: store.PrimaryCard}
	err := s.Core.Store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := liveUserTx(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		old := cur.PrimaryCard
		if err := s.newPrimaryTx(ctx, tx, cur, model.CardOriginSelfGenerated); err != nil {
			return err
		}
		change.Number = cur.PrimaryCard
		queued, noEmail, err := s.notifyTx(ctx, tx, []*model.User{cur})
		if err != nil {
			return err
		}
		change.Notified = queued > 0
		detail := fmt.Sprintf("primary card/ID number generated in the portal: %s (was %s)", Mask(cur.PrimaryCard), Mask(old))
		switch {
		case queued > 0:
			detail += "; notification queued"
		case len(noEmail) > 0:
			detail += "; not notified: no usable email address"
		}
		return tx.Audit(ctx, a.Entry(action, u.Username, detail))
	})
	if err != nil {
		return CardChange{}, err
	}
	if change.Notified {
		s.wake()
	}
	return change, nil
}

// liveUserTx reads a user inside tx; a deleted user is not found.
func liveUserTx(ctx context.Context, tx *store.Tx, id int64) (*model.User, error) {
	users, err := tx.UsersByIDs(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, core.Errorf(core.NotFound, "your account no longer exists")
	}
	return users[0], nil
}

// capitalize upper-cases the first letter of a message for the page.
func capitalize(msg string) string {
	if msg == "" || msg[0] < 'a' || msg[0] > 'z' {
		return msg
	}
	return string(msg[0]-'a'+'A') + msg[1:] + "."
}
