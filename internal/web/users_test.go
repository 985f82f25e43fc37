package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/money"
)

func TestCheckBalanceAdjustment(t *testing.T) {
	for _, tc := range []struct {
		adjust, comment string
		balance         money.Amount
		want            string // amount, or "" when refused
		msg             string // part of the message when refused
	}{
		{"", strings.Repeat("x", 5000), 0, "0.00", ""}, // no adjustment: the comment is not used
		{"5.00", "top-up", 0, "5.00", ""},
		{"-2.50", strings.Repeat("é", 1000), 0, "-2.50", ""},
		{"ten", "", 0, "", "Balance adjustment: ten is not an amount"},
		{"1.00", strings.Repeat("é", 1001), 0, "", "Comment: 1001 characters is longer than the 1000 allowed"},
		{"1.00", "bad \xff byte", 0, "", "Comment: the text is not valid UTF-8"},
		{"1.00", "", money.Max, "", "out of the allowed range"},
	} {
		amount, msg := checkBalanceAdjustment(tc.adjust, tc.comment, tc.balance)
		if tc.msg != "" {
			if !strings.Contains(msg, tc.msg) || !strings.Contains(msg, "Nothing was saved") {
				t.Errorf("check(%q, %d-byte comment) message = %q, want %q", tc.adjust, len(tc.comment), msg, tc.msg)
			}
			continue
		}
		if msg != "" || amount.String() != tc.want {
			t.Errorf("check(%q) = %s, %q; want %s", tc.adjust, amount, msg, tc.want)
		}
	}
}

// FuzzCheckBalanceAdjustment: whatever is posted, the check does not
// panic and never lets through what core would refuse after the details
// were saved.
func FuzzCheckBalanceAdjustment(f *testing.F) {
	f.Add("5.00", "top-up")
	f.Add("-0.01", "\xff")
	f.Add("99999999999999999999", "")
	f.Fuzz(func(t *testing.T, adjust, comment string) {
		amount, msg := checkBalanceAdjustment(adjust, comment, 0)
		if msg != "" {
			return
		}
		if adjust != "" {
			if want, err := money.Parse(adjust); err != nil || want != amount {
				t.Fatalf("accepted %q as %s (parse: %s, %v)", adjust, amount, want, err)
			}
			if !utf8.ValidString(comment) || utf8.RuneCountInString(comment) > maxAdjustmentComment {
				t.Fatalf("accepted a comment core refuses: %q", comment)
			}
		}
	})
}

// TestUserEditRefusedAdjustmentSavesNothing: a comment core would refuse
// stops the whole form, so the changed details are not saved on their own.
func TestUserEditRefusedAdjustmentSavesNothing(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	before, err := e.store.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	txsBefore := transactionCount(t, e, before.ID)
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	form := url.Values{"csrf": {token}, "full_name": {"Alice Renamed"}, "department": {"Physics"}, "primary_card": {"4711"},
		"adjust": {"10.00"}, "comment": {strings.Repeat("c", 1001)}}
	resp, body := e.post(c, "/admin/users/alice/edit", form, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Comment: 1001 characters is longer than the 1000 allowed") {
		t.Fatalf("too-long comment: status %d, want 400 naming the comment\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `value="Alice Renamed"`) {
		t.Error("the form is not shown again with what was typed")
	}
	after, err := e.store.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if after.FullName != before.FullName || after.Department != before.Department || after.Balance != before.Balance {
		t.Errorf("refused edit changed alice: before %+v, after %+v", before, after)
	}
	if n := transactionCount(t, e, after.ID); n != txsBefore {
		t.Errorf("refused edit recorded a transaction (%d, was %d)", n, txsBefore)
	}
}

// transactionCount is the number of a user's balance transactions.
func transactionCount(t *testing.T, e *testEnv, userID int64) int {
	t.Helper()
	txs, err := e.store.Transactions(context.Background(), userID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(txs)
}
