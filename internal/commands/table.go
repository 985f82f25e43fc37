// Package commands is the one table of web-services commands (SPEC §7). Each
// command has PaperCut's name, typed parameters (optional trailing ones
// allowed) and a handler; two transports serve it: XML-RPC at
// /rpc/api/xmlrpc (as api.camelCaseName, token first) and
// `ream server-command kebab-case-name args…`.
//
// To add commands, write a function returning []Command in its own file and
// list it in all() below.
package commands

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/reamprint/ream/internal/accounts"
	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/tasks"
)

// Kind is a parameter's type.
type Kind int

// Parameter kinds. Text arguments (the CLI, untyped XML-RPC values) are
// converted to the declared kind.
const (
	String Kind = iota
	Int
	Bool
	Amount     // exact decimal; an XML-RPC double with more than 6 decimal places is refused
	StringList // XML-RPC array of strings; on the CLI, comma separated
	Pairs      // XML-RPC array of [name, value] arrays; on the CLI, name=value words
	// Words is a last parameter taking the rest of the command line's
	// words; over XML-RPC, an array of strings.
	Words
)

func (k Kind) String() string {
	return [...]string{"string", "integer", "boolean", "amount", "list", "name=value list", "words"}[k]
}

// Param describes one parameter.
type Param struct {
	Name     string
	Kind     Kind
	Optional bool // only trailing parameters may be optional
}

// Command is one entry of the table.
type Command struct {
	Name    string // PaperCut's API name, e.g. "isUserExists"
	CLIName string // empty: derived from Name (see KebabName)
	Help    string
	Params  []Param
	NoToken bool // getTaskStatus takes no auth token
	// CLIOnly commands exist on server-command only; XML-RPC does not
	// offer them (set-config can change the API's own token).
	CLIOnly bool
	Run     func(ctx context.Context, env *Env, args Args) (any, error)
	// List is set on list methods (see listCommand): server-command
	// streams through it; ListAt is the index of its offset parameter.
	List   ListFunc
	ListAt int
}

// Env is what a command may use. Transports fill Actor.
type Env struct {
	Core     *core.Core
	Store    *store.Store
	Settings *settings.Settings
	Tasks    *tasks.Runner
	Actor    core.Actor
	// FromAPI is true over XML-RPC: a few commands are stricter there (file
	// paths confined to sync.allowed-roots, the config allow-list).
	FromAPI bool
	// Features are the services of optional features; nil (or a nil
	// field) makes their commands answer that they are not available.
	Features *Features
}

// Features are the services behind some commands, one typed field each,
// so that wiring a missing one is a compile error rather than a failed
// type assertion at run time.
type Features struct {
	Cards       *cards.Service
	AccountSync *accounts.Service
	// UserSync is an interface, not *usersync.Service: usersync's own
	// tests run this package's commands against it.
	UserSync UserSyncService
}

// Args are a command's converted arguments, in declared order.
type Args struct {
	cmd    *Command
	values []any
}

// Has reports whether optional argument i was given.
func (a Args) Has(i int) bool { return i < len(a.values) && a.values[i] != nil }

// Str returns argument i as a string ("" when absent).
func (a Args) Str(i int) string {
	if !a.Has(i) {
		return ""
	}
	return a.values[i].(string)
}

// Int returns argument i as an int (0 when absent).
func (a Args) Int(i int) int {
	if !a.Has(i) {
		return 0
	}
	return a.values[i].(int)
}

// Bool returns argument i (false when absent).
func (a Args) Bool(i int) bool {
	if !a.Has(i) {
		return false
	}
	return a.values[i].(bool)
}

// Amount returns argument i (zero when absent).
func (a Args) Amount(i int) money.Amount {
	if !a.Has(i) {
		return 0
	}
	return a.values[i].(money.Amount)
}

// List returns argument i as a string list.
func (a Args) List(i int) []string {
	if !a.Has(i) {
		return nil
	}
	return a.values[i].([]string)
}

// Pairs returns argument i as name/value pairs.
func (a Args) Pairs(i int) [][2]string {
	if !a.Has(i) {
		return nil
	}
	return a.values[i].([][2]string)
}

// Table is the set of commands, looked up by API or CLI name.
type Table struct {
	list  []Command
	byAPI map[string]*Command
	byCLI map[string]*Command
}

// NewTable builds the table of every command.
func NewTable() *Table { return newTable(all()) }

func newTable(cmds []Command) *Table {
	t := &Table{list: cmds, byAPI: map[string]*Command{}, byCLI: map[string]*Command{}}
	for i := range t.list {
		c := &t.list[i]
		if c.CLIName == "" {
			c.CLIName = KebabName(c.Name)
		}
		if _, dup := t.byAPI[c.Name]; dup {
			panic("commands: duplicate command " + c.Name)
		}
		t.byAPI[c.Name] = c
		t.byCLI[c.CLIName] = c
		seenOptional := false
		for j, p := range c.Params {
			if seenOptional && !p.Optional {
				panic("commands: " + c.Name + ": a required parameter follows an optional one")
			}
			seenOptional = seenOptional || p.Optional
			if p.Kind == Words && j != len(c.Params)-1 {
				panic("commands: " + c.Name + ": only the last parameter may take the rest of the words")
			}
		}
	}
	return t
}

// ByAPIName finds a command by its API name (without "api.").
func (t *Table) ByAPIName(name string) (*Command, bool) { c, ok := t.byAPI[name]; return c, ok }

// ByCLIName finds a command by its server-command verb.
func (t *Table) ByCLIName(name string) (*Command, bool) { c, ok := t.byCLI[name]; return c, ok }

// Commands lists every command sorted by API name.
func (t *Table) Commands() []Command {
	out := append([]Command(nil), t.list...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// KebabName turns an API name into its server-command verb:
// isUserExists → user-exists, lookUpUserNameByIDNo → look-up-user-name-by-id-no.
func KebabName(api string) string {
	if strings.HasPrefix(api, "is") && len(api) > 2 && unicode.IsUpper(rune(api[2])) {
		api = api[2:]
	}
	var b strings.Builder
	rs := []rune(api)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && !unicode.IsUpper(rs[i-1])
			acronymEnd := i > 0 && unicode.IsUpper(rs[i-1]) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if i > 0 && (prevLower || acronymEnd) {
				b.WriteByte('-')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Usage is the one-line signature of a command, for help and arity errors.
func (c *Command) Usage(cli bool) string {
	var parts []string
	for _, p := range c.Params {
		s := p.Name
		if p.Kind == Words && cli {
			s += " …"
		}
		if p.Optional {
			s = "[" + s + "]"
		}
		parts = append(parts, s)
	}
	if cli {
		return strings.TrimSpace(c.CLIName + " " + strings.Join(parts, " "))
	}
	return c.Name + "(" + strings.Join(parts, ", ") + ")"
}

// checkArity checks the number of arguments against the declaration.
func (c *Command) checkArity(n int, cli bool) error {
	required := 0
	for _, p := range c.Params {
		if !p.Optional {
			required++
		}
	}
	rest := cli && len(c.Params) > 0 && c.Params[len(c.Params)-1].Kind == Words
	if n < required || n > len(c.Params) && !rest {
		want := fmt.Sprintf("%d", required)
		if required != len(c.Params) {
			want = fmt.Sprintf("%d to %d", required, len(c.Params))
		}
		return core.Errorf(core.Invalid, "%s takes %s parameters, got %d: %s", c.Name, want, n, c.Usage(cli))
	}
	return nil
}

// all lists every command group. Later features add their group here.
func all() []Command {
	var out []Command
	for _, group := range [][]Command{
		userCommands(),
		listCommands(),
		accountSelectionCommands(),
		groupCommands(),
		accountCommands(),
		balanceCommands(),
		adminCommands(),
		taskCommands(),
		cardCommands(),
		internalUserCommands(),
		userSyncCommands(),
		accountSyncCommands(),
	} {
		out = append(out, group...)
	}
	return out
}
