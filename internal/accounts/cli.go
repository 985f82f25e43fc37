package accounts

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/reamprint/ream/internal/core"
)

// CLI exit statuses beyond 0 (done) and 1 (failed).
const (
	ExitUsage   = 2
	ExitRefused = 3 // stopped before changing anything: skipped lines or the delete limit
)

// RunCLI runs `ream accounts sync [--test] [--delete-missing]
// [--confirm-delete N] [--json]` (args start after "sync") with the saved
// source, or one given with --file / --directory: a progress bar on stderr
// when it is a terminal, the report on stdout (as JSON with --json).
func RunCLI(ctx context.Context, svc *Service, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ream accounts sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	test := fs.Bool("test", false, "show what the sync would do and write nothing")
	deleteMissing := fs.Bool("delete-missing", false, "delete source-managed accounts the source no longer has (this run only)")
	confirm := fs.Int("confirm-delete", 0, "go ahead with exactly this many deletions when they exceed the delete limit")
	asJSON := fs.Bool("json", false, "print the whole report as JSON")
	file := fs.String("file", "", "read this text file instead of the saved source")
	dir := fs.String("directory", "", "scan this directory instead of the saved source")
	subs := fs.Bool("subdirectories", false, "with --directory: treat subdirectories as sub-accounts")
	usage := "usage: ream accounts sync [--test] [--delete-missing] [--confirm-delete N] [--json] [--file PATH | --directory PATH [--subdirectories]]"
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return ExitUsage
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "ream accounts sync: unexpected argument %q\n%s\n", fs.Arg(0), usage)
		return ExitUsage
	case *confirm < 0:
		fmt.Fprintln(stderr, "ream accounts sync: --confirm-delete must not be negative")
		return ExitUsage
	case *file != "" && *dir != "":
		fmt.Fprintln(stderr, "ream accounts sync: give --file or --directory, not both")
		return ExitUsage
	}
	opts := svc.Settings(ctx).Options()
	switch {
	case *file != "":
		opts = Options{Source: SourceFile, Location: *file}
	case *dir != "":
		opts = Options{Source: SourceDirectory, Location: *dir, SubAccounts: *subs}
	}
	opts.DeleteMissing, opts.ConfirmDelete = *deleteMissing, *confirm
	var bar *progressBar
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = &progressBar{w: stderr}
		opts.Progress = bar.show
	}
	var r *Report
	var err error
	if *test {
		r, err = svc.Test(ctx, core.CLI, opts)
	} else {
		r, err = svc.Run(ctx, core.CLI, opts)
	}
	bar.end()
	if err != nil {
		msg := err.Error()
		if e, ok := core.AsError(err); ok {
			msg = e.Msg
		}
		fmt.Fprintf(stderr, "ream accounts sync: %s\n", msg)
		return 1
	}
	if *asJSON {
		data, err := r.JSON()
		if err != nil {
			fmt.Fprintf(stderr, "ream accounts sync: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", data)
	} else {
		fmt.Fprint(stdout, r.Text())
	}
	switch r.Status {
	case StatusFailed:
		fmt.Fprintf(stderr, "ream accounts sync: %s\n", r.Message)
		return 1
	case StatusRefused:
		fmt.Fprintf(stderr, "ream accounts sync: %s\n", r.Message)
		return ExitRefused
	}
	return 0
}

// progressBar draws one line on a terminal, redrawn in place. The run calls
// show from its own goroutines, never two at once for one phase.
type progressBar struct {
	w    io.Writer
	last int
}

func (b *progressBar) show(p Progress) {
	line := p.String()
	if p.Phase == PhaseApplying && p.Total > 0 {
		const width = 30
		filled := p.Done * width / p.Total
		line = fmt.Sprintf("[%s%s] %3d%% %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.Done*100/p.Total, line)
	}
	pad := max(b.last-len(line), 0)
	fmt.Fprintf(b.w, "\r%s%s", line, strings.Repeat(" ", pad))
	b.last = len(line)
}

func (b *progressBar) end() {
	if b != nil && b.last > 0 {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", b.last))
	}
}
