package cards_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

func TestRunCLI(t *testing.T) {
	s := reamtest.Store(t, false)
	svc := newService(t, s, nil)
	makeUsers(t, s, "Staff", &model.User{Username: "u1", PrimaryCard: "1001"}, &model.User{Username: "u2"}, &model.User{Username: "u3"})
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := cards.RunCLI(context.Background(), svc, args, &out, &errb)
		return code, out.String(), errb.String()
	}
	for _, bad := range [][]string{{}, {"frobnicate"}, {"generate"}, {"generate", "--group", "Staff", "--users", "u1"}, {"generate", "--nope"}, {"generate", "--group", "Staff", "extra"}} {
		if code, _, _ := run(bad...); code != 2 {
			t.Errorf("%q: exit %d, want 2", bad, code)
		}
	}
	if code, _, errb := run("generate", "--group", "Nobody"); code != 1 || !strings.Contains(errb, `group "Nobody" does not exist`) {
		t.Errorf("unknown group: %d %q", code, errb)
	}

	code, out, _ := run("generate", "--group", "Staff", "--only-blank")
	if code != 0 || !strings.Contains(out, "2 users will be changed (3 selected") || !strings.Contains(out, "--yes") {
		t.Errorf("preview: %d %q", code, out)
	}
	if u := user(t, s, "u2"); u.PrimaryCard != "" {
		t.Fatal("the preview changed a user")
	}
	code, out, errb := run("generate", "--group", "Staff", "--only-blank", "--yes")
	if code != 0 || !strings.Contains(out, "Generated 2 primary Card/ID numbers for 3 selected users.") || !strings.Contains(errb, "100% 2/2") {
		t.Errorf("apply: %d %q %q", code, out, errb)
	}
	if user(t, s, "u1").PrimaryCard != "1001" || user(t, s, "u2").PrimaryCard == "" {
		t.Error("only-blank did not do what it says")
	}
	code, out, _ = run("generate", "--users", "u1,ghost", "--yes")
	if code != 0 || !strings.Contains(out, "Not found (skipped): ghost") || user(t, s, "u1").PrimaryCard == "1001" {
		t.Errorf("users list: %d %q", code, out)
	}
}
