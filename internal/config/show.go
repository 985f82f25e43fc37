package config

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// KeyInfo describes one configuration key, for `ream config show` and the
// configuration reference.
type KeyInfo struct {
	Name        string // dotted name, as in ream.toml
	Env         string // environment variable, e.g. REAM_DATABASE_URL
	Default     string // default value, as it would be written in ream.toml
	Description string
	Secret      bool   // never printed; Value says only whether it is set
	Value       string // current value as Show prints it, secrets hidden
	Source      string // "default", "file PATH:LINE", "env NAME" or "flag --NAME"
}

// Keys describes every configuration key with its value in c, secrets hidden.
func (c *Config) Keys() []KeyInfo {
	defaults := Default()
	infos := make([]KeyInfo, len(keys))
	for i := range keys {
		k := &keys[i]
		infos[i] = KeyInfo{
			Name:        k.name,
			Env:         envName(k.name),
			Default:     k.display(defaults),
			Description: k.description,
			Secret:      k.secret,
			Value:       k.display(c),
			Source:      c.Source(k.name),
		}
	}
	return infos
}

// Show prints the effective configuration as ream.toml lines, each with
// where its value came from; secrets are hidden.
func (c *Config) Show(w io.Writer) error {
	var b strings.Builder
	if c.file != "" {
		fmt.Fprintf(&b, "# Effective configuration; file: %s\n", c.file)
	} else {
		b.WriteString("# Effective configuration; no configuration file\n")
	}
	for _, info := range c.Keys() {
		fmt.Fprintf(&b, "%s = %s  # %s\n", info.Name, info.Value, info.Source)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("config: unable to show the configuration: %w", err)
	}
	return nil
}

// WriteReference prints the configuration reference as a Markdown table.
func WriteReference(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| Key | Environment | Default | Description |\n|---|---|---|---|\n")
	for _, info := range Default().Keys() {
		def := "`" + info.Default + "`"
		if info.Secret {
			def = "(not set)"
		}
		desc := info.Description
		if info.Secret {
			desc += " Secret: never shown by `ream config show`."
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", info.Name, info.Env, markdownCell(def), markdownCell(desc))
	}
	fmt.Fprintf(&b, "\nThe file is `%s` in the working directory, else in the data directory; `--config FILE` or `%s` names another. "+
		"Flags win over the environment, which wins over the file. Flags: `--config`, `--data-dir`, `--listen`, `--database-url`, "+
		"and `--set KEY=VALUE` for any key that is not a secret.\n", FileName, ConfigEnv)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("config: unable to write the reference: %w", err)
	}
	return nil
}

func markdownCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

// display renders a key's value for Show, hiding secrets.
func (k *key) display(c *Config) string {
	switch {
	case k.redact != nil:
		return k.redact(c)
	case k.secret && k.get(c) == "":
		return "(not set)"
	case k.secret:
		return "(set)"
	}
	switch v := k.get(c).(type) {
	case bool:
		return strconv.FormatBool(v)
	case time.Duration:
		return strconv.Quote(formatDuration(v))
	case []string:
		quoted := make([]string, len(v))
		for i, item := range v {
			quoted[i] = strconv.Quote(item)
		}
		return "[" + strings.Join(quoted, ", ") + "]"
	case string:
		return strconv.Quote(v)
	default:
		return fmt.Sprint(v)
	}
}

// formatDuration writes 12h rather than Go's 12h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// redactURL hides the password of a database URL, in the user information
// and in password= and sslpassword= query parameters.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(set, not a valid URL)"
	}
	q := u.Query()
	redacted := false
	for _, name := range []string{"password", "sslpassword"} {
		if q.Has(name) {
			q.Set(name, "xxxxx")
			redacted = true
		}
	}
	if redacted {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
