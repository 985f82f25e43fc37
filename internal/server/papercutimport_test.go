package server

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv"
)

// seedPaperCutSource fills a data directory as a PaperCut site's server
// would be, through Ream's own commands: users from a text-file user
// source and internal users, groups, and shared accounts with
// sub-accounts, PINs, access lists and balances with cents.
func seedPaperCutSource(t *testing.T, env []string, dir, root string, users, accounts int) {
	t.Helper()
	var u, g, a strings.Builder
	for i := range users {
		fmt.Fprintf(&u, "puser%05d\tPaper User %d\tp%d@example.org\tDept %d\tOffice %d\t7%07d\t\t\t\t\t\n", i, i, i, i%7, i%3, i)
		fmt.Fprintf(&g, "Staff %d\tpuser%05d\n", i%4, i)
	}
	for i := range accounts {
		parent := fmt.Sprintf("Client %05d", i/4)
		sub := ""
		if i%4 != 0 {
			sub = fmt.Sprintf("Matter %d", i%4)
		}
		fmt.Fprintf(&a, "%s\t%s\tY\t%d\t%d.%02d\tN\tpuser%05d\tStaff %d\tALWAYS_INVOICE\tCOMMENT_REQUIRED\tnotes %d\n",
			parent, sub, 100000+i, i%500, i%100, i%users, i%4, i)
	}
	for name, body := range map[string]string{"users.txt": u.String(), "groups.txt": g.String(), "accounts.txt": a.String()} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sc := func(args ...string) {
		mustRun(t, env, "", append([]string{"server-command", "--data-dir", dir}, args...)...)
	}
	sc("set-config", "user-sync.source", "file")
	sc("set-config", "user-sync.file.users", filepath.Join(root, "users.txt"))
	sc("set-config", "user-sync.file.groups", filepath.Join(root, "groups.txt"))
	mustRun(t, env, "", "users", "sync", "--data-dir", dir)
	sc("add-new-internal-user", "intern1", "Internal-Pass-Word-1", "Internal One", "i1@example.org", "I0001", "")
	sc("add-new-internal-user", "intern2", "Internal-Pass-Word-2", "Internal Two", "i2@example.org", "", "")
	sc("set-user-account-balance", "intern1", "17.45", "seed")
	mustRun(t, env, "", "accounts", "sync", "--data-dir", dir, "--file", filepath.Join(root, "accounts.txt"))
}

// startSourceServe runs `ream serve` on a data directory as the import's source.
func startSourceServe(t *testing.T, env []string, dir string) string {
	t.Helper()
	base, _ := startServeArgs(t, env, "--data-dir", dir)
	return base + "/rpc/api/xmlrpc"
}

func countRows(t *testing.T, s *store.Store) (users, accounts int) {
	t.Helper()
	var err error
	if users, err = s.CountUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if accounts, err = s.CountAccounts(context.Background()); err != nil {
		t.Fatal(err)
	}
	return users, accounts
}

// TestImportPaperCutCommand runs `ream import-papercut` against a real
// `ream serve` as the source: a dry run writes nothing; an import killed
// (SIGKILL) while it writes leaves the target without any of it; the rerun
// completes; a second rerun changes nothing. Both target databases.
func TestImportPaperCutCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and imports 20,000 accounts")
	}
	const token = "papercut-source-token-Osprey"
	const users, accounts = 2000, 20000
	root := t.TempDir()
	srcDir := t.TempDir()
	srcEnv := []string{"REAM_AUTH_WEBSERVICES_AUTH_TOKEN=" + token, "REAM_SYNC_ALLOWED_ROOTS=" + root}
	seedPaperCutSource(t, srcEnv, srcDir, root, users, accounts)
	url := startSourceServe(t, srcEnv, srcDir)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			target := []string{"--data-dir", t.TempDir()}
			if db == "postgres" {
				target = append(target, "--database-url", testenv.PostgresURL(t))
			}
			mustRun(t, nil, "", append([]string{"migrate"}, target...)...)
			open := func() *store.Store {
				cfg := loadConfig(t, nil, target...)
				s, err := store.Open(context.Background(), cfg.Database.URL, cfg.SQLitePath())
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			imp := append([]string{"import-papercut", "--url", url, "--token-file", tokenFile}, target...)

			// The token is never taken from the command line.
			if r := ream(t, nil, "", append(append([]string{}, imp...), token)...); r.code != 2 || !strings.Contains(r.stderr, "never from the command line") {
				t.Errorf("a token on the command line: exit %d, %s", r.code, r.stderr)
			}
			// A wrong token says so, and writes nothing.
			bad := filepath.Join(t.TempDir(), "bad")
			os.WriteFile(bad, []byte("wrong"), 0o600)
			r := ream(t, nil, "", "import-papercut", "--url", url, "--token-file", bad, target[0], target[1])
			if r.code != 1 || !strings.Contains(r.stderr, "refused the web-services auth token") || !strings.Contains(r.stderr, "nothing was written") {
				t.Errorf("wrong token: exit %d, %s", r.code, r.stderr)
			}

			dry := mustRun(t, nil, "", append(imp, "--dry-run")...)
			if !strings.Contains(dry.stdout, "Dry run (nothing was written)") || tableRow(t, dry.stdout, "shared accounts") != fmt.Sprint([]int{accounts, accounts, 0, 0, 0}) {
				t.Errorf("dry run report:\n%s", dry.stdout)
			}
			if !strings.Contains(dry.stderr, "reading:") || !strings.Contains(dry.stderr, "/s") {
				t.Errorf("no plain progress lines on a non-terminal:\n%s", dry.stderr)
			}
			s := open()
			if u, a := countRows(t, s); u != 0 || a != 0 {
				t.Fatalf("the dry run wrote %d users and %d accounts", u, a)
			}
			s.Close()

			// Killed while it writes: nothing of the run is kept.
			self, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(self, imp...)
			cmd.Env = []string{"REAM_TEST_RUN_MAIN=1", "HOME=" + t.TempDir()}
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stderr)
			killed := false
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "writing:") {
					_ = cmd.Process.Kill()
					killed = true
					break
				}
			}
			_ = cmd.Wait()
			if !killed {
				t.Fatalf("the import ended before it was killed")
			}
			s = open()
			if u, a := countRows(t, s); u != 0 || a != 0 {
				t.Fatalf("a killed import left %d users and %d accounts", u, a)
			}
			s.Close()

			done := mustRun(t, nil, "", imp...)
			if got := tableRow(t, done.stdout, "users"); got != fmt.Sprint([]int{users + 2, users + 2, 0, 0, 0}) {
				t.Errorf("users row %s", got)
			}
			if got := tableRow(t, done.stdout, "shared accounts"); got != fmt.Sprint([]int{accounts, accounts, 0, 0, 0}) {
				t.Errorf("shared accounts row %s", got)
			}
			for _, want := range []string{"intern1, intern2", "Email a set-password link", "print history"} {
				if !strings.Contains(done.stdout, want) {
					t.Errorf("the report does not say %q:\n%s", want, done.stdout)
				}
			}
			s = open()
			if u, a := countRows(t, s); u != users+2 || a != accounts {
				t.Errorf("after the rerun: %d users, %d accounts", u, a)
			}
			acc, err := s.AccountByName(context.Background(), `Client 00007\Matter 3`)
			if err != nil || acc.Balance.String() != "31.31" || acc.InvoiceOption != "ALWAYS_INVOICE" || len(acc.AccessGroups) != 1 || acc.AccessGroups[0] != "Staff 3" {
				t.Errorf("an imported sub-account: %+v %v", acc, err)
			}
			s.Close()
			again := mustRun(t, nil, "", imp...)
			if tableRow(t, again.stdout, "shared accounts") != fmt.Sprint([]int{accounts, 0, 0, accounts, 0}) || tableRow(t, again.stdout, "users") != fmt.Sprint([]int{users + 2, 0, 0, users + 2, 0}) {
				t.Errorf("an unchanged rerun:\n%s", again.stdout)
			}
		})
	}
}

// tableRow reads one row of the report's closing table: read, created,
// updated, unchanged, skipped.
func tableRow(t *testing.T, report, name string) string {
	t.Helper()
	for _, line := range strings.Split(report, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), name+" ")
		if !ok {
			continue
		}
		var n []int
		for _, f := range strings.Fields(rest) {
			v, err := strconv.Atoi(f)
			if err != nil {
				break
			}
			n = append(n, v)
		}
		if len(n) == 5 {
			return fmt.Sprint(n)
		}
	}
	t.Errorf("no %q row in the report:\n%s", name, report)
	return ""
}
