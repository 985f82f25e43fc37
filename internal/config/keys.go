package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// key is one configuration key. The table below is the only place a key is
// named: the file, the environment, --set, Show and the reference all read it.
type key struct {
	name        string
	description string
	// secret keys are never printed and cannot be given with --set, where
	// they would show in the process list.
	secret bool
	// set parses the text form used by environment variables, flags and
	// plain strings in the file.
	set func(c *Config, text string) error
	// setList, for list keys, takes the items of a TOML array.
	setList func(c *Config, items []string) error
	// fileText turns a non-string file value into the text form; optional.
	fileText func(v any) (string, error)
	// get returns the current value: string, bool, time.Duration or []string.
	get func(c *Config) any
	// redact shows a secret-bearing value with its secret part hidden; optional.
	redact func(c *Config) string
}

var keys = []key{
	stringKey("data-dir", "Directory for the SQLite database, the self-signed certificate and other state.",
		func(c *Config) *string { return &c.DataDir }, checkNotEmpty),
	stringKey("listen", "Address of the HTTP listener (admin, user portal, XML-RPC API).",
		func(c *Config) *string { return &c.Listen }, checkListen),
	stringKey("https.listen", `Address of the HTTPS listener; "" turns HTTPS off.`,
		func(c *Config) *string { return &c.HTTPS.Listen }, checkOptionalListen),
	stringKey("https.cert-file", "PEM certificate for HTTPS (with https.key-file).",
		func(c *Config) *string { return &c.HTTPS.CertFile }, nil),
	stringKey("https.key-file", "PEM private key for HTTPS (with https.cert-file).",
		func(c *Config) *string { return &c.HTTPS.KeyFile }, nil),
	boolKey("https.self-signed", "Without a cert-file, make a self-signed certificate in the data directory on first start.",
		func(c *Config) *bool { return &c.HTTPS.SelfSigned }),
	{
		name:        "database.url",
		description: `"" for SQLite at <data-dir>/ream.db, or a postgres:// URL for PostgreSQL. Its password is never shown.`,
		set: func(c *Config, s string) error {
			if err := checkDatabaseURL(s); err != nil {
				return err
			}
			c.Database.URL = s
			return nil
		},
		get:    func(c *Config) any { return c.Database.URL },
		redact: func(c *Config) string { return strconv.Quote(redactURL(c.Database.URL)) },
	},
	{
		name:        "auth.webservices.auth-token",
		description: "Token(s) for the XML-RPC API: one token, a JSON array of tokens, or a JSON object name→token.",
		secret:      true,
		set: func(c *Config, s string) error {
			if _, err := parseTokens(s); err != nil {
				return err
			}
			c.Auth.WebServices.AuthToken = s
			return nil
		},
		fileText: tokensFileText,
		get:      func(c *Config) any { return c.Auth.WebServices.AuthToken },
	},
	listKey("auth.webservices.allowed-addresses", "IP addresses and CIDR ranges that may call the XML-RPC API.",
		func(c *Config, items []string) error {
			prefixes, err := parsePrefixes(items)
			if err != nil {
				return err
			}
			c.Auth.WebServices.AllowedAddresses = prefixes
			return nil
		},
		func(c *Config) []string {
			out := make([]string, len(c.Auth.WebServices.AllowedAddresses))
			for i, p := range c.Auth.WebServices.AllowedAddresses {
				out[i] = p.String()
			}
			return out
		}),
	listKey("metrics.allowed-addresses", "IP addresses and CIDR ranges that may read /metrics without a token.",
		func(c *Config, items []string) error {
			prefixes, err := parsePrefixes(items)
			if err != nil {
				return err
			}
			c.Metrics.AllowedAddresses = prefixes
			return nil
		},
		func(c *Config) []string {
			out := make([]string, len(c.Metrics.AllowedAddresses))
			for i, p := range c.Metrics.AllowedAddresses {
				out[i] = p.String()
			}
			return out
		}),
	{
		name:        "metrics.bearer-token",
		description: `Token a scraper from any address sends as "Authorization: Bearer <token>" to read /metrics; "" allows only metrics.allowed-addresses.`,
		secret:      true,
		set: func(c *Config, s string) error {
			if s != "" && len(s) < 16 {
				return errors.New("a metrics bearer token must be at least 16 characters")
			}
			c.Metrics.BearerToken = s
			return nil
		},
		get: func(c *Config) any { return c.Metrics.BearerToken },
	},
	{
		name:        "admin.password",
		description: "Password of the built-in admin account, set at start (usually from REAM_ADMIN_PASSWORD).",
		secret:      true,
		set:         func(c *Config, s string) error { c.Admin.Password = s; return nil },
		get:         func(c *Config) any { return c.Admin.Password },
	},
	listKey("sync.allowed-roots", "Absolute directories the shared-account sync may read files from.",
		func(c *Config, items []string) error {
			roots, err := parseRoots(items)
			if err != nil {
				return err
			}
			c.Sync.AllowedRoots = roots
			return nil
		},
		func(c *Config) []string { return slices.Clone(c.Sync.AllowedRoots) }),
	choiceKey("log.level", "Least severe log level written.",
		func(c *Config) *string { return &c.Log.Level }, "debug", "info", "warn", "error"),
	choiceKey("log.format", "Log line format.",
		func(c *Config) *string { return &c.Log.Format }, "text", "json"),
	durationKey("session.lifetime", "How long a login session lasts.",
		func(c *Config) *time.Duration { return &c.Session.Lifetime }),
	choiceKey("secure-cookies", "Secure flag on session cookies; auto sets it when the request came over HTTPS.",
		func(c *Config) *string { return &c.SecureCookies }, "auto", "always", "never"),
	durationKey("mail.outbox-interval", "How often queued e-mail is delivered.",
		func(c *Config) *time.Duration { return &c.Mail.OutboxInterval }),
}

// lookupKey finds a key by its dotted name.
func lookupKey(name string) (*key, bool) {
	for i := range keys {
		if keys[i].name == name {
			return &keys[i], true
		}
	}
	return nil, false
}

// envName is the environment variable for a key: REAM_ + the name
// upper-cased, with "." and "-" as "_".
func envName(name string) string {
	return "REAM_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(name))
}

func stringKey(name, description string, field func(*Config) *string, check func(string) error) key {
	return key{
		name:        name,
		description: description,
		set: func(c *Config, s string) error {
			if check != nil {
				if err := check(s); err != nil {
					return err
				}
			}
			*field(c) = s
			return nil
		},
		get: func(c *Config) any { return *field(c) },
	}
}

func choiceKey(name, description string, field func(*Config) *string, choices ...string) key {
	k := stringKey(name, description, field, nil)
	k.description = fmt.Sprintf("%s One of: %s.", description, strings.Join(choices, ", "))
	k.set = func(c *Config, s string) error {
		v := strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(choices, v) {
			return fmt.Errorf("%q is not one of %s", s, strings.Join(choices, ", "))
		}
		*field(c) = v
		return nil
	}
	return k
}

func boolKey(name, description string, field func(*Config) *bool) key {
	return key{
		name:        name,
		description: description,
		set: func(c *Config, s string) error {
			v, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("%q is not true or false", s)
			}
			*field(c) = v
			return nil
		},
		get: func(c *Config) any { return *field(c) },
	}
}

func durationKey(name, description string, field func(*Config) *time.Duration) key {
	return key{
		name:        name,
		description: description,
		set: func(c *Config, s string) error {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("%q is not a duration like 90s, 15m or 12h", s)
			}
			if d <= 0 {
				return fmt.Errorf("%q must be longer than zero", s)
			}
			*field(c) = d
			return nil
		},
		get: func(c *Config) any { return *field(c) },
	}
}

// listKey makes a list key; in the text form the items are comma-separated.
func listKey(name, description string, setList func(*Config, []string) error, get func(*Config) []string) key {
	return key{
		name:        name,
		description: description + " Comma-separated in the environment and --set.",
		set:         func(c *Config, s string) error { return setList(c, splitList(s)) },
		setList:     setList,
		get:         func(c *Config) any { return get(c) },
	}
}

func splitList(s string) []string {
	var items []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

func checkNotEmpty(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func checkOptionalListen(s string) error {
	if s == "" {
		return nil
	}
	return checkListen(s)
}

func checkListen(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not an address like :9191 or 127.0.0.1:9191", s)
	}
	if strings.ContainsAny(host, " \t\r\n") {
		return fmt.Errorf("%q has a blank in its host", s)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n > 65535 {
		return fmt.Errorf("%q has no valid port number", s)
	}
	return nil
}

// checkDatabaseURL never quotes the URL: it may hold a password.
func checkDatabaseURL(s string) error {
	if s == "" {
		return nil
	}
	if !isPostgresURL(s) {
		return errors.New(`must be "" (SQLite in the data directory) or a postgres:// or postgresql:// URL`)
	}
	if _, err := url.Parse(s); err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return fmt.Errorf("not a valid URL: %v", err)
	}
	return nil
}

func parseRoots(items []string) ([]string, error) {
	roots := make([]string, 0, len(items))
	for _, item := range items {
		// Blanks around a directory name are slips; the environment form trims them too.
		item = strings.TrimSpace(item)
		if !filepath.IsAbs(item) {
			return nil, fmt.Errorf("%q is not an absolute directory", item)
		}
		root := filepath.Clean(item)
		if strings.TrimSpace(root) != root {
			// "/srv/ /" would clean to "/srv/ ", which reads back as "/srv".
			return nil, fmt.Errorf("%q ends in a blank", item)
		}
		roots = append(roots, root)
	}
	return roots, nil
}

// tokensFileText lets the file give several tokens as a TOML array or table,
// which is friendlier there than JSON inside a string.
func tokensFileText(v any) (string, error) {
	switch v := v.(type) {
	case []any:
		tokens := make([]string, len(v))
		for i, item := range v {
			s, ok := item.(string)
			if !ok {
				return "", fmt.Errorf("item %d is %s, want a string", i+1, tomlTypeName(item))
			}
			tokens[i] = s
		}
		b, err := json.Marshal(tokens)
		return string(b), err
	case map[string]any:
		tokens := make(map[string]string, len(v))
		for name, item := range v {
			s, ok := item.(string)
			if !ok {
				return "", fmt.Errorf("token %q is %s, want a string", name, tomlTypeName(item))
			}
			tokens[name] = s
		}
		b, err := json.Marshal(tokens)
		return string(b), err
	}
	return "", fmt.Errorf("is %s, want a string, an array of strings or a table of strings", tomlTypeName(v))
}
