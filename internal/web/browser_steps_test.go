package web

import "github.com/chromedp/chromedp"

// logIn opens page (which sends the browser to the login form), logs in
// and waits until the element ready is visible.
func logIn(page, username, password, ready string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(page),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", username),
		chromedp.SendKeys("#password", password),
		chromedp.Click("#login"),
		chromedp.WaitVisible(ready),
	)
}
