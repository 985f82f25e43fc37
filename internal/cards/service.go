package cards

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/mail"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

// Service applies the card/ID number rules to the database: numbers for
// new users without one, Bulk User Actions, the batch card import, the
// Card/ID Number Notification and the test email. The admin pages, the API
// and the CLI all go through it.
type Service struct {
	Core *core.Core
	// WakeMail is called after a commit that queued mail, so the outbox
	// worker delivers it now rather than at its next poll; nil is allowed.
	WakeMail func()
	// Now is the clock of notification dates (time.Now when nil).
	Now func() time.Time
	// SelfLimiter bounds the portal's self-service attempts per user and
	// per address; nil takes auth.CardRegistrationLimiterConfig.
	SelfLimiter *auth.Limiter
	// DirectoryManages reports whether the directory provides u's number in
	// slot (usersync.ManagesCard, which this package cannot import).
	DirectoryManages func(ctx context.Context, u *model.User, slot int) bool
	limiterOnce      sync.Once
}

// NewService returns the card service over c.
func NewService(c *core.Core, wakeMail func()) *Service {
	return &Service{Core: c, WakeMail: wakeMail}
}

// System is the actor of changes the service makes on its own (a number
// given to a new user), in the audit log.
var System = core.Actor{Name: "system", AllAccounts: true}

// Mail kinds in the outbox.
const (
	MailKindCardGenerated = "card-generated"
	MailKindTest          = "test"
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) wake() {
	if s.WakeMail != nil {
		s.WakeMail()
	}
}

// GeneratorOptions returns the generator settings (Options > Card/ID numbers).
func (s *Service) GeneratorOptions(ctx context.Context) GeneratorOptions {
	set := s.Core.Settings
	return GeneratorOptions{
		Length: set.Int(ctx, settings.CardLength),
		Prefix: set.Get(ctx, settings.CardPrefix),
		Luhn:   set.Bool(ctx, settings.CardLuhn),
	}
}

func (s *Service) generator(ctx context.Context) (*Generator, error) {
	g, err := NewGenerator(s.GeneratorOptions(ctx))
	if err != nil {
		return nil, core.Errorf(core.Invalid, "the Card/ID number settings are invalid: %v", err)
	}
	return g, nil
}

// Strength says how guessable generated numbers are with the current
// settings and number of users holding a number.
func (s *Service) Strength(ctx context.Context) (Strength, error) {
	n, err := s.Core.Store.CountUsersWithCards(ctx)
	if err != nil {
		return Strength{}, err
	}
	return Guessability(s.GeneratorOptions(ctx), n), nil
}

// NotificationTemplate returns the subject and body templates in force.
func (s *Service) NotificationTemplate(ctx context.Context) (subject, body string) {
	subject = s.Core.Settings.Get(ctx, settings.NotifyCardSubject)
	if strings.TrimSpace(subject) == "" {
		subject = DefaultNotificationSubject
	}
	body = s.Core.Settings.Get(ctx, settings.NotifyCardBody)
	if strings.TrimSpace(body) == "" {
		body = DefaultNotificationBody
	}
	return subject, body
}

// RenderFor renders a notification for user u with the new number card.
func RenderFor(subjectTmpl, bodyTmpl string, u *model.User, card string, at time.Time) (subject, body string) {
	vars := NotificationVars(u, card, at)
	return RenderNotificationSubject(subjectTmpl, vars), RenderNotification(bodyTmpl, vars)
}

// SampleUser is the user the notification preview is rendered for.
func SampleUser() *model.User {
	return &model.User{Username: "jsmith", FullName: "Jane Smith", Email: "jane.smith@example.org",
		Department: "Science", Office: "Room 101", PrimaryCard: "482913375510", SecondaryCard: "7F3A2C"}
}

// notifyTx queues the Card/ID Number Notification for each user (whose
// PrimaryCard is the new number) inside tx, when notifications are on. Users
// without a usable email address are returned, not skipped silently.
func (s *Service) notifyTx(ctx context.Context, tx *store.Tx, users []*model.User) (queued int, noEmail []string, err error) {
	if len(users) == 0 || !s.Core.Settings.Bool(ctx, settings.NotifyCardGenerated) {
		return 0, nil, nil
	}
	subjectTmpl, bodyTmpl := s.NotificationTemplate(ctx)
	at := s.now()
	msgs := make([]mail.Outgoing, 0, len(users))
	for _, u := range users {
		if mail.CheckRecipient(u.Email) != nil {
			noEmail = append(noEmail, u.Username)
			continue
		}
		subject, body := RenderFor(subjectTmpl, bodyTmpl, u, u.PrimaryCard, at)
		msgs = append(msgs, mail.Outgoing{Kind: MailKindCardGenerated, To: u.Email, Subject: subject, Body: body})
	}
	if err := mail.Queue(ctx, tx, s.Core.Settings.Get(ctx, settings.SMTPFrom), msgs...); err != nil {
		return 0, nil, fmt.Errorf("cards: unable to queue notifications: %w", err)
	}
	return len(msgs), noEmail, nil
}

// maxCardRetries bounds how often a number the database refuses (another
// server took it a moment ago) is drawn again.
const maxCardRetries = 20

// Hook returns the function for core.Core.NewUserHooks: inside the
// transaction creating a user, a user without a primary number gets a
// fresh one when "Auto-generate random primary Card/ID number when blank"
// is on, and the notification is queued in the same transaction.
func (s *Service) Hook() func(ctx context.Context, tx *store.Tx, u *model.User) error {
	return func(ctx context.Context, tx *store.Tx, u *model.User) error {
		if u.PrimaryCard != "" || !s.Core.Settings.Bool(ctx, settings.CardAutoGenerate) {
			return nil
		}
		return s.generateForTx(ctx, tx, u)
	}
}

// generateForTx gives one user a new primary number, queues the
// notification and records both in the audit log.
func (s *Service) generateForTx(ctx context.Context, tx *store.Tx, u *model.User) error {
	if err := s.newPrimaryTx(ctx, tx, u, model.CardOriginGenerated); err != nil {
		return err
	}
	queued, noEmail, err := s.notifyTx(ctx, tx, []*model.User{u})
	if err != nil {
		return err
	}
	detail := "primary card/ID number generated (blank at creation)"
	switch {
	case queued > 0:
		detail += "; notification queued"
	case len(noEmail) > 0:
		detail += "; not notified: no usable email address"
	}
	return tx.Audit(ctx, model.AuditEntry{Actor: System.Name, Action: "user.card-generated", Target: u.Username, Detail: detail})
}

// newPrimaryTx draws a free number with the site's generator settings and
// makes it u's primary number (u.PrimaryCard too), recorded with origin.
func (s *Service) newPrimaryTx(ctx context.Context, tx *store.Tx, u *model.User, origin string) error {
	g, err := s.generator(ctx)
	if err != nil {
		return err
	}
	for range maxCardRetries {
		var lookupErr error
		numbers, err := g.GenerateUnique(1, func(n string) bool {
			used, err := tx.CardInUse(ctx, n)
			if err != nil {
				lookupErr = err
			}
			return used
		})
		if lookupErr != nil {
			return fmt.Errorf("cards: unable to check a card number: %w", lookupErr)
		}
		if err != nil {
			return core.Errorf(core.Conflict, "no free Card/ID number could be generated: %v", err)
		}
		// The database is the final word: another server may have taken
		// the number between the check and this write.
		err = tx.SetUserCard(ctx, u.ID, store.PrimaryCard, numbers[0], origin)
		if errors.Is(err, store.ErrCardInUse) {
			continue
		}
		if err != nil {
			return fmt.Errorf("cards: unable to set the card number of %q: %w", u.Username, err)
		}
		u.PrimaryCard = numbers[0]
		return nil
	}
	return core.Errorf(core.Conflict, "no free Card/ID number could be stored after %d attempts", maxCardRetries)
}

// SendTestEmail queues a test message to address and wakes the worker.
func (s *Service) SendTestEmail(ctx context.Context, a core.Actor, address string) error {
	address = strings.TrimSpace(address)
	if err := mail.CheckRecipient(address); err != nil {
		return core.Errorf(core.Invalid, "%q is not an email address", address)
	}
	body := fmt.Sprintf("This is a test email from Ream, sent by %s on %s.\n\nIf you can read it, Ream's mail settings work.\n",
		a.Name, s.now().Format("2006-01-02 15:04 MST"))
	err := s.Core.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := mail.Queue(ctx, tx, s.Core.Settings.Get(ctx, settings.SMTPFrom),
			mail.Outgoing{Kind: MailKindTest, To: address, Subject: "Ream test email", Body: body}); err != nil {
			return err
		}
		return tx.Audit(ctx, a.Stamp(model.AuditEntry{Action: "mail.test", Target: address, Detail: "test email queued"}))
	})
	if err != nil {
		return err
	}
	s.wake()
	return nil
}

// SMTPConfig reads the SMTP settings, for the mail worker.
func SMTPConfig(set *settings.Settings) func(ctx context.Context) (mail.SMTPConfig, error) {
	return func(ctx context.Context) (mail.SMTPConfig, error) {
		return mail.SMTPConfig{
			Host:     set.Get(ctx, settings.SMTPHost),
			Port:     set.Int(ctx, settings.SMTPPort),
			Security: set.Get(ctx, settings.SMTPSecurity),
			Username: set.Get(ctx, settings.SMTPUsername),
			Password: set.Get(ctx, settings.SMTPPassword),
			From:     set.Get(ctx, settings.SMTPFrom),
		}, nil
	}
}
