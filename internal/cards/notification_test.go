package cards

import (
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/model"
)

func TestRenderNotification(t *testing.T) {
	vars := map[string]string{"user": "jsmith", "full_name": "Jane Smith", "card_number": "123456", "empty": ""}
	tests := []struct{ tmpl, want string }{
		{"", ""},
		{"no placeholders", "no placeholders"},
		{"Hi %user%", "Hi jsmith"},
		{"%full_name% (%user%): %card_number%", "Jane Smith (jsmith): 123456"},
		{"%user%%user%", "jsmithjsmith"},
		{"[%empty%]", "[]"},
		{"%unknown% stays", "%unknown% stays"},
		{"50% off for %user%", "50% off for jsmith"},
		{"100%", "100%"},
		{"%", "%"},
		{"%%user%", "%jsmith"},
		{"%USER% is case-sensitive", "%USER% is case-sensitive"},
		{"%user", "%user"},
		{"héllo %user% ✓", "héllo jsmith ✓"},
	}
	for _, tt := range tests {
		if got := RenderNotification(tt.tmpl, vars); got != tt.want {
			t.Errorf("RenderNotification(%q) = %q; want %q", tt.tmpl, got, tt.want)
		}
	}
	// Values are inserted once, not expanded again.
	if got := RenderNotification("%full_name%", map[string]string{"full_name": "%user%", "user": "x"}); got != "%user%" {
		t.Errorf("value was expanded again: %q", got)
	}
}

func TestRenderNotificationSubject(t *testing.T) {
	vars := map[string]string{"full_name": "Eve\r\nBcc: everyone@example.com"}
	got := RenderNotificationSubject("Card for %full_name%\n", vars)
	if strings.ContainsAny(got, "\r\n") || got != "Card for Eve Bcc: everyone@example.com" {
		t.Fatalf("subject = %q; want one line", got)
	}
}

func TestDefaultNotification(t *testing.T) {
	u := &model.User{Username: "jsmith", FullName: "Jane Smith", Email: "jane@example.com", PrimaryCard: "123456", Department: "Law", Office: "Leeds"}
	vars := NotificationVars(u, "123456", time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC))
	for _, p := range Placeholders() {
		name := strings.Trim(p, "%")
		if _, ok := vars[name]; !ok {
			t.Errorf("placeholder %s has no value from NotificationVars", p)
		}
	}
	if len(vars) != len(Placeholders()) {
		t.Errorf("NotificationVars gives %d values for %d placeholders", len(vars), len(Placeholders()))
	}
	body := RenderNotification(DefaultNotificationBody, vars)
	for _, want := range []string{"Hello jsmith,", "2026-03-04", "    123456\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("default body lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "%") {
		t.Errorf("default body has an unreplaced placeholder:\n%s", body)
	}
	if got := RenderNotificationSubject(DefaultNotificationSubject, vars); got == "" || strings.Contains(got, "%") {
		t.Errorf("default subject renders as %q", got)
	}
	// Placeholders returns a copy the options page may change.
	p := Placeholders()
	p[0] = "changed"
	if Placeholders()[0] != "%user%" {
		t.Error("Placeholders shares its slice")
	}
}
