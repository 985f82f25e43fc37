package internalusers

import (
	"context"
	"fmt"
	"strings"

	"github.com/reamprint/ream/internal/mail"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// Report is the outcome of an import, line by line.
type Report struct {
	Created, Updated, Unchanged int
	Lines                       int // lines with a user on them
	Skipped                     []LineError
	Items                       []string // one line per created or updated user
	Test                        bool
	RunID                       int64

	// MailFrom is the sender of welcome mails; MailUnconfigured is true when
	// they were asked for but no mail server is set up.
	MailFrom         string
	MailUnconfigured bool
	MailsQueued      int
	NoEmail          []string // new users without a usable address
}

// Text is the line-numbered report shown on the admin page, returned by the
// API and written to the sync run.
func (r *Report) Text() string {
	var b strings.Builder
	verb := "Imported"
	if r.Test {
		verb = "Test only, nothing written"
	}
	fmt.Fprintf(&b, "%s: %d lines; %d internal users created, %d updated, %d unchanged, %d lines skipped.\n",
		verb, r.Lines, r.Created, r.Updated, r.Unchanged, len(r.Skipped))
	switch {
	case r.MailUnconfigured:
		b.WriteString("Welcome emails were asked for, but no mail server is configured (Options > Notifications): none were queued.\n")
	case r.Test && r.MailFrom != "":
		fmt.Fprintf(&b, "Welcome emails would be queued for %d new users.\n", r.MailsQueued)
	case r.MailFrom != "":
		fmt.Fprintf(&b, "Welcome emails queued: %d.\n", r.MailsQueued)
	}
	if len(r.NoEmail) > 0 {
		fmt.Fprintf(&b, "No welcome email for %d new users without a usable email address: %s.\n", len(r.NoEmail), strings.Join(r.NoEmail, ", "))
	}
	for _, it := range r.Items {
		b.WriteString(it)
		b.WriteByte('\n')
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(&b, "skipped %s\n", s.Error())
	}
	return b.String()
}

// welcomeMail tells a new internal user their username and where to log
// in. It never carries the password: the admin hands that over, and the
// user changes it under Change Details.
func welcomeMail(u *model.User) mail.Outgoing {
	name := u.FullName
	if name == "" {
		name = u.Username
	}
	body := fmt.Sprintf("Hello %s,\n\n"+
		"An account has been created for you on the print system.\n\n"+
		"Username: %s\n\n"+
		"Your administrator will give you your password. Log in to the user portal (/user on the print server)\n"+
		"to see your balance, and change your password under Change Details > Change Password.\n",
		name, u.Username)
	return mail.Outgoing{Kind: MailKindWelcome, To: u.Email, Subject: "Your print account", Body: body}
}

// WelcomeMail returns a function that queues the welcome mail for a new
// internal user inside the transaction that creates it (addNewInternalUser's
// sendEmail). It queues nothing when no mail server is configured or the
// user has no usable address; the creation itself still succeeds.
func (s *Service) WelcomeMail(ctx context.Context) func(ctx context.Context, tx *store.Tx, u *model.User) error {
	from := s.mailSender(ctx)
	return func(ctx context.Context, tx *store.Tx, u *model.User) error {
		if from == "" || mail.CheckRecipient(u.Email) != nil {
			s.Core.Log.Info("no welcome mail queued", "user", u.Username, "mail configured", from != "")
			return nil
		}
		return mail.Queue(ctx, tx, from, welcomeMail(u))
	}
}
