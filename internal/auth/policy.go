package auth

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/ccojocar/zxcvbn-go/data"
)

// Password limits of SPEC §6, counted in characters (runes), not bytes.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 256
)

// PolicyRule names the rule a password or username broke, for callers that react to
// a particular rule (tests, API fault codes) rather than show the message.
type PolicyRule string

// The rules checked by CheckPassword and ValidateUsername.
const (
	RuleTooShort    PolicyRule = "too-short"
	RuleTooLong     PolicyRule = "too-long"
	RuleInvalidUTF8 PolicyRule = "invalid-utf8"
	RuleNUL         PolicyRule = "nul"
	RuleBlank       PolicyRule = "blank"
	RuleRepeated    PolicyRule = "repeated"
	RuleCommon      PolicyRule = "common"
	RuleEmpty       PolicyRule = "empty"
	RuleEdgeSpace   PolicyRule = "edge-space"
	RuleControl     PolicyRule = "control"
	RuleForbidden   PolicyRule = "forbidden-character"
)

// PolicyError says why a password or username was refused. Message is a sentence
// meant for the person who typed the value; it never repeats the value itself.
type PolicyError struct {
	Field   string // "password" or "username"
	Rule    PolicyRule
	Message string
}

func (e *PolicyError) Error() string {
	return "auth: " + e.Field + " refused: " + e.Message
}

func passwordError(rule PolicyRule, msg string) *PolicyError {
	return &PolicyError{Field: "password", Rule: rule, Message: msg}
}

// CheckPassword applies the password rules of SPEC §6: 8 to 256 characters, valid
// UTF-8 without NUL, not only whitespace, not one character repeated, and not on the
// common-password list. There are no composition rules, and no zxcvbn score is
// required: a score would refuse long, memorable passphrases for reasons a user
// cannot see, while the list catches what attackers actually try first.
func CheckPassword(pw string) error {
	// Refuse huge inputs on their byte length before any per-rune work: 256 runes
	// are at most 1024 bytes of UTF-8.
	if len(pw) > MaxPasswordLength*utf8.UTFMax {
		return passwordError(RuleTooLong, fmt.Sprintf("The password is longer than %d characters.", MaxPasswordLength))
	}
	if !utf8.ValidString(pw) {
		return passwordError(RuleInvalidUTF8, "The password contains bytes that are not valid text (UTF-8).")
	}
	if strings.IndexByte(pw, 0) >= 0 {
		return passwordError(RuleNUL, "The password must not contain a NUL character.")
	}
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLength {
		return passwordError(RuleTooShort, fmt.Sprintf("The password must be at least %d characters long.", MinPasswordLength))
	}
	if n > MaxPasswordLength {
		return passwordError(RuleTooLong, fmt.Sprintf("The password is longer than %d characters.", MaxPasswordLength))
	}
	if strings.TrimFunc(pw, unicode.IsSpace) == "" {
		return passwordError(RuleBlank, "The password must not be only spaces.")
	}
	if isOneRuneRepeated(pw) {
		return passwordError(RuleRepeated, "The password must not be one character repeated.")
	}
	if IsCommonPassword(pw) {
		return passwordError(RuleCommon, "This password is on a list of commonly used passwords; please choose another.")
	}
	return nil
}

func isOneRuneRepeated(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return true
}

// IsCommonPassword reports whether pw, lower-cased, is on zxcvbn's ranked list of
// common passwords.
func IsCommonPassword(pw string) bool {
	list, err := commonPasswords()
	if err != nil {
		// The list is compiled into the binary; failing to read it is a broken
		// build, and treating every password as common would lock everyone out.
		return false
	}
	_, found := list[strings.ToLower(pw)]
	return found
}

// commonPasswords loads the list on first use only, so a server that never checks a
// password does not keep it in memory. Entries shorter than MinPasswordLength are
// dropped: the length rule already refuses them.
var commonPasswords = sync.OnceValues(func() (map[string]struct{}, error) {
	raw, err := data.Asset("data/Passwords.json")
	if err != nil {
		return nil, fmt.Errorf("auth: unable to read the common-password list: %w", err)
	}
	var file struct{ List []string }
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("auth: unable to decode the common-password list: %w", err)
	}
	set := make(map[string]struct{}, len(file.List)/4)
	for _, p := range file.List {
		if utf8.RuneCountInString(p) >= MinPasswordLength {
			set[strings.ToLower(p)] = struct{}{}
		}
	}
	return set, nil
})
