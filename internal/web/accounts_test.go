package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
)

// TestAccountEditRefusedAdjustmentSavesNothing: a bad amount or a comment
// core would refuse stops the whole form, so the renamed account is not
// saved without its adjustment; a good form saves both.
func TestAccountEditRefusedAdjustmentSavesNothing(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	acc, err := e.core.CreateAccount(ctx, core.CLI, "Law", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	form := url.Values{"csrf": {token}, "name": {"Law Faculty"}, "enabled": {"on"}, "notes": {"renamed"},
		"invoice_option": {acc.InvoiceOption}, "comment_option": {acc.CommentOption}, "adjust": {"5.00"}}
	for _, tc := range []struct {
		name, adjust, comment, msg string
	}{
		{"comment over 1000 characters", "5.00", strings.Repeat("c", 1001), "Comment: 1001 characters is longer than the 1000 allowed"},
		{"not an amount", "five", "top-up", "Balance adjustment: five is not an amount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form.Set("adjust", tc.adjust)
			form.Set("comment", tc.comment)
			resp, body := e.post(c, accountPath(acc.ID)+"/edit", form, nil)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.msg) {
				t.Fatalf("status %d, want 400 saying %q\n%s", resp.StatusCode, tc.msg, body)
			}
			if !strings.Contains(body, `value="Law Faculty"`) {
				t.Error("the form is not shown again with what was typed")
			}
			after, err := e.store.AccountByID(ctx, acc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.Name != "Law" || after.Notes != "" || after.Balance != 0 {
				t.Errorf("refused edit changed the account: %+v", after)
			}
		})
	}
	form.Set("adjust", "5.00")
	form.Set("comment", "top-up")
	if resp, body := e.post(c, accountPath(acc.ID)+"/edit", form, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good edit: status %d\n%s", resp.StatusCode, body)
	}
	after, err := e.store.AccountByID(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Name != "Law Faculty" || after.Notes != "renamed" || after.Balance.String() != "5.00" {
		t.Errorf("good edit: %+v", after)
	}
}
