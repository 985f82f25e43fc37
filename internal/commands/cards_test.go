package commands_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

func setSetting(t *testing.T, r *rig, key, value string) {
	t.Helper()
	err := r.store.InTx(context.Background(), func(tx *store.Tx) error {
		return r.env.Settings.Set(context.Background(), tx, key, value)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCardLookupThroughConverters is the card reader story: the reader sends
// hexadecimal, the user's number is stored in decimal, and the converter
// chain bridges the two for every lookup command.
func TestCardLookupThroughConverters(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, db == "postgres")
			r.must(t, "addNewUser", "alice")
			r.must(t, "setUserProperty", "alice", "primary-card-number", "3735928559") // 0xDEADBEEF
			r.must(t, "addNewUser", "bob")
			r.must(t, "setUserProperty", "bob", "secondary-card-number", "4660") // 0x1234

			// Without converters only the stored text matches.
			if v := r.must(t, "lookUpUserNameByCardNo", "DEADBEEF"); v != "" {
				t.Errorf("hex found %v without a converter", v)
			}
			if v := r.must(t, "lookUpUserNameByCardNo", " 3735928559 "); v != "alice" {
				t.Errorf("decimal lookup = %v", v)
			}
			setSetting(t, r, settings.CardConverters, "hex2dec")
			for _, tc := range []struct{ method, number, want string }{
				{"lookUpUserNameByCardNo", "DEADBEEF", "alice"},
				{"lookUpUserNameByCardNo", "deadbeef", "alice"},
				{"lookUpUserNameByCardNo", "00DEADBEEF", "alice"},
				{"lookUpUserNameByIDNo", "1234", "bob"}, // the secondary field, converted
				{"lookUpUserNameByCardNo", "4660", "bob"},
				{"lookUpUserNameByCardNo", "FFFF", ""},
				{"lookUpUserNameByCardNo", "not hex!", ""},
				{"lookUpUserNameByCardNo", "", ""},
			} {
				if v := r.must(t, tc.method, tc.number); v != tc.want {
					t.Errorf("%s(%q) = %v, want %q", tc.method, tc.number, v, tc.want)
				}
			}
			if v := r.must(t, "adjustUserAccountBalanceByCardNumber", "DEADBEEF", "1.5", "card reader"); v != true {
				t.Errorf("adjust by hex card = %v", v)
			}
			if v := r.must(t, "getUserAccountBalance", "alice"); v != 1.5 {
				t.Errorf("balance = %v", v)
			}
			if v := r.must(t, "adjustUserAccountBalanceByCardNumber", "FFFF", "1", "nobody"); v != false {
				t.Errorf("adjust for an unknown card = %v", v)
			}
			var out, errb bytes.Buffer
			if code := commands.RunCLI(context.Background(), r.table, r.env, []string{"look-up-user-name-by-card-no", "DEADBEEF"}, &out, &errb); code != 0 || strings.TrimSpace(out.String()) != "alice" {
				t.Errorf("CLI lookup: %d %q %q", code, out.String(), errb.String())
			}
		})
	}
}

// An API caller may list every user anyway, so the fault names the holder
// (and the property, as the caller spelt it).
func TestCardNumberInUseIsAFaultNamingTheOwner(t *testing.T) {
	r := newRig(t, false)
	r.must(t, "addNewInternalUser", "alice", "correct horse battery", "Alice", "", "1001", "")
	r.must(t, "addNewUser", "bob")
	for _, prop := range []string{"primary-card-number", "secondary-card-number", "card-number", "card-number2"} {
		_, err := r.call(t, "setUserProperty", "bob", prop, "1001")
		f := fault(t, err)
		if want := prop + `: card/ID number "1001" is already in use by user "alice"`; f.Message != want {
			t.Errorf("%s: fault %q", prop, f.Message)
		}
	}
	if v := r.must(t, "getUserProperty", "bob", "primary-card-number"); v != "" {
		t.Errorf("bob's number after the refusals = %v", v)
	}
}

func TestBatchImportUserCardIDNumbers(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, db == "postgres")
			r.env.Features.Cards = cards.NewService(r.env.Core, nil)
			root, outside := t.TempDir(), t.TempDir()
			r.env.Core.Config.Sync.AllowedRoots = []string{root}
			r.must(t, "addNewUser", "alice")
			r.must(t, "addNewUser", "bob")
			r.must(t, "setUserProperty", "bob", "primary-card-number", "5555")
			file := "alice\t1234\t9876\ncarol\t1\nalice2\t5555\n"
			inside := filepath.Join(root, "cards.txt")
			for _, p := range []string{inside, filepath.Join(outside, "cards.txt")} {
				if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := r.call(t, "batchImportUserCardIdNumbers", filepath.Join(outside, "cards.txt"), false)
			if f := fault(t, err); !strings.Contains(f.Message, "allowed-roots") {
				t.Errorf("outside the roots: %q", f.Message)
			}
			report, ok := r.must(t, "batchImportUserCardIdNumbers", inside, "N").(string)
			if !ok || !strings.Contains(report, "1 card numbers set") || !strings.Contains(report, `line 2: username: user "carol" does not exist`) {
				t.Fatalf("report = %q", report)
			}
			r.env.Tasks.Wait()
			st, err := r.env.Tasks.Poll(context.Background())
			if err != nil || !st.Completed || !strings.Contains(st.Message, "1 card numbers set") {
				t.Errorf("getTaskStatus = %+v, %v", st, err)
			}
			if v := r.must(t, "lookUpUserNameByCardNo", "1234"); v != "alice" {
				t.Errorf("imported number finds %v", v)
			}

			// The CLI may name any file and answers with the report.
			if err := os.WriteFile(filepath.Join(outside, "cards.txt"), []byte("bob\t1234\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			code := commands.RunCLI(context.Background(), r.table, r.env, []string{"batch-import-user-card-id-numbers", filepath.Join(outside, "cards.txt"), "Y"}, &out, &errb)
			if code != 0 || !strings.Contains(out.String(), "line 1: card: card number is already in use by another user; skipped") || strings.Contains(out.String(), "alice") {
				t.Errorf("CLI: %d %q %q", code, out.String(), errb.String())
			}
			if v := r.must(t, "lookUpUserNameByCardNo", "1234"); v != "alice" {
				t.Errorf("after a refused import the number belongs to %v", v)
			}
		})
	}
}
