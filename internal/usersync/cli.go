package usersync

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/reamprint/ream/internal/core"
)

// CLI exit statuses beyond 0 (done) and 1 (failed).
const (
	ExitUsage   = 2
	ExitRefused = 3 // stopped at the delete limit; repeat with --confirm-delete N
)

// RunCLI runs `ream users sync [--test] [--delete-missing] [--confirm-delete N]`
// (args start after "sync"): the sync with the remembered options, a
// progress bar on stderr, and the report on stdout.
func RunCLI(ctx context.Context, svc *Service, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ream users sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	test := fs.Bool("test", false, "show what the sync would do and write nothing")
	deleteMissing := fs.Bool("delete-missing", false, "delete users of this source that it no longer has (this run only)")
	confirm := fs.Int("confirm-delete", 0, "go ahead with this many deletions when they exceed the delete limit")
	noUpdate := fs.Bool("no-update", false, "do not change details of existing users in this run")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ream users sync [--test] [--delete-missing] [--confirm-delete N] [--no-update]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ream users sync: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return ExitUsage
	}
	if *confirm < 0 {
		fmt.Fprintln(stderr, "ream users sync: --confirm-delete must not be negative")
		return ExitUsage
	}
	opts := svc.OptionsFromSettings(ctx)
	opts.DeleteMissing, opts.ConfirmDelete = *deleteMissing, *confirm
	if *noUpdate {
		opts.UpdateDetails = false
	}
	bar := &progressBar{w: stderr}
	out, err := svc.Run(ctx, core.CLI, opts, *test, bar.show)
	bar.end()
	if out != nil && out.Plan != nil {
		fmt.Fprint(stdout, out.Plan.Report())
	}
	var refused *DeleteLimitError
	switch {
	case errors.As(err, &refused):
		fmt.Fprintf(stderr, "ream users sync: %s\n", refused.Reason)
		return ExitRefused
	case err != nil:
		msg := err.Error()
		if e, ok := core.AsError(err); ok {
			msg = e.Msg
		}
		fmt.Fprintf(stderr, "ream users sync: %s\n", msg)
		return 1
	}
	fmt.Fprintln(stdout, out.Run.Message)
	return 0
}

// progressBar draws one line, redrawn in place with a carriage return.
type progressBar struct {
	w     io.Writer
	last  string
	drawn bool
}

const barWidth = 30

func (b *progressBar) show(stage string, done, total int) {
	var line string
	switch {
	case total > 0:
		filled := barWidth * done / total
		line = fmt.Sprintf("[%s%s] %3d%% %s %d/%d", strings.Repeat("#", filled), strings.Repeat(" ", barWidth-filled),
			100*done/total, stage, done, total)
	case done > 0:
		line = fmt.Sprintf("%s: %d", stage, done)
	default:
		line = stage + "…"
	}
	if line == b.last {
		return
	}
	pad := ""
	if n := len(b.last) - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(b.w, "\r%s%s", line, pad)
	b.last, b.drawn = line, true
}

func (b *progressBar) end() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
