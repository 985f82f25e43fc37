package commands_test

import (
	"os"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/core"
)

// docs/api.md is the table of every method and property with its state;
// a command or property added without a line there fails here.
func TestAPIDocListsEveryMethodAndProperty(t *testing.T) {
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, c := range commands.NewTable().Commands() {
		if !strings.Contains(doc, "| `"+c.Name+"(") || !strings.Contains(doc, "| `"+c.CLIName+"` |") {
			t.Errorf("docs/api.md has no line for %s (%s)", c.Name, c.CLIName)
		}
	}
	for _, p := range core.UserPropertyNames() {
		if !strings.Contains(doc, "`"+p+"`") {
			t.Errorf("docs/api.md does not list the user property %s", p)
		}
	}
	for _, p := range core.AccountPropertyNames {
		if !strings.Contains(doc, "`"+p+"`") {
			t.Errorf("docs/api.md does not list the shared account property %s", p)
		}
	}
	if !strings.Contains(doc, "maximum limit of every list method is 10,000") || commands.MaxListLimit != 10000 {
		t.Error("docs/api.md does not state the list maximum, or it changed")
	}
}
