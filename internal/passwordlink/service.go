package passwordlink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
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

// RequestLimiterConfig is the budget of "Forgot your password?" requests,
// each counted as it is made (a request that works still sends a mail):
// 3 an hour for one name or address typed, 3 an hour for one user however
// they are named, 10 an hour from one client address, 100 a minute in
// all. It uses the limiter's unfamiliar-address budget as the per-name one,
// so no request ever locks anybody out of logging in.
var RequestLimiterConfig = auth.LimiterConfig{
	AccountFailures:    -1,
	ClientFailures:     10,
	ClientWindow:       time.Hour,
	GlobalFailures:     100,
	GlobalWindow:       time.Minute,
	Forget:             24 * time.Hour,
	MaxEntries:         50_000,
	UnfamiliarFailures: 3,
	UnfamiliarWindow:   time.Hour,
}

// Service issues and spends password links.
type Service struct {
	Core *core.Core
	// WakeMail is called after a commit that queued mail (nil is allowed).
	WakeMail func()
	// Limiter bounds reset requests (RequestLimiterConfig); servers that
	// share a database share it through a store.LimiterJournal of scope
	// store.JournalResetRequests.
	Limiter *auth.Limiter
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	Log *slog.Logger

	pending sync.WaitGroup
}

// New returns the service over c with its own request limiter.
func New(c *core.Core, wakeMail func()) *Service {
	return &Service{Core: c, WakeMail: wakeMail, Limiter: auth.NewLimiter(RequestLimiterConfig), Log: c.Log}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Wait returns when every request answered so far has been handled, for
// tests and shutdown.
func (s *Service) Wait() { s.pending.Wait() }

// ResetEnabled reports whether "Forgot your password?" is offered: it is
// switched on and links can be built.
func (s *Service) ResetEnabled(ctx context.Context) bool {
	return s.Core.Settings.Bool(ctx, settings.PasswordReset) && s.Core.Settings.Get(ctx, settings.PublicURL) != ""
}

// SetEnabled reports whether administrators may email set-password links.
func (s *Service) SetEnabled(ctx context.Context) bool {
	return s.Core.Settings.Bool(ctx, settings.PasswordSet)
}

// Lifetime is how long a link of purpose works.
func (s *Service) Lifetime(ctx context.Context, purpose string) time.Duration {
	if purpose == PurposeSet {
		return time.Duration(s.Core.Settings.Int(ctx, settings.PasswordSetHours)) * time.Hour
	}
	return time.Duration(s.Core.Settings.Int(ctx, settings.PasswordResetMinutes)) * time.Minute
}

// LinkFor is the address of the page that spends token.
func LinkFor(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/user/login/reset?token=" + url.QueryEscape(token)
}

// ThrottledError is a refused request: too many from this client, for
// this name, or in all. It says nothing about whether the name exists.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("passwordlink: too many reset requests; retry in %s", e.Wait)
}

// maxIdentifier bounds what the form accepts (an email address is at most
// 254 characters).
const maxIdentifier = 254

// Request answers "Forgot your password?" for a username or an email
// address typed by someone at client. Its answer is the same whether or
// not the name exists (nil, a ThrottledError or a core Invalid error for
// an empty or oversized form): the lookup and the mail happen after it
// returns, so neither its result nor its timing tells anything.
func (s *Service) Request(ctx context.Context, identifier, client string) error {
	if !s.ResetEnabled(ctx) {
		return core.Errorf(core.Forbidden, "password reset by email is switched off on this server; ask your IT help desk")
	}
	ident := strings.ToLower(strings.TrimSpace(identifier))
	if ident == "" || len(ident) > maxIdentifier || strings.ContainsAny(ident, "\x00\r\n") {
		return core.Errorf(core.Invalid, "type your username or email address")
	}
	now := s.now()
	key := "ask/" + ident // no username holds "/", so this key is nobody's login
	if ok, wait, _ := s.Limiter.AllowFrom(key, client, false, now); !ok {
		return &ThrottledError{Wait: wait}
	}
	s.Limiter.FailureFrom(key, client, false, now)
	s.pending.Add(1)
	go func() {
		defer s.pending.Done()
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.handleRequest(bg, ident, client, now); err != nil {
			s.log().ErrorContext(bg, "passwordlink: unable to handle a reset request", "err", err)
		}
	}()
	return nil
}

// requester is the audit actor of a reset request: whoever typed the form.
func requester(client string) core.Actor {
	return core.Actor{Name: "web", Address: client, Kind: model.ActorSystem}
}

// handleRequest finds the user a request names and mails them: a link for
// an internal user, a word about the directory for a directory user.
func (s *Service) handleRequest(ctx context.Context, ident, client string, now time.Time) error {
	u, err := s.Core.Store.UserByName(ctx, ident)
	if errors.Is(err, store.ErrNotFound) && strings.Contains(ident, "@") {
		u, err = s.Core.Store.UserByEmail(ctx, ident)
	}
	a := requester(client)
	if errors.Is(err, store.ErrNotFound) {
		return s.audit(ctx, a, "user.password-reset.unknown", ident, "reset requested for a name or address nobody has")
	}
	if err != nil {
		return err
	}
	key := "user/" + u.Username
	if ok, _, _ := s.Limiter.AllowFrom(key, "", false, now); !ok {
		return s.audit(ctx, a, "user.password-reset.throttled", u.Username, "too many reset requests for this user; no mail sent")
	}
	s.Limiter.FailureFrom(key, "", false, now)
	if mail.CheckRecipient(u.Email) != nil {
		return s.audit(ctx, a, "user.password-reset.no-email", u.Username, "reset requested, but the user has no usable email address")
	}
	if !u.Internal {
		return s.mailDirectoryUser(ctx, a, u, now)
	}
	_, err = s.issue(ctx, a, u, PurposeReset, now, "reset link emailed at the user's request")
	return err
}

func (s *Service) audit(ctx context.Context, a core.Actor, action, target, detail string) error {
	return s.Core.Store.Audit(ctx, a.Stamp(model.AuditEntry{Action: action, Target: target, Detail: detail}))
}

// mailDirectoryUser tells a directory user that the directory keeps their
// password, with the site's own words for it (Options > General).
func (s *Service) mailDirectoryUser(ctx context.Context, a core.Actor, u *model.User, now time.Time) error {
	help := s.Core.Settings.Get(ctx, settings.UserPasswordHelp)
	body := strings.ReplaceAll(directoryBody, "%help%", help)
	subject, body := Render(directorySubject, body, u, "", now, now)
	err := s.Core.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := mail.Queue(ctx, tx, s.Core.Settings.Get(ctx, settings.SMTPFrom),
			mail.Outgoing{Kind: MailKindDirectory, To: u.Email, Subject: subject, Body: body}); err != nil {
			return err
		}
		return tx.Audit(ctx, a.Stamp(model.AuditEntry{Action: "user.password-reset.directory", Target: u.Username,
			Detail: "reset requested for a directory user: told by email that the directory manages the password"}))
	})
	if err == nil && s.WakeMail != nil {
		s.WakeMail()
	}
	return err
}

// issue stores a new link for u and queues its mail, in one transaction.
func (s *Service) issue(ctx context.Context, a core.Actor, u *model.User, purpose string, now time.Time, detail string) (time.Time, error) {
	public := s.Core.Settings.Get(ctx, settings.PublicURL)
	if public == "" {
		return time.Time{}, core.Errorf(core.Invalid, "links cannot be sent before the server's public address (%s) is set under Options > Password Links", settings.PublicURL)
	}
	token := NewToken()
	expires := now.Add(s.Lifetime(ctx, purpose))
	subjectTmpl, bodyTmpl := Template(ctx, s.Core.Settings, purpose)
	subject, body := Render(subjectTmpl, bodyTmpl, u, LinkFor(public, token), now, expires)
	kind, action := MailKindReset, "user.password-reset.requested"
	if purpose == PurposeSet {
		kind, action = MailKindSet, "user.password-link"
	}
	err := s.Core.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreatePasswordToken(ctx, &store.PasswordToken{TokenHash: auth.TokenHash(token), UserID: u.ID, Purpose: purpose, ExpiresAt: expires}); err != nil {
			return err
		}
		if err := mail.Queue(ctx, tx, s.Core.Settings.Get(ctx, settings.SMTPFrom),
			mail.Outgoing{Kind: kind, To: u.Email, Subject: subject, Body: body}); err != nil {
			return err
		}
		return tx.Audit(ctx, a.Stamp(model.AuditEntry{Action: action, Target: u.Username,
			Detail: fmt.Sprintf("%s to %s, valid until %s", detail, u.Email, expires.Format(time.RFC3339))}))
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("passwordlink: unable to send a link to %q: %w", u.Username, err)
	}
	if s.WakeMail != nil {
		s.WakeMail()
	}
	return expires, nil
}
