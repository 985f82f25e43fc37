package commands_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/commands"
)

const importFile = "alice\talice's long passphrase\t5.00\tN\tAlice\talice@example.org\n" +
	"bob\tbob rides a blue bicycle\n" +
	"b@d\tsome other passphrase\n"

func TestBatchImportInternalUsersOverXMLRPCAndCLI(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, db == "postgres")
			root := t.TempDir()
			r.env.Core.Config.Sync.AllowedRoots = []string{root}
			inside := filepath.Join(root, "internal.tsv")
			outside := filepath.Join(t.TempDir(), "internal.tsv")
			for _, p := range []string{inside, outside} {
				if err := os.WriteFile(p, []byte(importFile), 0o600); err != nil {
					t.Fatal(err)
				}
			}

			_, err := r.call(t, "batchImportInternalUsers", outside, false, false)
			if f := fault(t, err); f.Code != commands.FaultInvalid || !strings.Contains(f.Message, "file") {
				t.Errorf("outside the allowed roots: %v", f)
			}
			if n, _ := r.store.CountUsers(context.Background()); n != 0 {
				t.Fatalf("%d users after a refused import", n)
			}

			report, ok := r.must(t, "batchImportInternalUsers", inside, "N", "N", "Y").(string)
			if !ok || !strings.Contains(report, "2 internal users created") || !strings.Contains(report, "line 3: username") ||
				!strings.Contains(report, "no mail server is configured") || strings.Contains(report, "passphrase") {
				t.Fatalf("report = %q", report)
			}
			r.env.Tasks.Wait()
			st, err := r.env.Tasks.Poll(context.Background())
			if err != nil || !st.Completed || !strings.Contains(st.Message, "2 internal users created") {
				t.Errorf("getTaskStatus = %v", st)
			}
			u, err := r.store.UserByName(context.Background(), "alice")
			if err != nil || !u.Internal || u.Balance.String() != "5.00" {
				t.Fatalf("alice = %+v, %v", u, err)
			}

			// The CLI names any file on the server.
			var out, errb bytes.Buffer
			code := commands.RunCLI(context.Background(), r.table, r.env, []string{"batch-import-internal-users", outside, "Y", "N"}, &out, &errb)
			if code != 0 || !strings.Contains(out.String(), "2 updated") {
				t.Errorf("CLI: %d %q %q", code, out.String(), errb.String())
			}
			code = commands.RunCLI(context.Background(), r.table, r.env, []string{"batch-import-internal-users", outside}, &out, &errb)
			if code != 1 || !strings.Contains(errb.String(), "batch-import-internal-users file overwriteExistingPasswords overwriteExistingPINs [emailOnCreation]") {
				t.Errorf("arity: %d %q", code, errb.String())
			}
		})
	}
}

func TestPasswordsThroughTheCommandTable(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, false)
	c := r.env.Core
	r.must(t, "addNewInternalUser", "carol", "carol's first passphrase")
	r.must(t, "addNewUser", "dirk")

	r.must(t, "setUserProperty", "carol", "password", "carol's second passphrase")
	u, _ := r.store.UserByName(ctx, "carol")
	if ok, _ := c.Hasher.Verify(ctx, u.PasswordHash, "carol's second passphrase"); !ok {
		t.Error("setUserProperty password did not change an internal user's password")
	}
	_, err := r.call(t, "setUserProperty", "dirk", "password", "dirk's passphrase here")
	if f := fault(t, err); f.Code != commands.FaultInvalid || !strings.Contains(f.Message, "managed in the directory") {
		t.Errorf("directory user: %v", f)
	}
	if d, _ := r.store.UserByName(ctx, "dirk"); d.PasswordHash != "" {
		t.Error("a directory user got a password")
	}

	r.must(t, "changeInternalAdminPassword", "the admin's new passphrase")
	if ok, _ := c.CheckAdminPassword(ctx, "the admin's new passphrase"); !ok {
		t.Error("changeInternalAdminPassword did not take")
	}
	var out, errb bytes.Buffer
	if code := commands.RunCLI(ctx, r.table, r.env, []string{"change-internal-admin-password", "from the command line"}, &out, &errb); code != 0 {
		t.Fatalf("CLI: %d %q", code, errb.String())
	}
	if ok, _ := c.CheckAdminPassword(ctx, "from the command line"); !ok {
		t.Error("change-internal-admin-password did not take")
	}

	// XML cannot carry NUL or other control characters (the client sends
	// U+FFFD instead), so those are checked through server-command, which
	// runs the same table.
	cli := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := commands.RunCLI(ctx, r.table, r.env, args, &out, &errb)
		return code, errb.String()
	}
	bad := map[string]string{
		"empty":      "",
		"whitespace": "          ",
		"257":        strings.Repeat("x", 257),
		"1 MB":       strings.Repeat("x", 1<<20),
		"NUL":        "abcd\x00efghijk",
		"non-UTF-8":  "abcd\xff\xfeefghijk",
		"common":     "password",
	}
	for name, pw := range bad {
		for _, call := range [][]string{{"changeInternalAdminPassword", pw}, {"setUserProperty", "carol", "password", pw}, {"addNewInternalUser", "newbie", pw}} {
			if code, msg := cli(append([]string{commands.KebabName(call[0])}, call[1:]...)...); code != 1 || !strings.Contains(msg, "password") {
				t.Errorf("%s password to %s on the CLI: %d %q", name, call[0], code, msg)
			}
			if name == "NUL" || name == "non-UTF-8" {
				continue
			}
			params := make([]any, 0, len(call)-1)
			for _, v := range call[1:] {
				params = append(params, v)
			}
			_, err := r.call(t, call[0], params...)
			if err == nil {
				t.Errorf("%s password accepted by %s", name, call[0])
				continue
			}
			if f := fault(t, err); f.Code != commands.FaultInvalid || !strings.Contains(f.Message, "password") {
				t.Errorf("%s password to %s: %v", name, call[0], f)
			}
		}
	}
	if ok, _ := c.CheckAdminPassword(ctx, "from the command line"); !ok {
		t.Error("a refused password changed the admin's")
	}
	if u2, _ := r.store.UserByName(ctx, "carol"); u2.PasswordHash != u.PasswordHash {
		t.Error("a refused password changed carol's")
	}

	names := map[string]string{"slash": "a/b", "backslash": `a\b`, "at": "a@b", "control": "a\x07b", "51": strings.Repeat("n", 51), "tab": "a\tb", "newline": "a\nb"}
	for what, name := range names {
		if code, msg := cli("add-new-internal-user", name, "a perfectly fine passphrase"); code != 1 || !strings.Contains(msg, "username") {
			t.Errorf("username with %s on the CLI: %d %q", what, code, msg)
		}
		if what == "control" {
			continue
		}
		_, err := r.call(t, "addNewInternalUser", name, "a perfectly fine passphrase")
		if err == nil {
			t.Errorf("username with %s accepted", what)
			continue
		}
		if f := fault(t, err); f.Code != commands.FaultInvalid || !strings.Contains(f.Message, "username") {
			t.Errorf("username with %s: %v", what, f)
		}
	}
	if n, _ := r.store.CountUsers(ctx); n != 2 {
		t.Errorf("%d users after refused creations, want 2", n)
	}
}
