package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// FileName is the configuration file Ream looks for when none is given: first
// in the working directory, then in the data directory.
const FileName = "ream.toml"

// ConfigEnv names the configuration file through the environment, like --config.
const ConfigEnv = "REAM_CONFIG"

// assignment is one value given outside the file: an environment variable or a flag.
type assignment struct {
	origin string // what the user typed: "REAM_LISTEN", "--listen", "--set log.level"
	source string // what Show prints: "env REAM_LISTEN", "flag --listen"
	key    *key
	value  string
}

// Load builds the effective configuration: defaults, then the file, then the
// environment (entries "NAME=value"), then the flags in args. The file is
// the one named by --config, else path, else REAM_CONFIG, else ./ream.toml or
// <data-dir>/ream.toml if one exists; only a named file must exist. Flag parsing stops at the first
// argument that is not a flag (or after "--"); those arguments are returned.
// Every problem found is reported, each naming its key and where it came from.
func Load(path string, env []string, args []string) (*Config, []string, error) {
	flagFile, flagValues, rest, err := parseFlags(args)
	if err != nil {
		return nil, nil, err
	}
	envFile, envValues := parseEnv(env)

	explicit := true
	switch {
	case flagFile != "":
		path = flagFile
	case path != "":
	case envFile != "":
		path = envFile
	default:
		explicit = false
	}
	if !explicit {
		path = findDefaultFile(dataDirHint(envValues, flagValues))
	}

	c := Default()
	c.sources = make(map[string]string)
	var errs []error
	if path != "" {
		err := c.loadFile(path)
		switch {
		case !explicit && errors.Is(err, fs.ErrNotExist):
			// The default file vanished between looking and reading: same as no file.
		case err != nil:
			errs = append(errs, err)
		default:
			c.file = path
		}
	}
	for _, values := range [][]assignment{envValues, flagValues} {
		for _, a := range values {
			if err := a.key.set(c, a.value); err != nil {
				errs = append(errs, fmt.Errorf("config: %s: %w", a.origin, err))
				continue
			}
			c.sources[a.key.name] = a.source
		}
	}
	if len(errs) == 0 {
		errs = append(errs, c.checkTogether()...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return c, rest, nil
}

// checkTogether checks rules that span several keys.
func (c *Config) checkTogether() []error {
	var errs []error
	if (c.HTTPS.CertFile == "") != (c.HTTPS.KeyFile == "") {
		set, unset := "https.cert-file", "https.key-file"
		if c.HTTPS.CertFile == "" {
			set, unset = unset, set
		}
		errs = append(errs, fmt.Errorf("config: %s is set (%s) but %s is not; give both or neither", set, c.Source(set), unset))
	}
	if c.HTTPS.Listen != "" && c.HTTPS.Listen == c.Listen {
		errs = append(errs, fmt.Errorf("config: listen (%s) and https.listen (%s) are both %q", c.Source("listen"), c.Source("https.listen"), c.Listen))
	}
	return errs
}

// globalFlags are the flags Load understands; key is the configuration key a
// flag sets, if it is a shorthand for one.
var globalFlags = []struct{ name, key, usage string }{
	{"config", "", "read the configuration from `FILE` (default ./ream.toml, then <data-dir>/ream.toml)"},
	{"data-dir", "data-dir", "data directory (`DIR`)"},
	{"listen", "listen", "HTTP listen `ADDRESS`, e.g. :9191"},
	{"database-url", "database.url", "database `URL`: empty for SQLite, or postgres://…"},
	{"set", "", "set any configuration `KEY=VALUE`; repeatable"},
}

// newFlagSet declares the global flags; record receives each flag as it is
// parsed, so repeated and interleaved flags keep their order.
func newFlagSet(record func(flagName, value string)) *flag.FlagSet {
	fs := flag.NewFlagSet("ream", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, f := range globalFlags {
		name := f.name
		fs.Func(name, f.usage, func(v string) error { record(name, v); return nil })
	}
	return fs
}

// WriteFlagUsage prints the global flags that Load understands.
func WriteFlagUsage(w io.Writer) {
	fs := newFlagSet(func(string, string) {})
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseFlags reads the global flags. Values are checked later by the keys,
// so that errors are worded like the other sources and never echo a secret.
func parseFlags(args []string) (configFile string, values []assignment, rest []string, err error) {
	var errs []error
	fs := newFlagSet(func(name, v string) {
		switch name {
		case "config":
			configFile = v
		case "set":
			a, err := parseSetFlag(v)
			if err != nil {
				errs = append(errs, err)
				return
			}
			values = append(values, a)
		default:
			k := flagKey(name)
			values = append(values, assignment{origin: "--" + name, source: "flag --" + name, key: k, value: v})
		}
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", nil, nil, flag.ErrHelp
		}
		return "", nil, nil, fmt.Errorf("config: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return "", nil, nil, err
	}
	return configFile, values, fs.Args(), nil
}

// flagKey is the key behind a shorthand flag such as --listen.
func flagKey(flagName string) *key {
	for _, f := range globalFlags {
		if f.name == flagName {
			k, _ := lookupKey(f.key)
			return k
		}
	}
	return nil
}

func parseSetFlag(v string) (assignment, error) {
	name, value, ok := strings.Cut(v, "=")
	name = strings.TrimSpace(name)
	if !ok {
		return assignment{}, fmt.Errorf("config: --set %s: want KEY=VALUE", name)
	}
	k, found := lookupKey(name)
	switch {
	case !found:
		return assignment{}, fmt.Errorf("config: --set %s: unknown key%s", name, suggestKey(name))
	case k.secret:
		return assignment{}, fmt.Errorf("config: --set %s: a secret cannot be given on the command line, where other users can see it; use %s or the configuration file", name, envName(name))
	}
	return assignment{origin: "--set " + name, source: "flag --set " + name, key: k, value: value}, nil
}

// parseEnv picks Ream's variables out of env. Like os.Getenv, the first of
// duplicate entries wins. Unknown REAM_ variables are left alone: tests and
// scripts use their own.
func parseEnv(env []string) (configFile string, values []assignment) {
	seen := make(map[string]string)
	for _, entry := range env {
		name, value, ok := strings.Cut(entry, "=")
		if !ok || !strings.HasPrefix(name, "REAM_") {
			continue
		}
		if _, dup := seen[name]; !dup {
			seen[name] = value
		}
	}
	for i := range keys {
		name := envName(keys[i].name)
		if value, ok := seen[name]; ok {
			values = append(values, assignment{origin: name, source: "env " + name, key: &keys[i], value: value})
		}
	}
	return seen[ConfigEnv], values
}

// dataDirHint is the data directory to search for ream.toml: the file cannot
// be consulted for it, so flags, then the environment, then the default.
func dataDirHint(envValues, flagValues []assignment) string {
	dir := Default().DataDir
	for _, values := range [][]assignment{envValues, flagValues} {
		for _, a := range values {
			if a.key.name == "data-dir" && a.value != "" {
				dir = a.value
			}
		}
	}
	return dir
}

func findDefaultFile(dataDir string) string {
	for _, candidate := range []string{FileName, filepath.Join(dataDir, FileName)} {
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
	}
	return ""
}

// loadFile applies a ream.toml file. Unknown keys are errors: a misspelt key
// silently ignored is a setting the administrator believes is in force.
func (c *Config) loadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: unable to read %s: %w", path, err)
	}
	return c.applyFile(path, string(data))
}

// applyFile applies the text of a configuration file read from path.
func (c *Config) applyFile(path, text string) error {
	var raw map[string]any
	md, err := toml.Decode(text, &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("config: %s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		return fmt.Errorf("config: %s: %w", path, err)
	}
	var errs []error
	var unknownSections []string
	for _, tk := range md.Keys() {
		name := tk.String()
		if underLeafKey(name) || slices.ContainsFunc(unknownSections, func(s string) bool { return strings.HasPrefix(name, s+".") }) {
			continue
		}
		k, known := lookupKey(name)
		switch {
		case known:
		case md.Type(tk...) == "Hash" && isSection(name):
			continue
		case md.Type(tk...) == "Hash":
			unknownSections = append(unknownSections, name)
			errs = append(errs, fmt.Errorf("config: %s: unknown section %q", filePos(path, text, tk), name))
			continue
		default:
			errs = append(errs, fmt.Errorf("config: %s: unknown key %q%s", filePos(path, text, tk), name, suggestKey(name)))
			continue
		}
		if err := applyFileValue(c, k, valueAt(raw, tk)); err != nil {
			errs = append(errs, fmt.Errorf("config: %s: %s: %w", filePos(path, text, tk), name, err))
			continue
		}
		c.sources[name] = "file " + filePos(path, text, tk)
	}
	return errors.Join(errs...)
}

func applyFileValue(c *Config, k *key, v any) error {
	if s, ok := v.(string); ok {
		return k.set(c, s)
	}
	switch k.get(c).(type) {
	case bool:
		if b, ok := v.(bool); ok {
			return k.set(c, strconv.FormatBool(b))
		}
	case []string:
		if list, ok := v.([]any); ok {
			items := make([]string, len(list))
			for i, item := range list {
				s, ok := item.(string)
				if !ok {
					return fmt.Errorf("item %d is %s, want a string", i+1, tomlTypeName(item))
				}
				items[i] = s
			}
			return k.setList(c, items)
		}
		return fmt.Errorf("is %s, want an array of strings", tomlTypeName(v))
	}
	if k.fileText != nil {
		s, err := k.fileText(v)
		if err != nil {
			return err
		}
		return k.set(c, s)
	}
	return fmt.Errorf("is %s, want %s", tomlTypeName(v), tomlTypeName(k.get(Default())))
}

// underLeafKey reports whether name is inside a key's own value, such as a
// table of named tokens.
func underLeafKey(name string) bool {
	for i := range keys {
		if strings.HasPrefix(name, keys[i].name+".") {
			return true
		}
	}
	return false
}

// isSection reports whether name is a table that holds known keys.
func isSection(name string) bool {
	for i := range keys {
		if strings.HasPrefix(keys[i].name, name+".") {
			return true
		}
	}
	return false
}

func valueAt(raw map[string]any, tk toml.Key) any {
	var v any = raw
	for _, part := range tk {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

// suggestKey offers the known key a misspelt one most likely meant: same
// last part, ignoring case and "_" for "-".
func suggestKey(name string) string {
	norm := func(s string) string {
		s = strings.ToLower(strings.ReplaceAll(s, "_", "-"))
		return s[strings.LastIndex(s, ".")+1:]
	}
	for i := range keys {
		if norm(keys[i].name) == norm(name) && keys[i].name != name {
			return fmt.Sprintf(" (did you mean %s?)", keys[i].name)
		}
	}
	return ""
}

// filePos is "PATH:LINE", or just PATH when the line cannot be found.
func filePos(path, text string, tk toml.Key) string {
	if line := lineOf(text, tk); line > 0 {
		return fmt.Sprintf("%s:%d", path, line)
	}
	return path
}

// lineProbe fails as soon as the decoder reaches it, and the decoder's error
// carries the line of the key being decoded: the toml package keeps key
// positions private, and this is the way to read them.
type lineProbe struct{}

var errLineProbe = errors.New("line probe")

func (lineProbe) UnmarshalTOML(any) error { return errLineProbe }

// lineOf finds the line of a key by decoding into a struct shaped like its
// path, with a lineProbe at the end.
func lineOf(text string, tk toml.Key) int {
	t := reflect.TypeFor[lineProbe]()
	for i := len(tk) - 1; i >= 0; i-- {
		if strings.ContainsAny(tk[i], ",\"") {
			return 0 // cannot be written as a struct tag name
		}
		t = reflect.StructOf([]reflect.StructField{{
			Name: "F",
			Type: t,
			Tag:  reflect.StructTag(`toml:"` + tk[i] + `"`),
		}})
	}
	_, err := toml.Decode(text, reflect.New(t).Interface())
	var pe toml.ParseError
	if errors.As(err, &pe) && pe.Message == errLineProbe.Error() {
		return pe.Position.Line
	}
	return 0
}

func tomlTypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case []string:
		return "an array of strings"
	case nil:
		return "nothing"
	default:
		return "a date or time"
	}
}
