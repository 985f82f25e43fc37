package browser

import (
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestFormRoundTrip proves the whole chain works on this machine: Chromium
// starts, loads a page over loopback, fills and submits a form, and the
// server's answer is read back from the page.
func TestFormRoundTrip(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>Card lookup</title>
<form method="post" action="/lookup">
<label for="card">Card number</label> <input id="card" name="card">
<button id="find" type="submit">Find</button>
</form>`)
	})
	mux.HandleFunc("POST /lookup", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>Result</title><p id="result">card %s belongs to alice</p>`,
			html.EscapeString(r.PostFormValue("card")))
	})
	server := httptest.NewServer(mux)
	defer server.Close()

	ctx := New(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(server.URL+"/"),
		chromedp.SendKeys("#card", "004711"),
		chromedp.Click("#find"),
		chromedp.WaitVisible("#result"),
	)
	if err != nil {
		t.Fatalf("fill and submit the form: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text("#result"))
	if err != nil {
		t.Fatalf("read the result: %v", err)
	}
	if want := "card 004711 belongs to alice"; got != want {
		t.Fatalf("result = %q, want %q", got, want)
	}

	path := filepath.Join(t.TempDir(), "shots", "result.png")
	Screenshot(t, ctx, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Fatalf("screenshot is only %dx%d", b.Dx(), b.Dy())
	}
}

func TestMissingChromiumIsReported(t *testing.T) {
	t.Setenv(ChromiumEnv, filepath.Join(t.TempDir(), "no-such-chromium"))
	t.Setenv("REAM_REQUIRE_SERVICES", "")
	var skipped bool
	t.Run("inner", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		New(t)
	})
	if !skipped {
		t.Fatal("New did not skip when the browser binary is missing")
	}
}

func TestBoundedBufferKeepsOnlyTheStart(t *testing.T) {
	b := &boundedBuffer{limit: 5}
	for _, s := range []string{"abc", "defgh", "ij"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := b.String(); got != "abcde" {
		t.Fatalf("buffer = %q, want %q", got, "abcde")
	}
}
