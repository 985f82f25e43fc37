package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// addAccounts makes n top-level accounts "Acct 00000"… and, under the
// first, one sub-account, in one transaction.
func addAccounts(t *testing.T, s *store.Store, n int) {
	t.Helper()
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		var first int64
		for i := range n {
			a := &model.Account{Name: fmt.Sprintf("Acct %05d", i), Enabled: true}
			if err := tx.CreateAccount(context.Background(), a); err != nil {
				return err
			}
			if i == 0 {
				first = a.ID
			}
		}
		return tx.CreateAccount(context.Background(), &model.Account{Name: "Sub", ParentID: first, Enabled: true})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A limit up to the one maximum is honoured in full over XML-RPC, however
// many rows the store reads at once; one above it is refused naming it;
// server-command lists everything without offset and limit.
func TestListLimits(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, db == "postgres")
			const n = 2500
			addAccounts(t, r.store, n)
			got := toStrings(r.must(t, "listSharedAccounts", 0, commands.MaxListLimit))
			if len(got) != n+1 || got[0] != "Acct 00000" || got[1] != `Acct 00000\Sub` || got[n] != fmt.Sprintf("Acct %05d", n-1) {
				t.Fatalf("listSharedAccounts(0, %d) gave %d names (want %d), starting %v", commands.MaxListLimit, len(got), n+1, got[:min(3, len(got))])
			}
			page := toStrings(r.must(t, "listSharedAccounts", 2000, 1000))
			if len(page) != n+1-2000 {
				t.Errorf("last page has %d names, want %d", len(page), n+1-2000)
			}
			for _, method := range []string{"listSharedAccounts", "listUserAccounts", "listUserGroups"} {
				_, err := r.call(t, method, 0, commands.MaxListLimit+1)
				if f := fault(t, err); !strings.Contains(f.Message, fmt.Sprint(commands.MaxListLimit)) || !strings.Contains(f.Message, "limit") {
					t.Errorf("%s over the maximum: %q", method, f.Message)
				}
				if _, err := r.call(t, method); !strings.Contains(fault(t, err).Message, "offset and limit") {
					t.Errorf("%s without offset and limit over XML-RPC: %v", method, err)
				}
			}
			_, err := r.call(t, "getGroupMembers", "[All Users]", 0, commands.MaxListLimit+1)
			if f := fault(t, err); !strings.Contains(f.Message, fmt.Sprint(commands.MaxListLimit)) {
				t.Errorf("getGroupMembers over the maximum: %q", f.Message)
			}

			run := func(args ...string) (int, string, string) {
				var out, errb bytes.Buffer
				code := commands.RunCLI(context.Background(), r.table, r.env, args, &out, &errb)
				return code, out.String(), errb.String()
			}
			code, out, errs := run("list-shared-accounts")
			if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); code != 0 || len(lines) != n+1 || lines[1] != `Acct 00000\Sub` {
				t.Errorf("list-shared-accounts: exit %d, %d lines, stderr %q", code, len(lines), errs)
			}
			if code, out, _ := run("list-shared-accounts", "2499"); code != 0 || out != "Acct 02498\nAcct 02499\n" {
				t.Errorf("list-shared-accounts 2499: exit %d, %q", code, out)
			}
			if code, out, _ := run("list-shared-accounts", "0", "100000"); code != 0 || strings.Count(out, "\n") != n+1 {
				t.Errorf("list-shared-accounts 0 100000: exit %d, %d lines", code, strings.Count(out, "\n"))
			}
			if code, _, errs := run("list-shared-accounts", "0", "0"); code != 1 || !strings.Contains(errs, "limit") {
				t.Errorf("limit 0: exit %d, %q", code, errs)
			}
			if code, _, errs := run("list-shared-accounts", "x"); code != 1 || !strings.Contains(errs, `"offset"`) {
				t.Errorf("offset x: exit %d, %q", code, errs)
			}
			if code, _, errs := run("get-group-members", "nobody-group"); code != 1 || !strings.Contains(errs, `"nobody-group" does not exist`) {
				t.Errorf("unknown group: exit %d, %q", code, errs)
			}
			if code, out, _ := run("get-group-members", "[All Users]"); code != 0 || out != "" {
				t.Errorf("members of an empty [All Users]: exit %d, %q", code, out)
			}
		})
	}
}

// Some third-party clients read a fault's two members, and getTaskStatus'
// two, by position: the raw answers keep PaperCut's order.
func TestWireOrderOfFaultsAndTaskStatus(t *testing.T) {
	r := newRig(t, false)
	post := func(body string) string {
		t.Helper()
		resp, err := http.Post(r.url, "text/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	f := post(`<methodCall><methodName>api.isUserExists</methodName><params><param><value>wrong-token</value></param><param><value>x</value></param></params></methodCall>`)
	if !regexp.MustCompile(`<fault><value><struct><member><name>faultString</name><value>[^<]*</value></member><member><name>faultCode</name><value><int>\d+</int></value></member></struct>`).MatchString(f) {
		t.Errorf("fault not in faultString, faultCode <int> order:\n%s", f)
	}
	st := post(`<methodCall><methodName>api.getTaskStatus</methodName><params></params></methodCall>`)
	if !regexp.MustCompile(`<struct><member><name>completed</name><value><boolean>[01]</boolean></value></member><member><name>message</name>`).MatchString(st) {
		t.Errorf("getTaskStatus not in completed, message order:\n%s", st)
	}
}
