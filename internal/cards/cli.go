package cards

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
)

// CLIActor is who CLI changes are recorded as in the audit log.
var CLIActor = core.Actor{Name: "ream cards", Kind: model.ActorCLI, AllAccounts: true}

const cliUsage = `usage: ream cards generate (--group GROUP | --users NAME,NAME…) [--only-blank] [--yes]

Gives the chosen users new random primary Card/ID numbers (Bulk User Actions),
in one transaction, with the generator settings of Options > Card/ID numbers.
Without --yes it only says how many users would be changed.
`

// RunCLI runs `ream cards …` and returns the exit code: 0 done, 1 failed,
// 2 bad usage.
func RunCLI(ctx context.Context, svc *Service, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "generate" {
		fmt.Fprint(stderr, cliUsage)
		return 2
	}
	fs := flag.NewFlagSet("ream cards generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, cliUsage) }
	group := fs.String("group", "", "members of this group (or [All Users])")
	users := fs.String("users", "", "comma-separated usernames")
	onlyBlank := fs.Bool("only-blank", false, "only users without a primary number")
	yes := fs.Bool("yes", false, "apply without asking")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ream cards generate: unexpected argument %q\n%s", fs.Arg(0), cliUsage)
		return 2
	}
	sel := Selection{Group: *group, OnlyBlank: *onlyBlank}
	if *users != "" {
		sel.Users = strings.Split(*users, ",")
	}
	if err := sel.Validate(); err != nil {
		fmt.Fprintf(stderr, "ream cards generate: %v\n%s", err, cliUsage)
		return 2
	}
	preview, err := svc.PreviewBulk(ctx, sel)
	if err != nil {
		fmt.Fprintln(stderr, "ream cards generate:", err)
		return 1
	}
	if len(preview.Missing) > 0 {
		fmt.Fprintf(stdout, "Not found (skipped): %s\n", listSome(preview.Missing, 20))
	}
	fmt.Fprintf(stdout, "%d users will be changed (%d selected, %s).\n", preview.WillChange, preview.Selected, sel.Describe())
	if !*yes {
		fmt.Fprintln(stdout, "Nothing changed. Run again with --yes to apply.")
		return 0
	}
	bar := &progressBar{w: stderr}
	res, err := svc.BulkGenerate(ctx, CLIActor, sel, bar.update)
	bar.finish()
	if err != nil {
		fmt.Fprintln(stderr, "ream cards generate:", err)
		return 1
	}
	fmt.Fprintln(stdout, res.Summary())
	if len(res.NoEmail) > 0 {
		fmt.Fprintf(stdout, "Not notified (no usable email address): %s\n", listSome(res.NoEmail, 50))
	}
	return 0
}

// progressBar draws "[#####-----]  50% 50000/100000" on one line.
type progressBar struct {
	w     io.Writer
	drawn bool
	last  int
}

// finish ends the bar's line, if one was drawn.
func (b *progressBar) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

func (b *progressBar) update(done, total int) {
	if total <= 0 {
		return
	}
	pct := done * 100 / total
	if b.drawn && pct == b.last && done != total {
		return
	}
	const width = 30
	filled := done * width / total
	fmt.Fprintf(b.w, "\r[%s%s] %3d%% %d/%d", strings.Repeat("#", filled), strings.Repeat("-", width-filled), pct, done, total)
	b.drawn, b.last = true, pct
}
