package directory

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
)

// Kinds of bind identity, as Active Directory accepts them in a simple bind.
const (
	BindDN        = "dn"         // cn=svc-ream,ou=Service,dc=corp,dc=example
	BindUPN       = "upn"        // svc-ream@corp.example
	BindDownLevel = "down-level" // CORP\svc-ream
)

// maxBindIdentity bounds a bind identity; AD's own limits are far lower.
const maxBindIdentity = 1024

// ParseBindIdentity says which kind of bind identity s is: a DN, a user
// principal name (user@domain) or a down-level logon name (DOMAIN\user).
// The bind sends s as it is; this only refuses what no directory accepts,
// so that a typing mistake is caught when the setting is saved rather than
// at the next sync. OpenLDAP takes only DNs; Active Directory takes all three.
func ParseBindIdentity(s string) (string, error) {
	switch {
	case s == "":
		return "", fmt.Errorf("is empty")
	case len(s) > maxBindIdentity:
		return "", fmt.Errorf("is longer than %d bytes", maxBindIdentity)
	case !utf8.ValidString(s):
		return "", fmt.Errorf("is not valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", fmt.Errorf("contains a control character")
	case strings.TrimSpace(s) != s:
		return "", fmt.Errorf("starts or ends with a space")
	}
	// A DN always has an attribute=value pair; a UPN or down-level name
	// never has "=".
	if strings.Contains(s, "=") {
		if _, err := ldap.ParseDN(s); err != nil {
			return "", fmt.Errorf("is not a DN (%v), a user@domain name or a DOMAIN\\user name", err)
		}
		return BindDN, nil
	}
	if domain, user, ok := strings.Cut(s, `\`); ok {
		if err := checkDownLevel(domain, user); err != nil {
			return "", err
		}
		return BindDownLevel, nil
	}
	if user, domain, ok := strings.Cut(s, "@"); ok {
		if err := checkUPN(user, domain); err != nil {
			return "", err
		}
		return BindUPN, nil
	}
	return "", fmt.Errorf("%q is not a DN (cn=…,dc=…), a user@domain name or a DOMAIN\\user name", s)
}

// accountChars are the characters AD refuses in a logon name.
const accountChars = `"/\[]:;|=,+*?<>@`

func checkDownLevel(domain, user string) error {
	switch {
	case domain == "":
		return fmt.Errorf("DOMAIN\\user: the domain before the backslash is empty")
	case user == "":
		return fmt.Errorf("DOMAIN\\user: the user name after the backslash is empty")
	case utf8.RuneCountInString(domain) > 15:
		return fmt.Errorf("DOMAIN\\user: %q is longer than the 15 characters of a NetBIOS domain name", domain)
	case strings.ContainsAny(domain, accountChars+" ."):
		return fmt.Errorf("DOMAIN\\user: the domain %q contains a character a NetBIOS domain name cannot have", domain)
	case strings.ContainsAny(user, accountChars):
		return fmt.Errorf("DOMAIN\\user: the user name %q contains a character a logon name cannot have", user)
	}
	return nil
}

func checkUPN(user, domain string) error {
	switch {
	case user == "":
		return fmt.Errorf("user@domain: the user name before the @ is empty")
	case domain == "":
		return fmt.Errorf("user@domain: the domain after the @ is empty")
	case strings.ContainsAny(user, `"/\[]:;|=,+*?<>`):
		return fmt.Errorf("user@domain: the user name %q contains a character a logon name cannot have", user)
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" {
			return fmt.Errorf("user@domain: the domain %q has an empty label", domain)
		}
		for _, r := range label {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return fmt.Errorf("user@domain: the domain %q contains %q, which a DNS name cannot have", domain, r)
			}
		}
	}
	return nil
}
