// Command ream-bench runs Ream's benchmarks and measures what Go benchmarks
// cannot: the memory of an idle `ream serve` process (SPEC §11: ≤ 60 MiB).
//
//	go run ./cmd/ream-bench                      both parts
//	go run ./cmd/ream-bench -parts memory        only the idle server
//	go run ./cmd/ream-bench -parts go -bench Sync -packages ./internal/accounts/...
//	go run ./cmd/ream-bench -parts import [-postgres URL]   a 1M first import through ream serve
//
// The memory part builds ream, starts `ream serve` on a temporary data
// directory on loopback, lets it sit idle, reads VmRSS and VmHWM from
// /proc/PID/status and stops it with SIGINT; it does so for a first start (a
// fresh database: migrations and the generated admin password's hash) and a
// restart, on SQLite and, with -postgres, on a throwaway PostgreSQL
// database. The go part runs `go test -bench` and sums up the results. Every
// step is bounded in time, and ream-bench cleans up after itself.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx", for the throwaway database
)

// idleMemoryFloor is SPEC §11's limit for the idle server.
const idleMemoryFloor = 60 << 20

// options are the command-line flags.
type options struct {
	parts       map[string]bool
	idle        time.Duration
	postgresURL string
	bench       string
	benchtime   string
	packages    []string
	timeout     time.Duration
	accounts    int
	binary      string // a ream binary to measure instead of building one
}

// row is one line of the results table.
type row struct {
	part, measure, value, floor, verdict string
}

func main() {
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "ream-bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()

	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ream-bench:", err)
		os.Exit(1)
	}
	var rows []row
	failed := false
	if opts.parts["go"] {
		r, err := runGoBenchmarks(ctx, root, opts)
		rows = append(rows, r...)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ream-bench: go benchmarks:", err)
			failed = true
		}
	}
	if opts.parts["memory"] {
		r, err := measureIdleMemory(ctx, root, opts)
		rows = append(rows, r...)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ream-bench: idle memory:", err)
			failed = true
		}
	}
	if opts.parts["import"] {
		r, err := measureImport(ctx, root, opts)
		rows = append(rows, r...)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ream-bench: import:", err)
			failed = true
		}
	}
	printTable(os.Stdout, rows)
	if failed {
		os.Exit(1)
	}
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("ream-bench", flag.ContinueOnError)
	parts := fs.String("parts", "go,memory", "comma-separated parts to run: go (go test -bench), memory (idle server), import (a big first import through a running server)")
	idle := fs.Duration("idle", 10*time.Second, "how long the server sits idle before its memory is read")
	postgres := fs.String("postgres", "", "also measure the idle server on PostgreSQL: a postgres:// URL of a server where a throwaway database is made and dropped")
	bench := fs.String("bench", ".", "regular expression of Go benchmarks to run (go test -bench)")
	benchtime := fs.String("benchtime", "1x", "go test -benchtime")
	packages := fs.String("packages", "./...", "comma-separated packages whose benchmarks run")
	timeout := fs.Duration("timeout", 60*time.Minute, "stop everything after this long")
	nAccounts := fs.Int("accounts", 1_000_000, "import part: how many accounts the import file has")
	binary := fs.String("ream", "", "memory and import parts: measure this ream binary instead of building one (to compare two builds)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o := &options{parts: map[string]bool{}, idle: *idle, postgresURL: *postgres, bench: *bench, benchtime: *benchtime, timeout: *timeout, accounts: *nAccounts, binary: *binary}
	for _, p := range strings.Split(*parts, ",") {
		switch p = strings.TrimSpace(p); p {
		case "go", "memory", "import":
			o.parts[p] = true
		case "":
		default:
			return nil, fmt.Errorf("-parts: unknown part %q (want go, memory, import)", p)
		}
	}
	if len(o.parts) == 0 {
		return nil, errors.New("-parts: nothing to run")
	}
	for _, p := range strings.Split(*packages, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.packages = append(o.packages, p)
		}
	}
	if o.accounts < 1 {
		return nil, errors.New("-accounts must be at least 1")
	}
	if o.idle <= 0 || o.timeout <= 0 {
		return nil, errors.New("-idle and -timeout must be longer than zero")
	}
	if o.postgresURL != "" && !strings.HasPrefix(o.postgresURL, "postgres://") && !strings.HasPrefix(o.postgresURL, "postgresql://") {
		return nil, errors.New("-postgres: want a postgres:// URL")
	}
	return o, nil
}

// moduleRoot finds the directory of Ream's go.mod from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/reamprint/ream\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run ream-bench inside the Ream source tree (no go.mod of github.com/reamprint/ream found)")
		}
		dir = parent
	}
}

// runGoBenchmarks runs go test -bench, echoing its output, and turns each
// result line into rows.
func runGoBenchmarks(ctx context.Context, root string, o *options) ([]row, error) {
	args := append([]string{"test", "-run", "^$", "-bench", o.bench, "-benchtime", o.benchtime, "-timeout", o.timeout.String()}, o.packages...)
	fmt.Fprintf(os.Stderr, "ream-bench: go %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(os.Stderr, &out)
	cmd.Stderr = os.Stderr
	runErr := cmd.Run()
	return parseBenchOutput(&out), runErr
}

// parseBenchOutput reads "BenchmarkName-2  1  9170442034 ns/op  10905 rows/s"
// lines: ns/op becomes seconds, other metrics are shown as reported.
func parseBenchOutput(r io.Reader) []row {
	var rows []row
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if name == "" {
			continue
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch unit := f[i+1]; unit {
			case "ns/op":
				rows = append(rows, row{part: name, measure: "time/op", value: formatSeconds(v / 1e9)})
			case "B/op", "allocs/op":
				// Allocation counts are in the go test output above.
			default:
				rows = append(rows, row{part: name, measure: unit, value: strconv.FormatFloat(v, 'f', -1, 64)})
			}
		}
	}
	return rows
}

func formatSeconds(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.2f s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.2f ms", s*1e3)
	default:
		return fmt.Sprintf("%.1f µs", s*1e6)
	}
}

// measureIdleMemory builds ream and measures a first start and a restart.
func measureIdleMemory(ctx context.Context, root string, o *options) ([]row, error) {
	tmp, binary, err := buildReam(ctx, root, o.binary)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var rows []row
	if info, err := os.Stat(binary); err == nil {
		rows = append(rows, row{part: "ream binary", measure: "size", value: mib(info.Size())})
	}
	r, err := onEachDatabase(ctx, o, func(db, dbURL string) ([]row, error) {
		return measureDatabase(ctx, binary, filepath.Join(tmp, db), db, dbURL, o.idle)
	})
	return append(rows, r...), err
}

// onEachDatabase runs measure on SQLite and, with -postgres, on a
// throwaway PostgreSQL database, and returns their rows together.
func onEachDatabase(ctx context.Context, o *options, measure func(db, dbURL string) ([]row, error)) ([]row, error) {
	rows, err := measure("sqlite", "")
	if err != nil || o.postgresURL == "" {
		return rows, err
	}
	dbURL, drop, err := throwawayDatabase(ctx, o.postgresURL)
	if err != nil {
		return rows, err
	}
	defer drop()
	r, err := measure("postgres", dbURL)
	return append(rows, r...), err
}

// buildReam builds ream into a new temporary directory, which the caller
// removes; with given (-ream), it uses that binary instead.
func buildReam(ctx context.Context, root, given string) (tmp, binary string, err error) {
	if tmp, err = os.MkdirTemp("", "ream-bench-"); err != nil {
		return "", "", err
	}
	if given != "" {
		if binary, err = filepath.Abs(given); err == nil {
			_, err = os.Stat(binary)
		}
		if err != nil {
			os.RemoveAll(tmp)
			return "", "", fmt.Errorf("-ream: %w", err)
		}
		return tmp, binary, nil
	}
	binary = filepath.Join(tmp, "ream")
	fmt.Fprintln(os.Stderr, "ream-bench: building ream")
	build := exec.CommandContext(ctx, "go", "build", "-o", binary, "./cmd/ream")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(tmp)
		return "", "", fmt.Errorf("unable to build ream: %w", err)
	}
	return tmp, binary, nil
}

// measureDatabase measures a first start on an empty database and a restart.
func measureDatabase(ctx context.Context, binary, dataDir, db, dbURL string, idle time.Duration) ([]row, error) {
	var rows []row
	for _, start := range []string{"first start", "restart"} {
		m, err := idleServer(ctx, binary, dataDir, dbURL, idle)
		if err != nil {
			return rows, fmt.Errorf("%s (%s): %w", start, db, err)
		}
		part := fmt.Sprintf("idle server, %s (%s)", start, db)
		rows = append(rows,
			row{part: part, measure: "ready after", value: formatSeconds(m.ready.Seconds())},
			row{part: part, measure: "VmRSS after " + idle.String(), value: mib(m.rss), floor: "≤ 60 MiB", verdict: verdict(m.rss <= idleMemoryFloor)},
			row{part: part, measure: "VmHWM (peak)", value: mib(m.hwm)},
			row{part: part, measure: "exit on SIGINT", value: m.exit},
		)
	}
	return rows, nil
}

// throwawayDatabase makes an empty database on the PostgreSQL server at
// serverURL, so that measuring never touches a database that holds data.
func throwawayDatabase(ctx context.Context, serverURL string) (dbURL string, drop func(), err error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("-postgres: %w", err)
	}
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("ream_bench_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("unable to create a throwaway database on %s: %w", u.Redacted(), err)
	}
	u.Path = "/" + name
	drop = func() {
		dropCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(dropCtx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "ream-bench: unable to drop the throwaway database %s: %v\n", name, err)
		}
		admin.Close()
	}
	return u.String(), drop, nil
}

// idleMeasure is what one idle run of the server showed.
type idleMeasure struct {
	ready    time.Duration
	rss, hwm int64 // bytes
	exit     string
}

// idleServer starts ream serve, waits until it answers, lets it idle, reads
// its memory and stops it.
func idleServer(ctx context.Context, binary, dataDir, dbURL string, idle time.Duration) (*idleMeasure, error) {
	began := time.Now()
	srv, err := startServer(ctx, binary, dataDir, dbURL)
	if err != nil {
		return nil, err
	}
	m := &idleMeasure{ready: time.Since(began)}
	fmt.Fprintf(os.Stderr, "ream-bench: server pid %d ready after %s; idle for %s\n", srv.pid, m.ready.Round(time.Millisecond), idle)
	select {
	case <-time.After(idle):
	case err := <-srv.exit:
		return nil, fmt.Errorf("the server exited while idle (%v)\nserver output:\n%s", err, srv.log.String())
	case <-ctx.Done():
		srv.cmd.Process.Kill()
		<-srv.exit
		return nil, ctx.Err()
	}
	if m.rss, m.hwm, err = readMemory(srv.pid); err != nil {
		srv.cmd.Process.Kill()
		<-srv.exit
		return nil, err
	}
	m.exit = "clean"
	if err := srv.stop(); err != nil {
		m.exit = err.Error()
	}
	return m, nil
}

// withoutReamVariables keeps the caller's REAM_ settings (a password, a
// database URL) from changing what is measured.
func withoutReamVariables(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "REAM_") {
			out = append(out, e)
		}
	}
	return out
}

func waitHealthy(ctx context.Context, url string, exited <-chan error) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the server exited before answering (%v)", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server did not answer %s within 60 s", url)
		}
	}
}

// readMemory reads the resident set and its peak from /proc/PID/status.
func readMemory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("unable to read the server's memory (Linux /proc needed): %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("unexpected /proc line %q", line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("unexpected /proc line %q", line)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	if rss == 0 || hwm == 0 {
		return 0, 0, errors.New("VmRSS or VmHWM missing from /proc status")
	}
	return rss, hwm, nil
}

func freeLoopback() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("unable to find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "OVER"
}

func printTable(w io.Writer, rows []row) {
	if len(rows) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nwhat\tmeasure\tvalue\tfloor\tverdict")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.part, r.measure, r.value, r.floor, r.verdict)
	}
	tw.Flush()
}
