package usersync

import (
	"bytes"
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/testenv/slapd"
	"github.com/reamprint/ream/internal/xmlrpc"
)

func (h *harness) env() commands.Env {
	return commands.Env{Core: h.core, Store: h.store, Settings: h.core.Settings, Tasks: h.svc.Tasks,
		Features: &commands.Features{UserSync: h.svc}}
}

func (h *harness) serverCommand(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := commands.RunCLI(context.Background(), commands.NewTable(), h.env(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestServerCommands(t *testing.T) {
	srv := slapd.Start(t, directoryLDIF(t))
	h := newHarness(t, false)
	h.useLDAP(srv)

	out, errOut, code := h.serverCommand("perform-user-and-group-sync")
	if code != 0 || !strings.Contains(out, "create alice") {
		t.Fatalf("perform-user-and-group-sync = %d\n%s\n%s", code, out, errOut)
	}
	if out, errOut, code = h.serverCommand("add-new-group", "Staff"); code != 0 {
		t.Fatalf("add-new-group = %d\n%s\n%s", code, out, errOut)
	}
	if got := h.members("Staff"); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("Staff = %v", got)
	}
	if _, errOut, code = h.serverCommand("sync-group", "nope"); code != 1 || !strings.Contains(errOut, `group "nope" does not exist`) {
		t.Errorf("sync-group nope = %d %q", code, errOut)
	}
	if _, _, code = h.serverCommand("remove-group", "Staff"); code != 0 {
		t.Errorf("remove-group = %d", code)
	}
	file := h.writeFile("import.txt", "alice\t\t\t\t\t\t\t\t\tnew note\nzoe\n")
	if out, errOut, code = h.serverCommand("batch-import-users", file, "N"); code != 0 || !strings.Contains(out, `user "zoe" does not exist`) {
		t.Errorf("batch-import-users = %d\n%s\n%s", code, out, errOut)
	}
	if h.user("alice").Notes != "new note" {
		t.Error("batch-import-users did not update alice")
	}

	// Without a source, addNewGroup makes a local group.
	h.set(settings.UserSyncSource, SourceNone)
	if _, errOut, code = h.serverCommand("add-new-group", "Local Group"); code != 0 {
		t.Fatalf("add-new-group without a source = %d %s", code, errOut)
	}
	if g, err := h.store.GroupByName(context.Background(), "local group"); err != nil || g.Tracked {
		t.Errorf("local group = %+v, %v", g, err)
	}
}

func TestAPIRunsSyncInBackground(t *testing.T) {
	srv := slapd.Start(t, directoryLDIF(t))
	h := newHarness(t, false)
	h.useLDAP(srv)
	cfg := *h.core.Config
	cfg.Auth.WebServices.AuthToken = "secret-token"
	api := httptest.NewServer(&commands.XMLRPCHandler{Table: commands.NewTable(), Env: h.env(), Config: &cfg, Log: h.core.Log})
	defer api.Close()
	ctx := context.Background()
	call := func(method string, params ...any) any {
		t.Helper()
		v, err := xmlrpc.Call(ctx, nil, api.URL, "api."+method, params...)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		return v
	}
	if v := call("performUserAndGroupSyncAdvanced", "secret-token", false, true); v != true {
		t.Fatalf("performUserAndGroupSyncAdvanced = %v", v)
	}
	h.svc.Tasks.Wait()
	st := call("getTaskStatus").(map[string]any)
	if st["completed"] != true || !strings.Contains(st["message"].(string), "create alice") {
		t.Fatalf("task status = %v", st)
	}
	h.user("carol")

	// Over the API a file must lie under sync.allowed-roots.
	call("batchImportUsers", "secret-token", "/etc/passwd", true)
	h.svc.Tasks.Wait()
	st = call("getTaskStatus").(map[string]any)
	if msg := st["message"].(string); !strings.Contains(msg, "Error:") || !strings.Contains(msg, "outside") {
		t.Errorf("batchImportUsers outside the roots: %q", msg)
	}
}

func TestUsersSyncCLI(t *testing.T) {
	srv := slapd.Start(t, directoryLDIF(t))
	h := newHarness(t, false)
	h.useLDAP(srv)
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if code := RunCLI(ctx, h.svc, []string{"--test"}, &out, &errOut); code != 0 {
		t.Fatalf("--test = %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "create alice") || !strings.Contains(out.String(), "Test only") {
		t.Errorf("--test output:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "planning") {
		t.Errorf("no progress on stderr: %q", errOut.String())
	}
	h.noUser("alice")
	out.Reset()
	if code := RunCLI(ctx, h.svc, nil, &out, &errOut); code != 0 {
		t.Fatalf("sync = %d: %s", code, errOut.String())
	}
	h.user("alice")
	if code := RunCLI(ctx, h.svc, []string{"--confirm-delete", "x"}, &out, &errOut); code != ExitUsage {
		t.Errorf("bad flag = %d, want %d", code, ExitUsage)
	}
	if code := RunCLI(ctx, h.svc, []string{"extra"}, &out, &errOut); code != ExitUsage {
		t.Errorf("extra argument = %d, want %d", code, ExitUsage)
	}
}
