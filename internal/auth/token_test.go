package auth

import (
	"encoding/base64"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := NewToken()
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 32 {
			t.Fatalf("NewToken() = %q: %d bytes, %v; want 32 bytes of base64url", tok, len(raw), err)
		}
		if seen[tok] {
			t.Fatalf("NewToken repeated %q", tok)
		}
		seen[tok] = true
	}
}

func TestTokenHash(t *testing.T) {
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // SHA-256("abc")
	if got := TokenHash("abc"); got != abc {
		t.Fatalf("TokenHash(abc) = %s, want %s", got, abc)
	}
}

func TestCSRF(t *testing.T) {
	const secret, session = "server secret", "session-1"
	tok := CSRFToken(secret, session)
	tests := []struct {
		name                   string
		secret, session, token string
		want                   bool
	}{
		{"matching", secret, session, tok, true},
		{"other session", secret, "session-2", tok, false},
		{"other secret", "another secret", session, tok, false},
		{"tampered", secret, session, "A" + tok[1:], false},
		{"truncated", secret, session, tok[:len(tok)-1], false},
		{"not base64", secret, session, "!!!!", false},
		{"empty token", secret, session, "", false},
		{"empty secret", "", session, CSRFToken("", session), false},
		{"empty session", secret, "", CSRFToken(secret, ""), false},
	}
	for _, tt := range tests {
		if got := CheckCSRF(tt.secret, tt.session, tt.token); got != tt.want {
			t.Errorf("%s: CheckCSRF = %v, want %v", tt.name, got, tt.want)
		}
	}
}
