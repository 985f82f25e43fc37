package config

import (
	"strings"
	"testing"
)

func FuzzParseTokens(f *testing.F) {
	for _, seed := range []string{"", "tok", `["a","b"]`, `{"x":"y"}`, `[1]`, `{"x":`, "[", "{", ` ["\u0000"]`, "tok\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tokens, err := parseTokens(s)
		if err != nil {
			if tokens != nil {
				t.Errorf("%q: tokens %q with error %v", s, tokens, err)
			}
			return
		}
		for _, tok := range tokens {
			if checkToken(tok) != nil {
				t.Errorf("%q: accepted bad token %q", s, tok)
			}
		}
		trimmed := strings.TrimSpace(s)
		if trimmed != "" && !strings.HasPrefix(trimmed, "[") && !strings.HasPrefix(trimmed, "{") {
			if len(tokens) != 1 || tokens[0] != trimmed {
				t.Errorf("%q: single token read as %q", s, tokens)
			}
		}
	})
}

// FuzzKeyValue feeds every key arbitrary text, as REAM_… and --set do. A
// value that is accepted must print and read back to the same value.
func FuzzKeyValue(f *testing.F) {
	for i := range keys {
		f.Add(uint8(i), keys[i].name)
		f.Add(uint8(i), textOf(&keys[i], Default()))
	}
	for _, seed := range []string{"", ":0", "[::1]:443", "12h", "-5s", "1e9h", "true", "10.0.0.0/8,::1", "/a,,/b", "postgres://u:p@h/d", "AUTO", "Debug"} {
		f.Add(uint8(0), seed)
	}
	f.Fuzz(func(t *testing.T, index uint8, value string) {
		k := &keys[int(index)%len(keys)]
		c := Default()
		if err := k.set(c, value); err != nil {
			if strings.Contains(err.Error(), value) && k.secret && len(value) > 3 {
				t.Errorf("%s: error %q shows the secret", k.name, err)
			}
			return
		}
		_ = k.display(c) // must not panic
		text := textOf(k, c)
		again := Default()
		if err := k.set(again, text); err != nil {
			t.Fatalf("%s: %q accepted, but its text %q is refused: %v", k.name, value, text, err)
		}
		if got := textOf(k, again); got != text {
			t.Errorf("%s: %q → %q → %q", k.name, value, text, got)
		}
	})
}

// textOf writes a key's value in the text form that set reads.
func textOf(k *key, c *Config) string {
	switch v := k.get(c).(type) {
	case []string:
		return strings.Join(v, ",")
	case string:
		return v
	default:
		return strings.Trim(k.display(c), `"`)
	}
}

// FuzzFile feeds arbitrary ream.toml text: it must be applied or refused
// with an error naming the file, never panic.
func FuzzFile(f *testing.F) {
	for _, seed := range []string{
		"listen = \":1\"\n",
		"[auth.webservices]\nauth-token = {a = \"b\"}\nallowed-addresses = [\"::1\"]\n",
		"[sync]\nallowed-roots = [\"/a\", 1]\n",
		"[\"a,b\".\"c\\\"d\"]\nx = 1\n",
		"[[log]]\nlevel = 1\n",
		"data_dir = 2020-01-01\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c := Default()
		c.sources = map[string]string{}
		if err := c.applyFile("ream.toml", text); err != nil && !strings.Contains(err.Error(), "ream.toml") {
			t.Errorf("error %q does not name the file", err)
		}
	})
}
