package cards

import (
	"strings"
	"time"

	"github.com/reamprint/ream/internal/model"
)

// Defaults of the Card/ID Number Notification (Options > Notifications).
const (
	DefaultNotificationSubject = "Your new card/ID number"
	DefaultNotificationBody    = `Hello %user%,

A new card/ID number was created for your print account on %date%:

    %card_number%

Swipe your card, or type this number at the printer or copier keypad, to
log in and release your print jobs. Keep the number to yourself: anyone who
knows it can print and copy on your account.

If you did not expect this message, please contact your IT help desk.
`
)

// placeholderNames are the template variables of the notification, without
// the surrounding percent signs.
var placeholderNames = []string{
	"user", "full_name", "email", "card_number",
	"primary_card_number", "secondary_card_number",
	"department", "office", "date",
}

// Placeholders lists the notification placeholders, percent signs included,
// for the options page.
func Placeholders() []string {
	out := make([]string, len(placeholderNames))
	for i, name := range placeholderNames {
		out[i] = "%" + name + "%"
	}
	return out
}

// NotificationVars gives the placeholder values for user u whose new number
// is card, generated at the given time. The date is written as 2006-01-02,
// which no reader misreads whatever their locale.
func NotificationVars(u *model.User, card string, at time.Time) map[string]string {
	return map[string]string{
		"user":                  u.Username,
		"full_name":             u.FullName,
		"email":                 u.Email,
		"card_number":           card,
		"primary_card_number":   u.PrimaryCard,
		"secondary_card_number": u.SecondaryCard,
		"department":            u.Department,
		"office":                u.Office,
		"date":                  at.Format(time.DateOnly),
	}
}

// RenderNotification replaces each %name% in tmpl whose name is a key of
// vars (keys are given without percent signs) by its value. Unknown
// placeholders and lone percent signs stay as written, and values are not
// scanned again, so a value holding "%user%" is printed literally.
func RenderNotification(tmpl string, vars map[string]string) string {
	var out strings.Builder
	out.Grow(len(tmpl))
	for {
		start := strings.IndexByte(tmpl, '%')
		if start < 0 {
			out.WriteString(tmpl)
			return out.String()
		}
		out.WriteString(tmpl[:start])
		tmpl = tmpl[start:]
		end := strings.IndexByte(tmpl[1:], '%')
		if end >= 0 {
			if value, ok := vars[tmpl[1:1+end]]; ok {
				out.WriteString(value)
				tmpl = tmpl[end+2:]
				continue
			}
		}
		// Not a placeholder: keep this percent sign, and let the next one
		// start a placeholder of its own ("50% off %user%").
		out.WriteByte('%')
		tmpl = tmpl[1:]
	}
}

// RenderNotificationSubject renders a subject line: line breaks in the
// template or the values become spaces, so a full name cannot add mail
// headers.
func RenderNotificationSubject(tmpl string, vars map[string]string) string {
	s := RenderNotification(tmpl, vars)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}
