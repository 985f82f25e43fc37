package server

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/reamprint/ream/internal/xmlrpc"
)

var cachedLookups = regexp.MustCompile(`(?m)^ream_card_lookups_total\{answer="cache"\} (\S+)$`)

// TestCardLookupsSeeChangesFromOtherProcesses: a running `ream serve`
// answers a repeated card lookup from its cache, and every change that
// `ream server-command` makes in a process of its own on the same data
// directory — a card moved to another user, a new card for a number looked
// up before, a user deleted, a card removed, a card import — is seen by
// the very next lookup, also across a WAL checkpoint.
func TestCardLookupsSeeChangesFromOtherProcesses(t *testing.T) {
	const token = "card-cache-token-Wren"
	ctx := context.Background()
	dir := t.TempDir()
	env := []string{"REAM_AUTH_WEBSERVICES_AUTH_TOKEN=" + token}
	command := func(args ...string) {
		t.Helper()
		mustRun(t, env, "", append([]string{"server-command", "--data-dir", dir}, args...)...)
	}
	mustRun(t, env, "", "migrate", "--data-dir", dir)
	for _, name := range []string{"alice", "bob", "carol"} {
		command("add-new-user", name)
	}
	command("set-user-property", "alice", "primary-card-number", "1001")
	command("set-user-property", "bob", "primary-card-number", "2001")
	command("set-user-property", "carol", "secondary-card-number", "3002")

	base, kill := startServeArgs(t, env, "--data-dir", dir)
	defer kill()
	cached := func() float64 {
		t.Helper()
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		m := cachedLookups.FindSubmatch(body)
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	// expect looks each number up twice: the second answer must come from
	// the cache, and both must be the owner.
	expect := func(step string, want map[string]string) {
		t.Helper()
		for card, name := range want {
			for i := range 2 {
				before := cached()
				v, err := xmlrpc.Call(ctx, http.DefaultClient, base+"/rpc/api/xmlrpc", "api.lookUpUserNameByCardNo", token, card)
				if err != nil {
					t.Fatalf("%s: lookup of %s: %v", step, card, err)
				}
				if v != name {
					t.Errorf("%s: card %s → %q, want %q", step, card, v, name)
				}
				if i == 1 && cached() != before+1 {
					t.Errorf("%s: card %s looked up again was not answered from the cache", step, card)
				}
			}
		}
	}

	expect("start", map[string]string{"1001": "alice", "2001": "bob", "3002": "carol", "4001": ""})

	command("set-user-property", "alice", "primary-card-number", "")
	command("set-user-property", "bob", "secondary-card-number", "1001")
	expect("card moved from alice to bob", map[string]string{"1001": "bob", "2001": "bob"})

	command("set-user-property", "alice", "primary-card-number", "4001")
	expect("new card, looked up before as nobody's", map[string]string{"4001": "alice"})

	checkpoint(t, filepath.Join(dir, "ream.db"))
	command("delete-existing-user", "carol")
	expect("user deleted after a checkpoint", map[string]string{"3002": "", "4001": "alice"})

	command("set-user-property", "bob", "secondary-card-number", "")
	expect("card removed", map[string]string{"1001": "", "2001": "bob"})

	file := filepath.Join(t.TempDir(), "cards.tsv")
	if err := os.WriteFile(file, []byte("bob\t5001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	command("batch-import-user-card-id-numbers", file, "N")
	expect("card import", map[string]string{"5001": "bob", "2001": ""})
}

// checkpoint copies the WAL into the database and truncates it, from a
// connection of the test's own process.
func checkpoint(t *testing.T, file string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
}
