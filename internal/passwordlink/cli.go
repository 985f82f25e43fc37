package passwordlink

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/reamprint/ream/internal/core"
)

const cliUsage = `usage: ream password-links send (--group GROUP | --users NAME,NAME…) [--all] [--yes]

Emails a set-password link to each chosen internal user (Groups > Bulk User
Actions > Email a set-password link): by default only to those who have no
password in Ream yet, as a move from PaperCut leaves them; with --all to
every internal user chosen. Directory users are skipped. Without --yes it
only says who would get a link. The mail waits in the outbox for the
running server's mail worker.
`

// RunCLI runs `ream password-links …` and returns the exit code: 0 done,
// 1 failed, 2 bad usage.
func RunCLI(ctx context.Context, svc *Service, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "send" {
		fmt.Fprint(stderr, cliUsage)
		return 2
	}
	fs := flag.NewFlagSet("ream password-links send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, cliUsage) }
	group := fs.String("group", "", "members of this group (or [All Users], !!Internal Users!!)")
	users := fs.String("users", "", "comma-separated usernames")
	all := fs.Bool("all", false, "also internal users who already have a password")
	yes := fs.Bool("yes", false, "send without asking")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ream password-links send: unexpected argument %q\n%s", fs.Arg(0), cliUsage)
		return 2
	}
	sel := Selection{Group: *group, OnlyWithoutPasswd: !*all}
	if *users != "" {
		sel.Users = strings.Split(*users, ",")
	}
	run := svc.PreviewSetLinks
	if *yes {
		run = svc.SendSetLinks
	}
	res, err := run(ctx, core.CLI, sel)
	if err != nil {
		fmt.Fprintln(stderr, "ream password-links send:", err)
		if ce, ok := core.AsError(err); ok && ce.Code == core.Invalid {
			return 2
		}
		return 1
	}
	if !*yes {
		fmt.Fprintf(stdout, "%d of %d selected users would be emailed a set-password link.\n", res.Sent, res.Selected)
	} else {
		fmt.Fprintln(stdout, res.Summary())
	}
	for _, l := range []struct {
		what  string
		names []string
	}{
		{"Skipped, they have a password", res.HasPassword}, {"Skipped, directory users", res.NotInternal},
		{"Skipped, no usable email address", res.NoEmail}, {"Not found", res.Missing},
	} {
		if len(l.names) > 0 {
			fmt.Fprintf(stdout, "%s: %s\n", l.what, strings.Join(l.names, ", "))
		}
	}
	if !*yes {
		fmt.Fprintln(stdout, "Nothing sent. Run again with --yes to send.")
	}
	return 0
}
