// Package browser starts a real headless Chromium for page tests, one per test.
//
// It uses Debian's chromium (/usr/bin/chromium, or the path in REAM_CHROMIUM);
// when it is missing the test is skipped, or fails under REAM_REQUIRE_SERVICES=1.
package browser

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/reamprint/ream/internal/testenv"
)

// ChromiumEnv names an environment variable holding the Chromium binary to use.
const ChromiumEnv = "REAM_CHROMIUM"

// DefaultChromium is where Debian's chromium package installs its launcher.
const DefaultChromium = "/usr/bin/chromium"

// Timeout bounds everything one test does with its browser; when it passes the
// browser is stopped and pending actions fail rather than hang the suite.
const Timeout = 60 * time.Second

// New starts a fresh headless Chromium with its own empty profile and returns a
// chromedp context for its first tab. The browser is stopped when the test ends.
func New(t testing.TB) context.Context {
	t.Helper()
	path := chromiumPath(t)

	profile, err := os.MkdirTemp("", "ream-chromium-")
	if err != nil {
		t.Fatalf("browser: unable to create a profile directory: %v", err)
	}
	output := &boundedBuffer{limit: 64 << 10}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(output),
		chromedp.Headless,
		// Tests run as root in containers, where Chromium's sandbox cannot start.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.WindowSize(1280, 900),
	}

	limitCtx, cancelLimit := context.WithTimeout(context.Background(), Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(limitCtx, opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelLimit()
		// The allocator has waited for the browser to exit, so its profile is no longer written to.
		if err := os.RemoveAll(profile); err != nil {
			t.Logf("browser: unable to remove profile %s: %v", profile, err)
		}
	})

	// Start the browser now so a broken installation fails here, with its output, not in the first step.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser: unable to start %s: %v\nbrowser output:\n%s", path, err, output.String())
	}
	return ctx
}

// Screenshot writes a PNG of the whole page (beyond the viewport) to path, for
// looking at what a test saw; missing parent directories are created.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browser: unable to take a screenshot: %v", err)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("browser: unable to create %s: %v", dir, err)
		}
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("browser: unable to write screenshot %s: %v", path, err)
	}
	t.Logf("browser: screenshot written to %s", path)
}

// chromiumPath finds the browser binary, stopping the test when there is none.
func chromiumPath(t testing.TB) string {
	t.Helper()
	path := os.Getenv(ChromiumEnv)
	if path == "" {
		path = DefaultChromium
	}
	resolved, err := exec.LookPath(path)
	if err != nil {
		testenv.Require(t, "chromium", fmt.Sprintf("chromium not installed: apt-get install chromium (looked for %s: %v)", path, err))
	}
	return resolved
}

// boundedBuffer keeps the first bytes of the browser's output for error messages;
// the browser writes it from another goroutine.
type boundedBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.limit - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
