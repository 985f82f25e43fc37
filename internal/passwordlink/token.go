// Package passwordlink sets and resets internal users' passwords by email
// (issue 12): "Forgot your password?" on the user login page, and the
// administrators' "Email a set-password link" for one user or a group
// (after a move from PaperCut, whose API cannot hand over passwords).
//
// A link carries a random token; the database keeps only its SHA-256
// (store.PasswordToken), the mail goes through the durable outbox, and a
// link works once, for a limited time. Using one sets the password under
// the usual rules, ends every session of the user and is audited.
package passwordlink

import (
	"errors"
	"strings"

	"github.com/reamprint/ream/internal/auth"
)

// tokenLength is the length of auth.NewToken's output: 32 random bytes in
// unpadded base64url.
const tokenLength = 43

// ErrMalformedToken is a link whose token cannot be one Ream made: cut
// short by a mail program, or typed by hand.
var ErrMalformedToken = errors.New("passwordlink: malformed token")

// NewToken returns a fresh link token (see auth.NewToken).
func NewToken() string { return auth.NewToken() }

// ParseToken checks a token taken from a link and returns it as Ream made
// it. Mail programs sometimes wrap a long link or keep a trailing dot or
// bracket; only surrounding white space is forgiven, anything else is
// refused rather than guessed at.
func ParseToken(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) != tokenLength {
		return "", ErrMalformedToken
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return "", ErrMalformedToken
		}
	}
	return s, nil
}
