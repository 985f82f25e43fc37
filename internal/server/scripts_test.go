package server

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/testenv"
	"github.com/reamprint/ream/internal/xmlrpc"
)

// The way a PaperCut site's own scripts use the server: shell loops over
// `server-command` (the ream command line through a link of that name, in
// its own process, beside a running server) and XML-RPC calls paged the way
// PaperCut's examples page, on SQLite and PostgreSQL.

// serverCommandLink makes a directory holding a link named server-command
// to this test binary, which runs the ream command line as cmd/ream's main
// does when REAM_TEST_RUN_MAIN=1 (see TestMain): the same CommandLine turns
// the link's name into `ream server-command`.
func serverCommandLink(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(self, filepath.Join(dir, "server-command")); err != nil {
		t.Fatal(err)
	}
	return dir
}

type siteScripts struct {
	t     *testing.T
	env   []string
	rpc   string
	token string
}

// sh runs a bash script the way an operator's cron job would, with
// server-command on the PATH.
func (s *siteScripts) sh(script string) (code int, stdout, stderr string) {
	s.t.Helper()
	cmd := exec.Command("bash", "-c", "set -o pipefail\n"+script)
	cmd.Env = s.env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		s.t.Fatalf("bash: %v", err)
	}
	return 0, out.String(), errb.String()
}

func (s *siteScripts) mustSh(script string) string {
	s.t.Helper()
	code, out, errs := s.sh(script)
	if code != 0 {
		s.t.Fatalf("script failed (exit %d):\n%s\nstdout:\n%s\nstderr:\n%s", code, script, out, errs)
	}
	return out
}

func (s *siteScripts) call(method string, params ...any) (any, error) {
	return xmlrpc.Call(context.Background(), http.DefaultClient, s.rpc, "api."+method, append([]any{s.token}, params...)...)
}

func (s *siteScripts) must(method string, params ...any) any {
	s.t.Helper()
	v, err := s.call(method, params...)
	if err != nil {
		s.t.Fatalf("%s%v: %v", method, params, err)
	}
	return v
}

func TestPaperCutSiteScripts(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		testenv.Require(t, "bash", "the site scripts are shell loops")
	}
	bin := serverCommandLink(t)
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			const token = "site-token-Bittern-30417"
			env := []string{
				"REAM_DATA_DIR=" + t.TempDir(),
				"REAM_LISTEN=" + loopback(t),
				"REAM_HTTPS_LISTEN=",
				"REAM_AUTH_WEBSERVICES_AUTH_TOKEN=" + token,
				"REAM_ADMIN_PASSWORD=Site-admin-Pass-Grebe-77",
				"REAM_LOG_LEVEL=warn",
			}
			if db == "postgres" {
				env = append(env, "REAM_DATABASE_URL="+testenv.PostgresURL(t))
			}
			app := openApp(t, loadConfig(t, env), nil)
			rs := startServe(t, app)
			s := &siteScripts{t: t, rpc: rs.base + "/rpc/api/xmlrpc", token: token,
				env: append([]string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + t.TempDir(), "REAM_TEST_RUN_MAIN=1"}, env...)}
			runSiteScripts(t, s, rs.base)
		})
	}
}

func runSiteScripts(t *testing.T, s *siteScripts, base string) {
	// Set up a small site over XML-RPC.
	type person struct{ name, dept, primary, secondary, balance string }
	people := []person{
		{"ann", "Physics", "1001", "2001", "5"},
		{"ben", "Physics", "1002", "2002", "-3.5"},
		{"cat", "History", "1003", "2003", "-0.25"},
		{"dan", "History", "1004", "", "12"},
	}
	for _, p := range people {
		s.must("addNewUser", p.name)
		s.must("setUserProperties", p.name, []any{[]any{"department", p.dept}, []any{"primary-card-number", p.primary},
			[]any{"secondary-card-number", p.secondary}, []any{"balance", p.balance}})
	}
	s.must("addNewGroup", "Staff")
	s.must("addUserToGroup", "ann", "Staff")
	s.must("addUserToGroup", "cat", "Staff")
	for _, acc := range []string{"Lab", "Library", `Library\Archive`} {
		s.must("addNewSharedAccount", acc)
	}
	s.must("addSharedAccountAccessUser", "Lab", "ann")
	s.must("addSharedAccountAccessGroup", "Library", "Staff")
	s.must("addSharedAccountAccessUser", `Library\Archive`, "cat")

	// List, then get per user: the start of every PaperCut shell example.
	out := s.mustSh(`server-command list-user-accounts | while read -r u; do
  echo "$u $(server-command get-user-property "$u" department)"
done`)
	if want := "ann Physics\nben Physics\ncat History\ndan History\n"; out != want {
		t.Errorf("list then get:\n%s\nwant:\n%s", out, want)
	}
	// Find the users of a department, and of a group.
	out = s.mustSh(`for u in $(server-command list-user-accounts); do
  [ "$(server-command get-user-property "$u" department)" = History ] && echo "$u"
done; server-command get-group-members Staff`)
	if want := "cat\ndan\nann\ncat\n"; out != want {
		t.Errorf("department and group:\n%s\nwant:\n%s", out, want)
	}
	// Swap every user's cards, one way then back, with two calls each.
	swap := `server-command list-user-accounts | while read -r u; do
  p=$(server-command get-user-property "$u" primary-card-number)
  s=$(server-command get-user-property "$u" secondary-card-number)
  server-command set-user-property "$u" primary-card-number "$s" >/dev/null
  server-command set-user-property "$u" secondary-card-number "$p" >/dev/null
done`
	s.mustSh(swap)
	cards := func() string {
		var b strings.Builder
		for _, p := range people {
			v := s.must("getUserProperties", p.name, []any{"primary-card-number", "secondary-card-number"}).([]any)
			b.WriteString(p.name + "=" + v[0].(string) + "/" + v[1].(string) + " ")
		}
		return b.String()
	}
	if got, want := cards(), "ann=2001/1001 ben=2002/1002 cat=2003/1003 dan=/1004 "; got != want {
		t.Errorf("after the swap: %s, want %s", got, want)
	}
	s.mustSh(swap)
	if got, want := cards(), "ann=1001/2001 ben=1002/2002 cat=1003/2003 dan=1004/ "; got != want {
		t.Errorf("after swapping back: %s, want %s", got, want)
	}
	// Over XML-RPC, one setUserProperties call each.
	for _, p := range people[:3] {
		s.must("setUserProperties", p.name, []any{[]any{"primary-card-number", p.secondary}, []any{"secondary-card-number", p.primary}})
	}
	if v := s.must("lookUpUserNameByCardNo", "2002"); v != "ben" {
		t.Errorf("lookup after a one-call swap: %v", v)
	}
	// A conflict: status 1, the message on stderr naming the property and the holder.
	code, _, errs := s.sh(`server-command set-user-property dan secondary-card-number 2001`)
	if code != 1 || !strings.Contains(errs, `secondary-card-number: card/ID number "2001" is already in use by user "ann"`) {
		t.Errorf("conflict: exit %d, stderr %q", code, errs)
	}

	// Top up negative balances to zero.
	s.mustSh(`for u in $(server-command list-user-accounts); do
  b=$(server-command get-user-account-balance "$u")
  if awk -v b="$b" 'BEGIN { exit !(b < 0) }'; then
    server-command adjust-user-account-balance "$u" "${b#-}" "top up to zero" >/dev/null
  fi
done`)
	out = s.mustSh(`for u in ben cat dan; do server-command get-user-account-balance "$u"; done`)
	if want := "0.00\n0.00\n12.00\n"; out != want {
		t.Errorf("balances after the top-up:\n%s", out)
	}

	// Account selection by the number of shared accounts a user may use.
	s.mustSh(`server-command list-user-accounts | while read -r u; do
  n=$(server-command list-user-shared-accounts "$u" | wc -l)
  if [ "$n" -eq 0 ]; then server-command set-user-account-selection-auto-charge-personal "$u"
  elif [ "$n" -eq 1 ]; then server-command set-user-account-selection-auto-select-shared-account "$u" "$(server-command list-user-shared-accounts "$u")" false
  else server-command set-user-account-selection-standard-popup "$u" false true false false false
  fi >/dev/null
done`)
	out = s.mustSh(`for u in $(server-command list-user-accounts); do
  echo "$u $(server-command get-user-property "$u" account-selection.mode) $(server-command get-user-property "$u" account-selection.auto-shared-account)"
done`)
	if want := "ann SHOW_ACCOUNT_SELECTION_POPUP \nben AUTO_CHARGE_TO_PERSONAL_ACCOUNT \ncat SHOW_ACCOUNT_SELECTION_POPUP \ndan AUTO_CHARGE_TO_PERSONAL_ACCOUNT \n"; out != want {
		t.Errorf("account selection:\n%s\nwant:\n%s", out, want)
	}
	s.must("removeUserFromGroup", "ann", "Staff")
	if _, err := s.call("setUserAccountSelectionAutoSelectSharedAccount", "ann", "Library", false); err == nil {
		t.Error("ann may no longer use Library, yet it was accepted")
	}
	s.must("setUserAccountSelectionAutoSelectSharedAccount", "ann", "Lab", true)

	// Lists: everything without offset/limit; the XML-RPC pages the way
	// PaperCut's examples do, stopping at the first short page.
	if out := s.mustSh(`server-command list-shared-accounts`); out != "Lab\nLibrary\nLibrary\\Archive\n" {
		t.Errorf("list-shared-accounts: %q", out)
	}
	var paged []string
	for offset, limit := 0, 3; ; offset += limit {
		page := s.must("listUserAccounts", offset, limit).([]any)
		for _, u := range page {
			paged = append(paged, u.(string))
		}
		if len(page) < limit {
			break
		}
	}
	if strings.Join(paged, ",") != "ann,ben,cat,dan" {
		t.Errorf("paged listUserAccounts: %v", paged)
	}
	if _, err := s.call("listSharedAccounts", 0, 100000); err == nil || !strings.Contains(err.Error(), "10000") {
		t.Errorf("a limit over the maximum: %v", err)
	}
	// Errors: stderr, status 1, naming the argument.
	for script, want := range map[string]string{
		`server-command get-user-property ghost email`:       `"ghost" does not exist`,
		`server-command list-user-accounts zero`:             `"offset"`,
		`server-command adjust-user-account-balance dan x y`: `"adjustment"`,
		`server-command no-such-verb`:                        `unknown command "no-such-verb"`,
	} {
		code, out, errs := s.sh(script)
		if code != 1 || out != "" || !strings.Contains(errs, want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q (want %q)", script, code, out, errs, want)
		}
	}

	// The installer's token change takes effect without a restart.
	const fresh = "installer-token-Avocet-99120"
	if out := s.mustSh(`server-command set-config auth.webservices.auth-token ` + fresh + ` && server-command get-config auth.webservices.auth-token`); out != "true\n(set)\n" {
		t.Errorf("set-config then get-config: %q", out)
	}
	s.token = fresh
	deadline := time.Now().Add(hangGuard) // the server's settings cache lasts 2 s
	for {
		if _, err := s.call("getTotalUsers"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the new token never worked: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Monitoring reads the health key with get-config and calls the health API.
	key := strings.TrimSpace(s.mustSh(`server-command get-config health.api.key`))
	if len(key) < 32 {
		t.Fatalf("health.api.key = %q", key)
	}
	resp, err := http.Get(base + "/api/health?Authorization=" + key)
	if err != nil {
		t.Fatal(err)
	}
	var health map[string]any
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || health["status"] != "OK" {
		t.Errorf("health: %d %v %v", resp.StatusCode, health, err)
	}
	if resp, err := http.Get(base + "/api/health"); err != nil || resp.StatusCode != 401 {
		t.Errorf("health without the key: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
}
