package auth

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.mau.fi/util/confusable"
	"golang.org/x/text/unicode/norm"
)

// BuiltInAdmin is the name of the built-in administrator. No user may be
// called that, nor anything that looks like it (SPEC §1: the one account that
// always has every right must never be confused with a person's).
const BuiltInAdmin = "admin"

// MaxCombiningRun is the most combining marks allowed on one character.
// Vietnamese stacks two (ệ), Thai a vowel and a tone mark; more is a way to
// draw over neighbouring characters, not a name.
const MaxCombiningRun = 3

// The look-alike rules checked by CheckUsernameLooks and CheckNotConfusable.
const (
	RuleReserved    PolicyRule = "reserved"
	RuleMixedScript PolicyRule = "mixed-script"
	RuleCombining   PolicyRule = "combining-marks"
	RuleConfusable  PolicyRule = "confusable"
)

// UsernameSkeleton is the UTS #39 skeleton of a normalized username: two
// names with the same skeleton look alike ("admin", "аdmin" with a Cyrillic
// а, "adrnin"). It is for comparing, never for showing. ASCII names, nearly
// every name a directory has, take a fast path through the same mapping.
func UsernameSkeleton(name string) string {
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		return confusable.Skeleton(name)
	}
	var b strings.Builder
	b.Grow(len(name) + 4)
	for i := 0; i < len(name); i++ {
		b.WriteString(asciiSkeleton[name[i]])
	}
	return b.String()
}

// asciiSkeleton maps each ASCII byte to its skeleton ("m" → "rn", "1" → "l").
var asciiSkeleton = func() (t [utf8.RuneSelf]string) {
	for c := range t {
		t[c] = confusable.Skeleton(string(rune(c)))
	}
	return t
}()

var adminSkeleton = UsernameSkeleton(BuiltInAdmin)

// CheckUsernameLooks refuses a normalized username that could pass for
// another: the built-in admin's name or a look-alike of it, a name mixing
// scripts (Latin with Cyrillic, say) beyond the combinations a language
// writes with (UTS #39 "highly restrictive": Han with Hiragana and Katakana,
// with Bopomofo, or with Hangul, each also with Latin), and runs of more
// than MaxCombiningRun combining marks. Accented names (josé, zoë) pass.
func CheckUsernameLooks(name string) error {
	if UsernameSkeleton(name) == adminSkeleton {
		return usernameError(RuleReserved, fmt.Sprintf("The username %q is reserved for the built-in administrator (or looks like it).", BuiltInAdmin))
	}
	run := 0
	for _, r := range norm.NFD.String(name) {
		if unicode.In(r, unicode.Mn, unicode.Me) {
			if run++; run > MaxCombiningRun {
				return usernameError(RuleCombining, fmt.Sprintf("The username stacks more than %d accents or other combining marks on one character.", MaxCombiningRun))
			}
		} else {
			run = 0
		}
	}
	if scripts := nameScripts(name); !allowedScriptMix(scripts) {
		return usernameError(RuleMixedScript, fmt.Sprintf("The username mixes the %s scripts, so it could pass for a different name; use one script.", strings.Join(scripts, " and ")))
	}
	return nil
}

// CheckNotConfusable refuses a new name whose skeleton is that of an existing
// user (other, as stored): "This looks too much like the user …".
func CheckNotConfusable(name, other string) error {
	if other == "" || other == name {
		return nil
	}
	return usernameError(RuleConfusable, fmt.Sprintf("The username %q looks too much like the existing user %q; choose another.", name, other))
}

// scriptTables lists the scripts a name can be written in, without Common
// (digits, punctuation) and Inherited (combining marks), which go with any.
var scriptTables = func() map[string]*unicode.RangeTable {
	m := make(map[string]*unicode.RangeTable, len(unicode.Scripts))
	for name, t := range unicode.Scripts {
		if name != "Common" && name != "Inherited" {
			m[name] = t
		}
	}
	return m
}()

// nameScripts returns the scripts of a name's letters, in order of first use.
func nameScripts(name string) []string {
	var out []string
	seen := func(s string) bool {
		for _, o := range out {
			if o == s {
				return true
			}
		}
		return false
	}
	for _, r := range name {
		var script string
		switch {
		case r < utf8.RuneSelf:
			if ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
				script = "Latin"
			}
		default:
			for s, t := range scriptTables {
				if unicode.Is(t, r) {
					script = s
					break
				}
			}
		}
		if script != "" && !seen(script) {
			out = append(out, script)
		}
	}
	return out
}

// scriptMixes are the sets of scripts one writing system uses together.
var scriptMixes = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

func allowedScriptMix(scripts []string) bool {
	if len(scripts) <= 1 {
		return true
	}
	for _, mix := range scriptMixes {
		all := true
		for _, s := range scripts {
			if !contains(mix, s) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
