package papercutimport

import (
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// FuzzParseSourceRecords feeds the property values a source answers into
// the parsers of users and shared accounts: whatever a server sends, they
// never panic, and what they accept is what Ream can store.
func FuzzParseSourceRecords(f *testing.F) {
	f.Add("alice", "10.50", "true", "1234", `Parent\Sub`, "-3.2", "ALWAYS_INVOICE", "COMMENT_REQUIRED", "a|b", "AUTO_CHARGE_TO_SHARED")
	f.Add(" Bob ", "x", "Y", "12 34", `\`, "1e5", "", "", "a,b", "")
	f.Add("", "0", "N", "", "", "", "x", "y", "", "BOGUS")
	f.Fuzz(func(t *testing.T, name, balance, flag, card, account, amount, invoice, comment, list, mode string) {
		props := map[string]string{"full-name": name, "email": name, "other-emails": list, "department": name, "office": name,
			"notes": name, "username-alias": name, "home": name, "primary-card-number": card, "secondary-card-number": card,
			"balance": balance, "restricted": flag, "disabled-print": flag, "internal": flag, "account-selection.mode": mode,
			"account-selection.can-charge-personal": flag, "account-selection.auto-shared-account": account}
		if r, err := parseUser(SourceUser{Username: name, Props: props}); err == nil {
			u := r.user
			if u.Username == "" || u.Username != store.NormalizeUsername(u.Username) {
				t.Fatalf("accepted username %q", u.Username)
			}
			if core.CheckCardNumber(u.PrimaryCard) != nil || core.CheckCardNumber(u.SecondaryCard) != nil {
				t.Fatalf("accepted card %q", card)
			}
			if u.Internal == (u.SourceID != "") {
				t.Fatalf("internal %t with source %q", u.Internal, u.SourceID)
			}
		}
		aprops := map[string]string{"balance": balance, "overdraft-amount": amount, "restricted": flag, "disabled": flag,
			"access-users": list, "access-groups": list, "invoice-option": invoice, "comment-option": comment, "notes": name, "pin": card}
		if r, err := parseAccount(SourceAccount{Name: account, Props: aprops}); err == nil {
			if r.name == "" || strings.Contains(r.name, `\`) || strings.Contains(r.parent, `\`) {
				t.Fatalf("accepted account name %q as %q / %q", account, r.parent, r.name)
			}
			if !model.ValidInvoiceOption(r.acc.InvoiceOption) || !model.ValidCommentOption(r.acc.CommentOption) {
				t.Fatalf("accepted options %q %q", r.acc.InvoiceOption, r.acc.CommentOption)
			}
			for _, n := range append(r.acc.AccessUsers, r.acc.AccessGroups...) {
				if n == "" || strings.Contains(n, "\n") {
					t.Fatalf("accepted access name %q", n)
				}
			}
		}
		if p, err := ParseParts(list); err == nil && list != "" && p == (Parts{}) {
			t.Fatalf("--only %q accepted with nothing chosen", list)
		}
	})
}
