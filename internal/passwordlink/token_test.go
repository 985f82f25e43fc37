package passwordlink

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

func TestParseToken(t *testing.T) {
	good := NewToken()
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{good, good, true},
		{" " + good + "\n", good, true},
		{"", "", false},
		{good[:42], "", false},
		{good + "A", "", false},
		{good[:42] + ".", "", false},
		{good[:42] + "=", "", false},
		{strings.Repeat("é", 21) + "A", "", false},
		{strings.Repeat("A", 42) + "\x00", "", false},
	} {
		got, err := ParseToken(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseToken(%q) = %q, %v; want %q, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

// FuzzParseToken: no input panics, and what is accepted is exactly 43
// base64url characters found in the input.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{NewToken(), "", "abc", strings.Repeat("_", 43), " " + NewToken() + " ", "%2e%2e/" + NewToken()} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseToken(s)
		if err != nil {
			if got != "" {
				t.Fatalf("refused %q but returned %q", s, got)
			}
			return
		}
		if len(got) != tokenLength || !strings.Contains(s, got) || strings.Trim(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("accepted %q as %q", s, got)
		}
	})
}

// TestLinkMailsAreSecret: the outbox forgets the body of a sent link mail.
func TestLinkMailsAreSecret(t *testing.T) {
	for _, kind := range []string{MailKindReset, MailKindSet} {
		if !slices.Contains(store.SecretMailKinds, kind) {
			t.Errorf("%s is not in store.SecretMailKinds", kind)
		}
	}
}

func TestValidFor(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1 hour", 90 * time.Minute: "90 minutes", 72 * time.Hour: "3 days", 24 * time.Hour: "24 hours",
		30 * time.Second: "1 minute", 5 * time.Minute: "5 minutes", 30 * time.Hour: "30 hours",
	} {
		if got := validFor(d); got != want {
			t.Errorf("validFor(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestRenderKeepsValuesLiteral: a full name holding a placeholder or a
// line break cannot change the mail's link or add a header line.
func TestRenderKeepsValuesLiteral(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	u := &model.User{Username: "mallory", FullName: "%link%\nBcc: x@example.org", Email: "m@example.org"}
	subject, body := Render("Hi %full_name%", "Dear %full_name%: %link% until %expires%", u, "https://p/l", now, now.Add(time.Hour))
	if strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject %q has a line break", subject)
	}
	if strings.Count(body, "https://p/l") != 1 || !strings.Contains(body, "%link%") || !strings.Contains(body, "2026-12-03 11:00 UTC") {
		t.Errorf("body %q", body)
	}
	if _, body := Render("", "%full_name%", &model.User{Username: "nn"}, "", now, now); body != "nn" {
		t.Errorf("a user without a full name is greeted as %q", body)
	}
}
