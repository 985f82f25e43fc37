package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
)

// MaxAccountPINLength is the longest shared-account PIN/code, in bytes.
const MaxAccountPINLength = 64

// accountPINPrefix marks a stored shared-account PIN hash.
const accountPINPrefix = "hmac-sha256:"

// AccountPINHash is how a shared-account PIN/code is stored: HMAC-SHA256
// under the site's key (kept in the database, made at the first start).
// Unlike a card PIN, an account code must stay unique among accounts and
// be found from what a user types at a copier among a million accounts, so
// it is hashed without a salt: the same code always gives the same hash,
// which the database can index and compare. It keeps codes out of the API,
// the admin pages, exports and logs; it cannot make a four-digit code
// strong against someone who holds both the database and the key. An empty
// PIN stays empty.
func AccountPINHash(key []byte, pin string) string {
	if pin == "" {
		return ""
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(pin))
	return accountPINPrefix + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// IsAccountPINHash reports whether s is a stored PIN hash rather than a PIN.
func IsAccountPINHash(s string) bool { return strings.HasPrefix(s, accountPINPrefix) }

// CheckAccountPIN applies the rules of a shared-account PIN/code: at most
// MaxAccountPINLength bytes of printable text.
func CheckAccountPIN(pin string) error {
	if len(pin) > MaxAccountPINLength || strings.ContainsFunc(pin, unicode.IsControl) {
		return fmt.Errorf("PIN/code must be at most %d printable characters", MaxAccountPINLength)
	}
	return nil
}
