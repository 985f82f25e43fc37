package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// WebServicesTokens returns the tokens that XML-RPC callers may present
// (SPEC §7). No tokens means the API refuses every call.
func (c *Config) WebServicesTokens() ([]string, error) {
	tokens, err := parseTokens(c.Auth.WebServices.AuthToken)
	if err != nil {
		return nil, fmt.Errorf("config: auth.webservices.auth-token: %w", err)
	}
	return tokens, nil
}

// ParseWebServicesTokens checks and reads a token setting in the same
// forms as auth.webservices.auth-token. Its errors never quote the text.
func ParseWebServicesTokens(s string) ([]string, error) { return parseTokens(s) }

// parseTokens reads one token, a JSON array of tokens or a JSON object
// name→token. Its errors never quote the text: it is a secret.
func parseTokens(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return nil, nil
	case strings.HasPrefix(s, "["):
		var list []string
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			return nil, fmt.Errorf("not a JSON array of token strings: %s", describeJSONError(err))
		}
		for i, t := range list {
			if err := checkToken(t); err != nil {
				return nil, fmt.Errorf("token %d in the array %w", i+1, err)
			}
		}
		return list, nil
	case strings.HasPrefix(s, "{"):
		var named map[string]string
		if err := json.Unmarshal([]byte(s), &named); err != nil {
			return nil, fmt.Errorf("not a JSON object of name→token strings: %s", describeJSONError(err))
		}
		names := make([]string, 0, len(named))
		for name := range named {
			names = append(names, name)
		}
		slices.Sort(names) // a stable order for callers and tests
		list := make([]string, len(names))
		for i, name := range names {
			if err := checkToken(named[name]); err != nil {
				return nil, fmt.Errorf("token %q %w", name, err)
			}
			list[i] = named[name]
		}
		return list, nil
	default:
		if err := checkToken(s); err != nil {
			return nil, fmt.Errorf("the token %w", err)
		}
		return []string{s}, nil
	}
}

func checkToken(t string) error {
	switch {
	case strings.TrimSpace(t) == "":
		return errors.New("is empty")
	case strings.TrimSpace(t) != t:
		return errors.New("starts or ends with a blank")
	case strings.ContainsFunc(t, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return errors.New("contains a control character")
	}
	return nil
}

// describeJSONError keeps the position of a JSON error but not the
// offending text, which could be part of a token.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("syntax error at byte %d", syntax.Offset)
	case errors.As(err, &typeErr):
		return fmt.Sprintf("a %s where a string was expected, at byte %d", typeErr.Value, typeErr.Offset)
	default:
		return "invalid JSON"
	}
}
