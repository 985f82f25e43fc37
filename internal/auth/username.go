package auth

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxUsernameLength is the longest username, in characters, that SPEC §6 allows.
const MaxUsernameLength = 50

func usernameError(rule PolicyRule, msg string) *PolicyError {
	return &PolicyError{Field: "username", Rule: rule, Message: msg}
}

// NormalizeUsername returns the form a username is stored and compared in: trimmed
// and lower-cased, as PaperCut treats usernames case-insensitively.
func NormalizeUsername(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// ValidateUsername applies the username rules of SPEC §6 to a normalized name: not
// empty, at most 50 characters, valid printable UTF-8, and none of `/`, `\` or `@`
// (they would clash with paths, domains and email addresses). It refuses leading or
// trailing spaces so that a caller who forgot NormalizeUsername finds out.
func ValidateUsername(name string) error {
	if name == "" {
		return usernameError(RuleEmpty, "The username must not be empty.")
	}
	if len(name) > MaxUsernameLength*utf8.UTFMax || utf8.RuneCountInString(name) > MaxUsernameLength {
		return usernameError(RuleTooLong, fmt.Sprintf("The username is longer than %d characters.", MaxUsernameLength))
	}
	if !utf8.ValidString(name) {
		return usernameError(RuleInvalidUTF8, "The username contains bytes that are not valid text (UTF-8).")
	}
	if strings.TrimFunc(name, unicode.IsSpace) == "" {
		return usernameError(RuleBlank, "The username must not be only spaces.")
	}
	if name == "." || name == ".." {
		// A path segment of its own: no page could be addressed by it.
		return usernameError(RuleForbidden, "The username must not be a single dot or two dots.")
	}
	for i, r := range name {
		switch {
		case r == '/' || r == '\\' || r == '@':
			return usernameError(RuleForbidden, fmt.Sprintf("The username must not contain %q (character %d).", r, utf8.RuneCountInString(name[:i])+1))
		case unicode.IsSpace(r) && r != ' ':
			return usernameError(RuleControl, fmt.Sprintf("The username contains a tab, line break or other special space (character %d).", utf8.RuneCountInString(name[:i])+1))
		case !unicode.IsPrint(r):
			return usernameError(RuleControl, fmt.Sprintf("The username contains an invisible or control character (character %d).", utf8.RuneCountInString(name[:i])+1))
		}
	}
	first, _ := utf8.DecodeRuneInString(name)
	last, _ := utf8.DecodeLastRuneInString(name)
	if first == ' ' || last == ' ' {
		return usernameError(RuleEdgeSpace, "The username must not start or end with a space.")
	}
	return CheckUsernameLooks(name)
}
