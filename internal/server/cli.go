package server

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/papercutimport"
	"github.com/reamprint/ream/internal/store"
)

// Version is set at build time with -ldflags "-X …/server.Version=v1.2.3".
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// IO is the process's standard streams, replaceable in tests.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Environ        []string
}

// ServerCommandName is the name under which the binary acts as `ream
// server-command` (a link named like PaperCut's server-command).
const ServerCommandName = "server-command"

// CommandLine turns a process's argv into Main's arguments: run under the
// name server-command (a symbolic link to ream, or a copy), the binary is
// `ream server-command`, so that a site's scripts calling server-command
// keep working; it finds its configuration and data as `ream serve` does.
func CommandLine(argv []string) []string {
	if len(argv) == 0 {
		return nil
	}
	name := argv[0][strings.LastIndexAny(argv[0], `/\`)+1:]
	name = strings.TrimSuffix(name, ".exe")
	if name == ServerCommandName {
		return append([]string{ServerCommandName}, argv[1:]...)
	}
	return argv[1:]
}

// Main runs the ream command line and returns the exit status.
func Main(args []string, std IO) int {
	cmd, rest := splitCommand(args)
	if cmd == "" {
		usage(std.Stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "help", "-h", "--help":
		usage(std.Stdout)
		return 0
	case "version", "--version":
		fmt.Fprintf(std.Stdout, "ream %s (schema %d)\n", version(), store.SchemaVersion())
		return 0
	case "config":
		return configCmd(rest, std)
	}
	// The configuration flags may stand anywhere on the line (`ream accounts
	// sync --data-dir X`); the rest belongs to the command.
	globals, rest := globalFlags(rest)
	cfg, extra, err := config.Load("", std.Environ, globals)
	rest = append(extra, rest...)
	if errors.Is(err, flag.ErrHelp) {
		config.WriteFlagUsage(std.Stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintln(std.Stderr, err)
		return 2
	}
	log := newLogger(cfg, std.Stderr)
	run := func(needSchema bool, fn func(app *App) int) int {
		app, err := Open(ctx, cfg, log)
		if err != nil {
			fmt.Fprintln(std.Stderr, "ream:", err)
			return 1
		}
		defer app.Close()
		if needSchema {
			// The same forward-only migration serve runs at start, so that
			// `ream admin set-password` works before the first serve.
			if _, err := app.Store.Migrate(ctx); err != nil {
				fmt.Fprintln(std.Stderr, "ream:", err)
				return 1
			}
			if err := app.Core.EnsureHealthAPIKey(ctx); err != nil {
				fmt.Fprintln(std.Stderr, "ream:", err)
				return 1
			}
			if err := app.setupFeatures(ctx); err != nil {
				fmt.Fprintln(std.Stderr, "ream:", err)
				return 1
			}
		}
		return fn(app)
	}
	switch cmd {
	case "serve":
		if len(rest) > 0 {
			fmt.Fprintf(std.Stderr, "ream serve: unexpected argument %q\n", rest[0])
			return 2
		}
		return run(false, func(app *App) int {
			if err := app.serve(ctx, std.Stdout); err != nil {
				fmt.Fprintln(std.Stderr, "ream serve:", err)
				return 1
			}
			return 0
		})
	case "migrate":
		return run(false, func(app *App) int {
			n, err := app.Store.Migrate(ctx)
			if err != nil {
				fmt.Fprintln(std.Stderr, "ream migrate:", err)
				return 1
			}
			fmt.Fprintf(std.Stdout, "database is at schema version %d (%d step(s) applied)\n", store.SchemaVersion(), n)
			return 0
		})
	case "admin":
		if len(rest) == 0 || rest[0] != "set-password" {
			fmt.Fprintln(std.Stderr, "usage: ream admin set-password [--stdin]   (the password is read from the terminal or standard input, never from the command line)")
			return 2
		}
		return run(true, func(app *App) int { return setPasswordCmd(ctx, app, rest[1:], std) })
	case "backup":
		if len(rest) != 1 {
			fmt.Fprintln(std.Stderr, "usage: ream backup FILE")
			return 2
		}
		return run(false, func(app *App) int {
			if err := app.Store.Backup(ctx, rest[0]); err != nil {
				fmt.Fprintln(std.Stderr, "ream backup:", err)
				return 1
			}
			fmt.Fprintf(std.Stdout, "backed up to %s\n", rest[0])
			return 0
		})
	case "restore":
		if len(rest) != 1 {
			fmt.Fprintln(std.Stderr, "usage: ream restore FILE   (stop the server first)")
			return 2
		}
		return restoreCmd(ctx, cfg, rest[0], std)
	case "server-command":
		return run(true, func(app *App) int {
			return commands.RunCLI(ctx, app.Table, app.CommandEnv(), rest, std.Stdout, std.Stderr)
		})
	case "import-papercut":
		// Here rather than a feature's CLI: the token may come from the
		// environment, which only Main has.
		return run(true, func(app *App) int {
			return papercutimport.RunCLI(ctx, app.Store, rest, std.Environ, std.Stdout, std.Stderr)
		})
	}
	for _, f := range features {
		if c, ok := f.CLI[cmd]; ok {
			return run(true, func(app *App) int { return c.Run(ctx, app, rest, std.Stdout, std.Stderr) })
		}
	}
	fmt.Fprintf(std.Stderr, "ream: unknown command %q\n\n", cmd)
	usage(std.Stderr)
	return 2
}

// globalFlagNames are the configuration flags every command accepts.
var globalFlagNames = map[string]bool{"config": true, "data-dir": true, "listen": true, "database-url": true, "set": true}

// globalFlags takes the configuration flags (with their values) out of
// args, wherever they stand before a "--".
func globalFlags(args []string) (globals, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return globals, append(rest, args[i:]...)
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !globalFlagNames[name] {
			rest = append(rest, a)
			continue
		}
		globals = append(globals, a)
		if !hasValue && i+1 < len(args) {
			i++
			globals = append(globals, args[i])
		}
	}
	return globals, rest
}

// splitCommand finds the command word among the arguments, so that flags
// may come before it (`ream --data-dir X migrate`) or after it.
func splitCommand(args []string) (string, []string) {
	valueFlags := map[string]bool{"config": true, "data-dir": true, "listen": true, "database-url": true, "set": true}
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--" {
		name := strings.TrimLeft(args[i], "-")
		if name == "h" || name == "help" || name == "version" {
			return args[i], append(append([]string{}, args[:i]...), args[i+1:]...)
		}
		if !strings.Contains(name, "=") && valueFlags[name] {
			i++
		}
		i++
	}
	if i >= len(args) {
		return "", args
	}
	return args[i], append(append([]string{}, args[:i]...), args[i+1:]...)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Ream — print-management account server

usage: ream <command> [flags] [arguments]

  serve                     run the web interface, API, scheduler and mail delivery
  server-command VERB ARGS  run a web-services command locally (ream server-command help)
  admin set-password        set the built-in admin's password
  import-papercut           move a running PaperCut server's users, groups and shared accounts in (--dry-run first)
  migrate                   bring the database schema up to date
  backup FILE               write a consistent copy of the SQLite database while running
  restore FILE              put a backup in place (with the server stopped)
  config show               print the effective configuration, secrets hidden
  config reference          print every configuration key as a Markdown table
  version                   print the version
`)
	var extra []string
	for _, f := range features {
		for name, c := range f.CLI {
			extra = append(extra, fmt.Sprintf("  %-25s %s\n", name, c.Help))
		}
	}
	sort.Strings(extra)
	for _, e := range extra {
		fmt.Fprint(w, e)
	}
	fmt.Fprint(w, "\nFlags (before or after the command): --config FILE, --data-dir DIR, --listen ADDR, --database-url URL, --set key=value\n")
}

func configCmd(args []string, std IO) int {
	if len(args) == 0 {
		fmt.Fprintln(std.Stderr, "usage: ream config show | ream config reference")
		return 2
	}
	switch args[0] {
	case "reference":
		if err := config.WriteReference(std.Stdout); err != nil {
			fmt.Fprintln(std.Stderr, err)
			return 1
		}
		return 0
	case "show":
		cfg, rest, err := config.Load("", std.Environ, args[1:])
		if err != nil {
			fmt.Fprintln(std.Stderr, err)
			return 2
		}
		if len(rest) > 0 {
			fmt.Fprintf(std.Stderr, "ream config show: unexpected argument %q\n", rest[0])
			return 2
		}
		if err := cfg.Show(std.Stdout); err != nil {
			fmt.Fprintln(std.Stderr, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(std.Stderr, "ream config: unknown subcommand %q\n", args[0])
	return 2
}

func setPasswordCmd(ctx context.Context, app *App, args []string, std IO) int {
	fromStdin := len(args) == 1 && strings.TrimLeft(args[0], "-") == "stdin"
	if len(args) > 0 && !fromStdin {
		fmt.Fprintln(std.Stderr, "usage: ream admin set-password [--stdin]   (the password is read from the terminal or standard input, never from the command line)")
		return 2
	}
	var pw string
	if f, ok := std.Stdin.(*os.File); ok && !fromStdin && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(std.Stderr, "New password for admin: ")
		b1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(std.Stderr)
		if err != nil {
			fmt.Fprintln(std.Stderr, "ream admin set-password:", err)
			return 1
		}
		fmt.Fprint(std.Stderr, "Again: ")
		b2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(std.Stderr)
		if err != nil {
			fmt.Fprintln(std.Stderr, "ream admin set-password:", err)
			return 1
		}
		if string(b1) != string(b2) {
			fmt.Fprintln(std.Stderr, "ream admin set-password: the two passwords differ; nothing changed")
			return 1
		}
		pw = string(b1)
	} else {
		line, err := bufio.NewReader(io.LimitReader(std.Stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintln(std.Stderr, "ream admin set-password:", err)
			return 1
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if err := app.Core.SetAdminPassword(ctx, core.CLI, pw); err != nil {
		fmt.Fprintln(std.Stderr, "ream admin set-password:", err)
		return 1
	}
	fmt.Fprintln(std.Stdout, "The built-in admin's password was changed; its sessions were ended.")
	return 0
}

// restoreCmd puts an SQLite backup in place of the database. The server must
// be stopped: the data directory lock proves it. The current database is
// kept beside it, renamed, so a restore can be undone.
func restoreCmd(ctx context.Context, cfg *config.Config, file string, std IO) int {
	if cfg.IsPostgres() {
		fmt.Fprintln(std.Stderr, "ream restore: the database is PostgreSQL; restore it with pg_restore/psql")
		return 1
	}
	unlock, err := lockDataDir(cfg.DataDir, false)
	if err != nil {
		fmt.Fprintln(std.Stderr, "ream restore:", err, "(stop the server first)")
		return 1
	}
	defer unlock()
	// Opening would create a mistyped file: check it exists first.
	if _, err := os.Stat(file); err != nil {
		fmt.Fprintln(std.Stderr, "ream restore:", err)
		return 1
	}
	b, err := store.Open(ctx, "", file)
	if err != nil {
		fmt.Fprintln(std.Stderr, "ream restore:", err)
		return 1
	}
	v, err := b.CurrentVersion(ctx)
	b.Close()
	if err != nil || v == 0 {
		if err == nil {
			err = errors.New("it has no schema version")
		}
		fmt.Fprintf(std.Stderr, "ream restore: %s is not a Ream backup: %v\n", file, err)
		return 1
	}
	if v > store.SchemaVersion() {
		fmt.Fprintf(std.Stderr, "ream restore: the backup's schema (%d) is newer than this Ream knows (%d)\n", v, store.SchemaVersion())
		return 1
	}
	dbPath := cfg.SQLitePath()
	if _, err := os.Stat(dbPath); err == nil {
		aside := dbPath + ".before-restore-" + time.Now().Format("20060102-150405")
		if err := os.Rename(dbPath, aside); err != nil {
			fmt.Fprintln(std.Stderr, "ream restore:", err)
			return 1
		}
		fmt.Fprintf(std.Stdout, "the previous database was kept as %s\n", aside)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(dbPath + suffix)
	}
	if err := copyFile(file, dbPath); err != nil {
		fmt.Fprintln(std.Stderr, "ream restore:", err)
		return 1
	}
	fmt.Fprintf(std.Stdout, "restored %s into %s; start the server with ream serve (it migrates if needed)\n", file, dbPath)
	return 0
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
