package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/mail"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv"
	"github.com/reamprint/ream/internal/testenv/smtptest"
	"github.com/reamprint/ream/internal/xmlrpc"
)

// startServeProcess runs `ream serve` as a process of its own on the
// database and returns its base URL and a kill (SIGKILL) function.
func startServeProcess(t *testing.T, env []string, dbURL string) (string, func()) {
	t.Helper()
	return startServeArgs(t, env, "--data-dir", t.TempDir(), "--database-url", dbURL)
}

// startServeArgs runs `ream serve args…` on a loopback port of its own and
// waits until it answers; it returns the base URL and a kill function.
func startServeArgs(t *testing.T, env []string, args ...string) (string, func()) {
	t.Helper()
	addr := loopback(t)
	cmd := reamProcess(t, env, append(append([]string{"serve"}, args...), "--listen", addr, "--set", "https.listen=")...)
	base := "http://" + addr
	deadline := time.Now().Add(hangGuard)
	for {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("ream serve on %s did not answer", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return base, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
}

var loginCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestTwoServerProcessesOnOnePostgres runs two real `ream serve` processes
// on one PostgreSQL database, as behind a load balancer: a login on one is
// valid on the other, login limits count on both, queued mail is sent
// once, and when one is killed in
// the middle of a shared-account import the other runs the next import at
// once and records the killed one as interrupted.
func TestTwoServerProcessesOnOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers and imports 100,000 accounts")
	}
	const token = "two-servers-token-Heron"
	const password = "Two-Servers-Admin-Pass-71"
	ctx := context.Background()
	dbURL := testenv.PostgresURL(t)
	root := t.TempDir()
	smtp := smtptest.Start(t)
	env := []string{"REAM_AUTH_WEBSERVICES_AUTH_TOKEN=" + token, "REAM_ADMIN_PASSWORD=" + password, "REAM_SYNC_ALLOWED_ROOTS=" + root,
		"REAM_MAIL_OUTBOX_INTERVAL=200ms"}
	mustRun(t, env, "", "migrate", "--database-url", dbURL)
	for k, v := range map[string]string{"smtp.host": smtp.Host(), "smtp.port": fmt.Sprint(smtp.Port()), "smtp.security": "none", "smtp.from": "ream@example.org"} {
		mustRun(t, env, "", "server-command", "--database-url", dbURL, "set-config-value", k, v)
	}
	a, killA := startServeProcess(t, env, dbURL)
	b, _ := startServeProcess(t, env, dbURL)

	// A login on A is a session on B (the cookie jar ignores ports, as a
	// browser behind one load-balanced name would).
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, page := get(t, client, a+"/admin/login")
	m := loginCSRF.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the login page: %s", page)
	}
	resp, err := client.PostForm(a+"/admin/login", url.Values{"csrf": {m[1]}, "username": {"admin"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login on A: %d", resp.StatusCode)
	}
	if code, _ := get(t, client, b+"/admin/"); code != http.StatusOK {
		t.Errorf("the session made on A, on B: %d, want 200", code)
	}

	// The login limits are the site's, not each server's: five wrong
	// passwords on A lock the admin out at this address on B too.
	login := func(base, pw string) int {
		t.Helper()
		c := &http.Client{Jar: must(cookiejar.New(nil)), CheckRedirect: client.CheckRedirect}
		_, page := get(t, c, base+"/admin/login")
		m := loginCSRF.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token on the login page of %s", base)
		}
		resp, err := c.PostForm(base+"/admin/login", url.Values{"csrf": {m[1]}, "username": {"admin"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 5 {
		if code := login(a, "not-the-password"); code == http.StatusSeeOther {
			t.Fatal("a wrong password logged in")
		}
	}
	if code := login(b, password); code == http.StatusSeeOther {
		t.Errorf("B let the admin in right after A counted five failures from this address")
	}

	// Mail queued once is delivered once, though both servers deliver.
	s, err := store.Open(ctx, dbURL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const messages = 30
	var out []mail.Outgoing
	for i := range messages {
		out = append(out, mail.Outgoing{Kind: "test", To: fmt.Sprintf("user%02d@example.org", i), Subject: fmt.Sprint("Message ", i), Body: "Hello"})
	}
	if err := s.InTx(ctx, func(tx *store.Tx) error { return mail.Queue(ctx, tx, "ream@example.org", out...) }); err != nil {
		t.Fatal(err)
	}
	smtp.WaitFor(messages, hangGuard)
	time.Sleep(time.Second) // room for a duplicate to show
	seen := map[string]int{}
	for _, msg := range smtp.Messages() {
		seen[strings.Join(msg.To, ",")]++
	}
	if len(smtp.Messages()) != messages || len(seen) != messages {
		t.Errorf("%d messages arrived for %d recipients, want each of %d once", len(smtp.Messages()), len(seen), messages)
	}

	// Kill A in the middle of an import; B runs the next one at once.
	const n = 100_000
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "Client %06d\t\tY\t\t1.50\n", i)
	}
	file := filepath.Join(root, "accounts.txt")
	if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = xmlrpc.Call(context.Background(), http.DefaultClient, a+"/rpc/api/xmlrpc", "api.batchImportSharedAccounts", token, file, false, false)
	}()
	deadline := time.Now().Add(hangGuard)
	for {
		runs, _, err := s.ListSyncRuns(ctx, "", 0, 1)
		if err == nil && len(runs) == 1 && runs[0].Status == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the import on A never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	killA()
	if c, err := s.CountAccounts(ctx); err != nil || (c != 0 && c != n) {
		t.Fatalf("after killing A: %d accounts (%v), want 0 or %d", c, err, n)
	}
	started := time.Now()
	report, err := xmlrpc.Call(ctx, http.DefaultClient, b+"/rpc/api/xmlrpc", "api.batchImportSharedAccounts", token, file, false, false)
	if err != nil {
		t.Fatalf("the import on B after A was killed: %v", err)
	}
	if c, _ := s.CountAccounts(ctx); c != n {
		t.Errorf("after B's import: %d accounts, want %d\n%v", c, n, report)
	}
	runs, _, err := s.ListSyncRuns(ctx, "", 0, 2)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	if runs[1].Status != store.RunStatusInterrupted || runs[0].Status != "ok" {
		t.Errorf("runs: killed %q %q, next %q; want interrupted then ok", runs[1].Status, runs[1].Message, runs[0].Status)
	}
	t.Logf("B's import started and finished %v after A was killed", time.Since(started).Round(time.Millisecond))
}

// TestScheduledSyncRunsOnceAcrossTwoServers: both `ream serve` processes
// wake for the hourly shared-account sync at the same minute; the one that
// claims the slot in the database runs it, the other does not, and the
// accounts arrive once.
func TestScheduledSyncRunsOnceAcrossTwoServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers and waits for a scheduled minute")
	}
	ctx := context.Background()
	dbURL := testenv.PostgresURL(t)
	root := t.TempDir()
	env := []string{"REAM_ADMIN_PASSWORD=Two-Servers-Admin-Pass-72", "REAM_SYNC_ALLOWED_ROOTS=" + root}
	mustRun(t, env, "", "migrate", "--database-url", dbURL)
	file := filepath.Join(root, "accounts.txt")
	if err := os.WriteFile(file, []byte("Physics\t\tY\t\t1.50\nChemistry\t\tY\t\t2.25\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The next whole minute with room to start both servers first.
	due := time.Now().Truncate(time.Minute).Add(time.Minute)
	if time.Until(due) < 15*time.Second {
		due = due.Add(time.Minute)
	}
	for k, v := range map[string]string{"account-sync.source": "file", "account-sync.location": file,
		"account-sync.schedule": "hourly", "account-sync.overnight-minute": fmt.Sprint(due.Minute())} {
		mustRun(t, env, "", "server-command", "--database-url", dbURL, "set-config-value", k, v)
	}
	startServeProcess(t, env, dbURL)
	startServeProcess(t, env, dbURL)
	s, err := store.Open(ctx, dbURL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := due.Add(hangGuard)
	for {
		runs, _, err := s.ListSyncRuns(ctx, "", 0, 5)
		if err == nil && len(runs) > 0 && runs[0].Status != "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled run finished by %v (runs %v, %v)", deadline, runs, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // room for a second run to show
	runs, _, err := s.ListSyncRuns(ctx, "", 0, 5)
	if err != nil || len(runs) != 1 {
		t.Fatalf("scheduled runs: %+v, %v; want exactly one", runs, err)
	}
	if runs[0].Status != "ok" || runs[0].StartedBy != "scheduler" {
		t.Errorf("the scheduled run: %+v", runs[0])
	}
	if c, err := s.CountAccounts(ctx); err != nil || c != 2 {
		t.Errorf("after the scheduled run: %d accounts (%v), want 2", c, err)
	}
}
