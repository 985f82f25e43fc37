package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/accounts/source"
	"github.com/reamprint/ream/internal/xmlrpc"
)

// The import part (SPEC §11, issue 13): a million-account first import run
// by a `ream serve` process over the API, as a site would, while another
// client keeps calling the server. It reports the import's time, the
// server's peak resident memory (VmHWM: the whole process, web server
// included) and the latency of those calls idle and during the import.

// importMemoryFloor is SPEC §11's peak memory for the 1M first import.
const importMemoryFloor = 512 << 20

// importTimeFloor is SPEC §11's time for the 1M first import.
const importTimeFloor = 30 * time.Second

func measureImport(ctx context.Context, root string, o *options) ([]row, error) {
	tmp, binary, err := buildReam(ctx, root, o.binary)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	sources := filepath.Join(tmp, "sources")
	if err := os.Mkdir(sources, 0o755); err != nil {
		return nil, err
	}
	file := filepath.Join(sources, "accounts.txt")
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "ream-bench: writing %d accounts to %s\n", o.accounts, file)
	err = source.WriteSampleImportFile(f, o.accounts, 1)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return onEachDatabase(ctx, o, func(db, dbURL string) ([]row, error) {
		return importOn(ctx, binary, filepath.Join(tmp, db), db, dbURL, sources, file, o)
	})
}

// importOn runs one import on a fresh server.
func importOn(ctx context.Context, binary, dataDir, db, dbURL, sources, file string, o *options) ([]row, error) {
	var secret [16]byte
	rand.Read(secret[:])
	token := hex.EncodeToString(secret[:])
	srv, err := startServer(ctx, binary, dataDir, dbURL, "REAM_SYNC_ALLOWED_ROOTS="+sources, "REAM_AUTH_WEBSERVICES_AUTH_TOKEN="+token)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	api := "http://" + srv.addr + "/rpc/api/xmlrpc"
	client := &http.Client{Timeout: 30 * time.Second}
	// A call that reads the database, as a copier's or a script's would.
	probe := func() (time.Duration, error) {
		began := time.Now()
		_, err := xmlrpc.Call(ctx, client, api, "api.isUserExists", token, "nobody")
		return time.Since(began), err
	}
	idle, err := probeFor(ctx, probe, 5*time.Second, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: calls before the import: %w", db, err)
	}

	fmt.Fprintf(os.Stderr, "ream-bench: %s: importing %d accounts through the API\n", db, o.accounts)
	// The call answers with the report when the import is done
	// (getTaskStatus shows its progress meanwhile).
	began := time.Now()
	done := make(chan error, 1)
	var took time.Duration
	var report string
	go func() {
		long := &http.Client{Timeout: 30 * time.Minute}
		r, err := xmlrpc.Call(ctx, long, api, "api.batchImportSharedAccounts", token, file, false, false)
		took = time.Since(began)
		report, _ = r.(string)
		done <- err
	}()
	during, err := probeFor(ctx, probe, 0, done)
	if err != nil {
		return nil, fmt.Errorf("%s: during the import: %w", db, err)
	}
	_, hwm, err := readMemory(srv.pid)
	if err != nil {
		return nil, err
	}
	if first, _, _ := strings.Cut(strings.TrimPrefix(report, "Shared account batch import\n"), "\n\n"); first != "" {
		fmt.Fprintf(os.Stderr, "ream-bench: %s: %s\n", db, strings.ReplaceAll(first, "\n", "; "))
	}
	name := fmt.Sprintf("%s: %d-account first import via the API", db, o.accounts)
	timeRow := row{part: name, measure: "time", value: took.Round(10 * time.Millisecond).String()}
	memRow := row{part: name, measure: "server peak RSS (VmHWM)", value: mib(hwm)}
	if o.accounts == 1_000_000 { // the floors are SPEC §11's for a million
		timeRow.floor, timeRow.verdict = "≤ "+importTimeFloor.String(), verdict(took <= importTimeFloor)
		memRow.floor, memRow.verdict = "≤ "+mib(importMemoryFloor), verdict(hwm <= importMemoryFloor)
	}
	rows := []row{
		timeRow,
		memRow,
		{part: name, measure: "API call latency, idle", value: idle.String()},
		{part: name, measure: "API call latency, during the import", value: during.String()},
	}
	return rows, nil
}

// latencies sums up a series of call times.
type latencies []time.Duration

func (l latencies) String() string {
	if len(l) == 0 {
		return "no calls"
	}
	s := slices.Clone(l)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	r := func(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }
	return fmt.Sprintf("p50 %s, p99 %s, max %s (%d calls)", r(q(0.50)), r(q(0.99)), r(s[len(s)-1]), len(s))
}

// probeFor calls probe about 50 times a second, for d or, when d is 0,
// until until delivers (whose error it returns).
func probeFor(ctx context.Context, probe func() (time.Duration, error), d time.Duration, until <-chan error) (latencies, error) {
	var out latencies
	var end <-chan time.Time
	if d > 0 {
		end = time.After(d)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-end:
			return out, nil
		case err := <-until:
			return out, err
		case <-ctx.Done():
			return out, ctx.Err()
		case <-tick.C:
		}
		took, err := probe()
		if err != nil {
			return out, err
		}
		out = append(out, took)
	}
}

// server is a running `ream serve`.
type server struct {
	addr string
	pid  int
	cmd  *exec.Cmd
	log  *bytes.Buffer
	exit chan error
}

// startServer starts ream serve on loopback and waits until it answers.
// env adds REAM_ variables to the cleaned environment.
func startServer(ctx context.Context, binary, dataDir, dbURL string, env ...string) (*server, error) {
	httpAddr, err := freeLoopback()
	if err != nil {
		return nil, err
	}
	httpsAddr, err := freeLoopback()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--data-dir", dataDir, "--listen", httpAddr, "--set", "https.listen=" + httpsAddr}
	if dbURL != "" {
		args = append(args, "--database-url", dbURL)
	}
	s := &server{addr: httpAddr, log: new(bytes.Buffer), exit: make(chan error, 1)}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = append(withoutReamVariables(os.Environ()), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("unable to start ream: %w", err)
	}
	s.pid = s.cmd.Process.Pid
	go func() { s.exit <- s.cmd.Wait() }()
	if err := waitHealthy(ctx, "http://"+httpAddr+"/healthz", s.exit); err != nil {
		s.cmd.Process.Kill()
		return nil, fmt.Errorf("%w\nserver output:\n%s", err, s.log.String())
	}
	return s, nil
}

// stop interrupts the server and waits for it (killing it after 30 s).
func (s *server) stop() error {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.exit:
		return err
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exit
		return errors.New("did not stop within 30 s; killed")
	}
}
