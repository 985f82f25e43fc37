package passwordlink

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
)

// Defaults of the two emails (Options > Password Links). The texts kept
// as "empty" in the settings are these, so an improvement here reaches
// every site that never changed them.
const (
	DefaultResetBody = `Hello %full_name%,

Someone (we hope you) asked to reset the password of your print account
"%user%". To choose a new password, open this link:

    %link%

The link works once, until %expires% (for %valid_for%).

If you did not ask for this, ignore this email: your password stays as it
is.
`
	DefaultSetBody = `Hello %full_name%,

Your print account "%user%" is ready. To choose its password, open this
link:

    %link%

The link works once, until %expires% (for %valid_for%). After that, ask
your IT help desk for a new one.
`
	// directoryBody answers a directory user's request: there is no link
	// to send, since Ream never holds such a password.
	directoryBody = `Hello %full_name%,

Someone (we hope you) asked to reset the password of your print account
"%user%". That password is not kept by the print system:

%help%

If you did not ask for this, you can ignore this email.
`
	directorySubject = "About your print account password"
)

// Placeholders lists the placeholders of the two emails, for the options page.
func Placeholders() []string {
	return []string{"%user%", "%full_name%", "%email%", "%link%", "%expires%", "%valid_for%", "%date%"}
}

// Purposes of a link: the user asked (reset) or an administrator sent it (set).
const (
	PurposeReset = "reset"
	PurposeSet   = "set"
)

// Mail kinds in the outbox.
const (
	MailKindReset     = "password-reset"
	MailKindSet       = "password-set"
	MailKindDirectory = "password-directory"
)

// Template returns the subject and body templates in force for purpose.
func Template(ctx context.Context, set *settings.Settings, purpose string) (subject, body string) {
	subjectKey, bodyKey, def := settings.PasswordResetSubject, settings.PasswordResetBody, DefaultResetBody
	if purpose == PurposeSet {
		subjectKey, bodyKey, def = settings.PasswordSetSubject, settings.PasswordSetBody, DefaultSetBody
	}
	subject = set.Get(ctx, subjectKey)
	if strings.TrimSpace(subject) == "" {
		k, _ := settings.Lookup(subjectKey)
		subject = k.Default
	}
	body = set.Get(ctx, bodyKey)
	if strings.TrimSpace(body) == "" {
		body = def
	}
	return subject, body
}

// Render fills a template for user u with the link, valid until expires.
func Render(subjectTmpl, bodyTmpl string, u *model.User, link string, now, expires time.Time) (subject, body string) {
	name := u.FullName
	if strings.TrimSpace(name) == "" {
		name = u.Username
	}
	vars := map[string]string{
		"user": u.Username, "full_name": name, "email": u.Email, "link": link,
		"expires":   expires.Format("2006-01-02 15:04 MST"),
		"valid_for": validFor(expires.Sub(now)),
		"date":      now.Format(time.DateOnly),
	}
	return cards.RenderNotificationSubject(subjectTmpl, vars), cards.RenderNotification(bodyTmpl, vars)
}

// validFor says a link's life in words ("1 hour", "90 minutes", "3 days").
func validFor(d time.Duration) string {
	d = d.Round(time.Minute)
	unit := func(n int, word string) string {
		if n == 1 {
			return "1 " + word
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return unit(int(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int(d/time.Hour), "hour")
	default:
		return unit(max(int(d/time.Minute), 1), "minute")
	}
}

// SampleUser is the user the options page previews the emails for.
func SampleUser() *model.User { return cards.SampleUser() }
