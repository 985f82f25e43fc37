package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/reamprint/ream/internal/testenv/browser"
)

// TestBrowserPasswordReset drives "Forgot your password?" in a real
// Chromium, on both databases: alice asks from the login page, the mail
// arrives through a real SMTP conversation, its link sets a new password,
// her session elsewhere is gone, the new password logs her in, and the
// link does not work a second time.
func TestBrowserPasswordReset(t *testing.T) {
	bothDatabases(t, func(t *testing.T, postgres bool) {
		e := newLinksEnv(t, postgres, nil)
		other := e.client()
		e.login(other, "user", "alice", alicePassword)

		ctx := browser.New(t)
		err := chromedp.Do(ctx,
			chromedp.Navigate(e.http.URL+"/user/login"),
			chromedp.WaitVisible("#forgot"),
			chromedp.Click("#forgot"),
			chromedp.WaitVisible("#identifier"),
			chromedp.SendKeys("#identifier", "alice"),
			chromedp.Click("#forgot_send"),
			chromedp.WaitVisible("#forgot_sent"),
		)
		if err != nil {
			t.Fatalf("ask for a link: %v", err)
		}
		if got := text(t, ctx, "#forgot_sent"); got != forgotAnswer {
			t.Errorf("the page says %q", got)
		}
		msgs := e.deliver()
		if len(msgs) != 1 || msgs[0].To[0] != "alice@example.org" {
			t.Fatalf("delivered %+v", msgs)
		}
		link := linkIn(t, msgs[0])

		const newPassword = "a brand new passphrase for alice"
		err = chromedp.Do(ctx,
			chromedp.Navigate(link),
			chromedp.WaitVisible("#reset_user"),
			chromedp.SendKeys("#password", "password"),
			chromedp.SendKeys("#password2", "password"),
			chromedp.Click("#reset_save"),
			chromedp.WaitVisible(".flash-error"),
		)
		if err != nil {
			t.Fatalf("a common password: %v", err)
		}
		if got := text(t, ctx, ".flash-error"); !strings.Contains(got, "common") {
			t.Errorf("a common password is refused with %q", got)
		}
		err = chromedp.Do(ctx,
			chromedp.WaitVisible("#password"),
			chromedp.SendKeys("#password", newPassword),
			chromedp.SendKeys("#password2", newPassword),
			chromedp.Click("#reset_save"),
			chromedp.WaitVisible(".flash-ok"),
		)
		if err != nil {
			t.Fatalf("set the new password: %v", err)
		}
		if got := text(t, ctx, ".flash-ok"); !strings.Contains(got, "Your password was set") {
			t.Errorf("after the reset the page says %q", got)
		}
		if status, _, _ := e.get(other, "/user/"); status != http.StatusSeeOther {
			t.Errorf("alice's other session after the reset: %d, want it ended", status)
		}
		loginInBrowser(t, ctx, e.http.URL, "user", "alice", newPassword, "#balance")

		err = chromedp.Do(ctx,
			chromedp.Navigate(link),
			chromedp.WaitVisible("#link_problem"),
		)
		if err != nil {
			t.Fatalf("the link a second time: %v", err)
		}
		if got := text(t, ctx, "#link_problem"); !strings.Contains(got, "already used") {
			t.Errorf("the used link says %q", got)
		}
		if st := e.tryLogin("user", "alice", alicePassword); st != http.StatusUnauthorized {
			t.Errorf("the old password: %d", st)
		}
	})
}
