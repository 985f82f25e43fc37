package auth

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidateUsername(t *testing.T) {
	tests := []struct {
		name     string
		username string
		wantRule PolicyRule
		wantMsg  string
	}{
		{"plain", "jsmith", "", ""},
		{"dots, dashes, digits", "j.smith-2", "", ""},
		{"inner space", "john smith", "", ""},
		{"non-ASCII letters", "zoë.müller", "", ""},
		{"50 characters", strings.Repeat("a", 50), "", ""},
		{"50 multibyte characters", strings.Repeat("ü", 50), "", ""},
		{"51 characters", strings.Repeat("a", 51), RuleTooLong, "longer than 50 characters"},
		{"1 MB", strings.Repeat("a", 1<<20), RuleTooLong, "longer than 50 characters"},
		{"empty", "", RuleEmpty, "must not be empty"},
		{"only spaces", "   ", RuleBlank, "only spaces"},
		{"slash", "a/b", RuleForbidden, `'/'`},
		{"backslash", `DOMAIN\user`, RuleForbidden, `'\\'`},
		{"at sign", "user@example.org", RuleForbidden, `'@' (character 5)`},
		{"dot", ".", RuleForbidden, "single dot or two dots"},
		{"dots", "..", RuleForbidden, "single dot or two dots"},
		{"tab", "a\tb", RuleControl, "tab, line break"},
		{"newline", "a\nb", RuleControl, "tab, line break"},
		{"no-break space", "a\u00a0b", RuleControl, "special space"},
		{"NUL", "a\x00b", RuleControl, "control character"},
		{"DEL", "a\x7fb", RuleControl, "control character"},
		{"zero-width space", "a\u200bb", RuleControl, "invisible"},
		{"invalid UTF-8", "ab\xffc", RuleInvalidUTF8, "not valid text"},
		{"leading space", " bob", RuleEdgeSpace, "start or end with a space"},
		{"trailing space", "bob ", RuleEdgeSpace, "start or end with a space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateUsername(tt.username)
			if tt.wantRule == "" {
				if err != nil {
					t.Fatalf("ValidateUsername(%q) = %v, want nil", tt.username, err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("ValidateUsername(%q) = %v, want rule %s", tt.username, err, tt.wantRule)
			}
			if pe.Rule != tt.wantRule || pe.Field != "username" {
				t.Errorf("rule = %s (field %s), want %s (field username)", pe.Rule, pe.Field, tt.wantRule)
			}
			if !strings.Contains(pe.Message, tt.wantMsg) {
				t.Errorf("message %q does not say %q", pe.Message, tt.wantMsg)
			}
		})
	}
}

func TestNormalizeUsername(t *testing.T) {
	for in, want := range map[string]string{
		"  JSmith ": "jsmith",
		"Zoë":       "zoë",
		"\tbob\n":   "bob",
		"":          "",
	} {
		if got := NormalizeUsername(in); got != want {
			t.Errorf("NormalizeUsername(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzValidateUsername(f *testing.F) {
	for _, s := range []string{"", "jsmith", "a/b", " x", "ü\x00", "\xff", strings.Repeat("a", 51)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateUsername(name)
		if err != nil {
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.Message == "" {
				t.Fatalf("ValidateUsername(%q) = %v, want a *PolicyError with a message", name, err)
			}
			return
		}
		if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxUsernameLength {
			t.Fatalf("accepted %q", name)
		}
		if strings.ContainsAny(name, "/\\@\x00\t\n\r") || strings.TrimSpace(name) != name || name == "" {
			t.Fatalf("accepted %q", name)
		}
	})
}
