package commands_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/accounts"
	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/xmlrpc"
)

// withAccountSync gives the rig the shared account sync service with one
// allowed root, and returns the root.
func withAccountSync(t *testing.T, r *rig) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r.env.Features.AccountSync = accounts.NewService(r.store, r.env.Settings, []string{root}, nil)
	return root
}

func TestBatchImportSharedAccountsOverXMLRPC(t *testing.T) {
	r := newRig(t, false)
	root := withAccountSync(t, r)
	file := filepath.Join(root, "accounts.txt")
	if err := os.WriteFile(file, []byte("Dept A\t\tY\t11\t5\nDept A\tProject\nBroken\t\tmaybe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	report, ok := r.must(t, "batchImportSharedAccounts", file, true, false).(string)
	if !ok || !strings.Contains(report, "test: nothing was changed") || !strings.Contains(report, "line 3, field 3 (Enabled)") {
		t.Fatalf("test report %q", report)
	}
	if r.must(t, "isSharedAccountExists", "Dept A") != false {
		t.Fatal("a test import created an account")
	}
	report = r.must(t, "batchImportSharedAccounts", file, false, false).(string)
	if !strings.Contains(report, "Created: 2") || r.must(t, "isSharedAccountExists", `Dept A\Project`) != true {
		t.Fatalf("import report %q", report)
	}
	st, err := xmlrpc.Call(context.Background(), http.DefaultClient, r.url, "api.getTaskStatus")
	if err != nil {
		t.Fatal(err)
	}
	status := st.(map[string]any)
	if status["completed"] != true || !strings.Contains(status["message"].(string), "Created: 2") {
		t.Fatalf("task status %v", status)
	}
	// A skipped line makes a deleting import refuse: a fault with the report.
	_, err = r.call(t, "batchImportSharedAccounts", file, false, true)
	if f := fault(t, err); !strings.Contains(f.Message, "stopped before changing anything") {
		t.Fatalf("refused import fault %q", f.Message)
	}
	// Over the API the file must be under sync.allowed-roots.
	_, err = r.call(t, "batchImportSharedAccounts", "/etc/passwd", true, false)
	if f := fault(t, err); !strings.Contains(f.Message, "outside the allowed sync roots") {
		t.Fatalf("outside roots fault %q", f.Message)
	}
}

func TestBatchImportSharedAccountsCLI(t *testing.T) {
	r := newRig(t, false)
	withAccountSync(t, r)
	// The CLI is for whoever can read the server's configuration: any path.
	file := filepath.Join(t.TempDir(), "accounts.txt")
	if err := os.WriteFile(file, []byte("Dept B\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := commands.RunCLI(context.Background(), r.table, r.env, []string{"batch-import-shared-accounts", file, "N", "N"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "Created: 1") {
		t.Fatalf("exit %d, out %q, err %q", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	code = commands.RunCLI(context.Background(), r.table, r.env, []string{"batch-import-shared-accounts", file + ".missing", "N", "N"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "cannot be read") {
		t.Fatalf("missing file: exit %d, err %q", code, errb.String())
	}
}
