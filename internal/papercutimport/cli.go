package papercutimport

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/store"
)

// TokenEnv is the environment variable the token may come from instead of a file.
const TokenEnv = "REAM_PAPERCUT_TOKEN"

const usage = "usage: ream import-papercut --url URL (--token-file FILE | REAM_PAPERCUT_TOKEN=…) [--dry-run] [--only users,groups,accounts] [--ca-file FILE | --insecure-skip-verify] [--concurrency 4] [--details]"

// RunCLI runs `ream import-papercut` (args after the command word). The
// token never comes from the command line, where the process list shows it.
// Progress goes to stderr (a bar on a terminal, plain lines otherwise), the
// report to stdout.
func RunCLI(ctx context.Context, st *store.Store, args, environ []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ream import-papercut", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := fs.String("url", "", "the PaperCut server's web-services address, e.g. https://papercut.example:9192/rpc/api/xmlrpc")
	tokenFile := fs.String("token-file", "", "file holding the web-services auth token (or set "+TokenEnv+")")
	dry := fs.Bool("dry-run", false, "read everything and show what would change; write nothing")
	only := fs.String("only", "", "import only these parts: users, groups, accounts (comma separated)")
	caFile := fs.String("ca-file", "", "PEM file of the CA that signed the server's certificate")
	insecure := fs.Bool("insecure-skip-verify", false, "trust any certificate (testing only)")
	conc := fs.Int("concurrency", 4, "calls in flight at once, over as many keep-alive connections")
	details := fs.Bool("details", false, "list every change and every internal user without a password")
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "ream import-papercut: "+format+"\n", a...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q (the token is read from --token-file or %s, never from the command line)\n%s", fs.Arg(0), TokenEnv, usage)
	}
	if *src == "" {
		return fail(2, "--url is required\n%s", usage)
	}
	parts, err := ParseParts(*only)
	if err != nil {
		return fail(2, "%v", err)
	}
	token := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, TokenEnv+"="); ok {
			token = strings.TrimSpace(v)
		}
	}
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fail(1, "unable to read the token file: %v", err)
		}
		token = strings.TrimSpace(string(b))
	}
	source, err := NewSource(SourceOptions{URL: *src, Token: token, CAFile: *caFile, InsecureSkipVerify: *insecure, Concurrency: *conc})
	if err != nil {
		return fail(2, "%v", err)
	}
	defer source.Close()
	o := Options{Parts: parts, DryRun: *dry, Actor: core.CLI}
	bar := newProgressBar(stderr)
	o.Progress = bar.show
	r, err := Run(ctx, st, source, o)
	bar.end()
	if err != nil {
		if e, ok := core.AsError(err); ok {
			err = errors.New(e.Msg)
		}
		if errors.Is(err, context.Canceled) {
			return fail(1, "stopped; nothing was written (the import is applied in one transaction). Run it again to do the whole move")
		}
		return fail(1, "%v; nothing was written", err)
	}
	if err := r.Write(stdout, *details); err != nil {
		return fail(1, "%v", err)
	}
	return 0
}

// progressBar draws the run's progress on a terminal, redrawn in place,
// or prints a plain line every few seconds when stderr is not one.
type progressBar struct {
	w        io.Writer
	terminal bool
	last     int
	printed  time.Time
	phase    string
}

func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	return &progressBar{w: w, terminal: ok && term.IsTerminal(int(f.Fd()))}
}

func (b *progressBar) show(p Progress) {
	line := p.String()
	if !b.terminal {
		if p.Phase != b.phase || time.Since(b.printed) >= 2*time.Second || (p.Total > 0 && p.Done == p.Total) {
			fmt.Fprintln(b.w, line)
			b.printed, b.phase = time.Now(), p.Phase
		}
		return
	}
	if p.Total > 0 {
		const width = 30
		filled := min(p.Done*width/p.Total, width)
		line = fmt.Sprintf("[%s%s] %3d%% %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), min(p.Done*100/p.Total, 100), line)
	}
	pad := max(b.last-len(line), 0)
	fmt.Fprintf(b.w, "\r%s%s", line, strings.Repeat(" ", pad))
	b.last = len(line)
}

func (b *progressBar) end() {
	if b.terminal && b.last > 0 {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", b.last))
	}
}
