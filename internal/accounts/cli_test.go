package accounts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/accounts"
)

func TestRunCLI(t *testing.T) {
	st := openSQLite(t, t.TempDir()+"/ream.db")
	f := newFixture(t, st)
	ctx := context.Background()
	opts := f.file(t, "a.txt", lines("One", "Two\tSub"))
	if err := f.svc.SaveSettings(ctx, admin, accounts.Settings{Source: accounts.SourceFile, Location: opts.Location, Schedule: accounts.ScheduleOff}); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := accounts.RunCLI(ctx, f.svc, args, &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, _ := cli("--test", "--json")
	var rep struct {
		Test    bool
		Status  string
		Created []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || !rep.Test || len(rep.Created) != 3 {
		t.Fatalf("test --json: %d %v %q", code, err, out)
	}
	if code, out, _ = cli(); code != 0 || !strings.Contains(out, "Created: 3") {
		t.Fatalf("run: %d %q", code, out)
	}
	f.file(t, "a.txt", lines("One"))
	if code, _, errs := cli("--delete-missing"); code != accounts.ExitRefused || !strings.Contains(errs, "exactly 2") {
		t.Fatalf("over the limit: %d %q", code, errs)
	}
	if code, out, _ = cli("--delete-missing", "--confirm-delete", "2"); code != 0 || !strings.Contains(out, "Deleted: 2") {
		t.Fatalf("confirmed: %d %q", code, out)
	}
	if code, _, errs := cli("--file", f.root+"/missing.txt"); code != 1 || !strings.Contains(errs, "cannot be read") {
		t.Fatalf("missing file: %d %q", code, errs)
	}
	if code, _, _ := cli("extra"); code != accounts.ExitUsage {
		t.Fatalf("usage: %d", code)
	}
}
