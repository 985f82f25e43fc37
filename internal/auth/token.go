package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// NewToken returns a fresh session token: 32 random bytes, base64url without padding.
// The browser holds the token; the database holds only TokenHash of it, so a leaked
// database does not hand out live sessions.
func NewToken() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// TokenHash returns the SHA-256 of a session token in hex, the form stored in the
// database. A plain hash is enough: the token has 256 bits of entropy.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CSRFToken returns the anti-forgery token of a session: an HMAC-SHA256 of the
// session ID under the server's session secret, so it needs no storage.
func CSRFToken(sessionSecret, sessionID string) string {
	return base64.RawURLEncoding.EncodeToString(csrfMAC(sessionSecret, sessionID))
}

// CheckCSRF reports, in constant time, whether token is the CSRF token of the
// session. It refuses everything when the secret, session or token is empty, so a
// misconfigured server fails closed.
func CheckCSRF(sessionSecret, sessionID, token string) bool {
	if sessionSecret == "" || sessionID == "" || token == "" {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return false
	}
	return hmac.Equal(got, csrfMAC(sessionSecret, sessionID))
}

func csrfMAC(sessionSecret, sessionID string) []byte {
	m := hmac.New(sha256.New, []byte(sessionSecret))
	// The prefix keeps this MAC distinct from any other use of the same secret.
	m.Write([]byte("ream-csrf\x00"))
	m.Write([]byte(sessionID))
	return m.Sum(nil)
}
