package web

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/settings"
)

// TestNotificationsNewServerClearsStoredPassword: saving the form with
// another SMTP host and an empty password field must not keep the stored
// password for the new host; the admin is told to enter it again.
func TestNotificationsNewServerClearsStoredPassword(t *testing.T) {
	e, _, _ := newCardsEnv(t)
	ctx := context.Background()
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	form := url.Values{"csrf": {token}, "action": {"save"}, "subject": {"Card"}, "body": {"%card_number%"},
		"host": {"mail.example.org"}, "port": {"587"}, "security": {"starttls"}, "username": {"ream"},
		"password": {"the-stored-secret"}, "from": {"print@example.org"}}
	if resp, body := e.post(c, "/admin/options/notifications", form, nil); resp.StatusCode != 303 {
		t.Fatalf("first save: %d\n%s", resp.StatusCode, body)
	}
	if got := e.core.Settings.Get(ctx, settings.SMTPPassword); got != "the-stored-secret" {
		t.Fatalf("stored password = %q", got)
	}

	// Same server, empty password field: the password is kept.
	form.Set("password", "")
	if resp, body := e.post(c, "/admin/options/notifications", form, nil); resp.StatusCode != 303 {
		t.Fatalf("second save: %d\n%s", resp.StatusCode, body)
	}
	if got := e.core.Settings.Get(ctx, settings.SMTPPassword); got != "the-stored-secret" {
		t.Fatalf("saving the same server removed the password (%q)", got)
	}

	form.Set("host", "attacker.example.net")
	if resp, body := e.post(c, "/admin/options/notifications", form, nil); resp.StatusCode != 303 {
		t.Fatalf("save with a new host: %d\n%s", resp.StatusCode, body)
	}
	if got := e.core.Settings.Get(ctx, settings.SMTPPassword); got != "" {
		t.Errorf("smtp.password = %q after the host changed without a password, want it cleared", got)
	}
	if got := e.core.Settings.Get(ctx, settings.SMTPHost); got != "attacker.example.net" {
		t.Errorf("smtp.host = %q, the rest of the form must still be saved", got)
	}
	_, body, _ := e.get(c, "/admin/options/notifications")
	if !strings.Contains(body, "stored SMTP password was cleared because the server or login changed; enter it again") {
		t.Errorf("the page does not say the password was cleared:\n%s", body)
	}
}
