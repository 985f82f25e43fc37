package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name     string
		pw       string
		wantRule PolicyRule // empty: accepted
		wantMsg  string
	}{
		{"8 characters", "zq8#kLm2", "", ""},
		{"7 characters", "zq8#kLm", RuleTooShort, "at least 8 characters"},
		{"empty", "", RuleTooShort, "at least 8 characters"},
		{"8 multibyte characters", "ёжикбелк", "", ""},
		{"7 multibyte characters, 14 bytes", "ёжикбел", RuleTooShort, "at least 8 characters"},
		{"256 characters", strings.Repeat("ab", 128), "", ""},
		{"256 multibyte characters", strings.Repeat("жё", 128), "", ""},
		{"257 characters", strings.Repeat("ab", 128) + "c", RuleTooLong, "longer than 256 characters"},
		{"1 MB", strings.Repeat("x1", 1<<19), RuleTooLong, "longer than 256 characters"},
		{"common", "password1", RuleCommon, "commonly used passwords"},
		{"common, other case", "PassWord1", RuleCommon, "commonly used passwords"},
		{"common, 8 digits", "12345678", RuleCommon, "commonly used passwords"},
		{"contains NUL", "abcd\x00efgh", RuleNUL, "NUL"},
		{"invalid UTF-8", "abcdefg\xff", RuleInvalidUTF8, "not valid text"},
		{"only spaces", "        ", RuleBlank, "only spaces"},
		{"only mixed whitespace", " \t\n\u00a0 \t\n\u3000", RuleBlank, "only spaces"},
		{"one character repeated", "aaaaaaaaaaaa", RuleRepeated, "one character repeated"},
		{"passphrase with spaces", "correct horse battery staple", "", ""},
		{"leading and trailing spaces kept", "  zq8#kLm2  ", "", ""},
		{"emoji", "🦊🦊🦊🐻🐻🐻🦉🦉", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.pw)
			if tt.wantRule == "" {
				if err != nil {
					t.Fatalf("CheckPassword refused a good password: %v", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("CheckPassword = %v, want a *PolicyError with rule %s", err, tt.wantRule)
			}
			if pe.Rule != tt.wantRule || pe.Field != "password" {
				t.Errorf("rule = %s (field %s), want %s (field password)", pe.Rule, pe.Field, tt.wantRule)
			}
			if !strings.Contains(pe.Message, tt.wantMsg) {
				t.Errorf("message %q does not say %q", pe.Message, tt.wantMsg)
			}
			if len(tt.pw) >= 4 && strings.Contains(pe.Error(), tt.pw) {
				t.Errorf("error %q repeats the password", pe.Error())
			}
		})
	}
}

func TestCommonPasswordListIsTheMaintainedOne(t *testing.T) {
	list, err := commonPasswords()
	if err != nil {
		t.Fatal(err)
	}
	// zxcvbn's list holds about 1,750 entries of 8 characters or more; a handful
	// typed in by hand would be far fewer.
	if len(list) < 1500 {
		t.Fatalf("common-password list has %d entries of 8+ characters, want the zxcvbn list", len(list))
	}
	for _, pw := range []string{"password", "baseball", "football", "trustno1", "iloveyou"} {
		if !IsCommonPassword(pw) {
			t.Errorf("IsCommonPassword(%q) = false", pw)
		}
	}
	if IsCommonPassword("qx7!Lm_2 pw tree") {
		t.Error("IsCommonPassword says a random passphrase is common")
	}
}

func FuzzCheckPassword(f *testing.F) {
	for _, s := range []string{"", "password1", "zq8#kLm2", "\x00\xff", strings.Repeat("é", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		err := CheckPassword(pw)
		if err == nil {
			if n := len([]rune(pw)); n < MinPasswordLength || n > MaxPasswordLength {
				t.Fatalf("accepted a password of %d characters", n)
			}
			if IsCommonPassword(pw) || strings.ContainsRune(pw, 0) {
				t.Fatalf("accepted %q", pw)
			}
			return
		}
		var pe *PolicyError
		if !errors.As(err, &pe) || pe.Message == "" {
			t.Fatalf("CheckPassword = %v, want a *PolicyError with a message", err)
		}
	})
}
