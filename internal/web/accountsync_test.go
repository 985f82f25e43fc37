package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/reamprint/ream/internal/accounts"
	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/browser"
)

// newAccountSyncEnv is a web server with the shared account sync and one
// allowed root holding accounts.txt.
func newAccountSyncEnv(t *testing.T, content string) (*testEnv, *accounts.Service, string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "", filepath.Join(t.TempDir(), "ream.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "accounts.txt")
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	hasher, err := auth.NewHasher(auth.HashParams{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	if err != nil {
		t.Fatal(err)
	}
	set := settings.New(st, 0)
	cfg := config.Default()
	cfg.Sync.AllowedRoots = []string{root}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := core.New(st, set, hasher, cfg, log)
	if err := c.SetAdminPassword(ctx, core.CLI, adminPassword); err != nil {
		t.Fatal(err)
	}
	svc := accounts.NewService(st, set, cfg.Sync.AllowedRoots, log)
	srv, err := New(Deps{Core: c, Store: st, Settings: set, Config: cfg, Log: log, Features: Features{AccountSync: svc}})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, store: st, core: c, server: srv}
	e.http = httptest.NewServer(srv.Handler())
	t.Cleanup(e.http.Close)
	return e, svc, file
}

// waitForRun waits for the background run started by Synchronize Now.
func waitForRun(t *testing.T, svc *accounts.Service) accounts.RunStatus {
	t.Helper()
	for range 3000 {
		if st := svc.Status(); !st.Running {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the sync did not finish")
	return accounts.RunStatus{}
}

func TestAccountSyncPages(t *testing.T) {
	e, svc, file := newAccountSyncEnv(t, "Acme\t\tY\t\t10\nAcme\tProject\nGlobex\nInitech\nHooli\n")
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	ctx := context.Background()

	status, body, _ := e.get(c, "/admin/accounts/sync")
	if status != 200 || !strings.Contains(body, "Shared Account Sync") || strings.Contains(body, `name="delete_missing" checked`) {
		t.Fatalf("sync page %d", status)
	}
	form := url.Values{"csrf": {token}, "source": {"file"}, "file_location": {file}, "schedule": {"overnight"}, "action": {"test"}}
	resp, body := e.post(c, "/admin/accounts/sync", form, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="count-created">5<`) || !strings.Contains(body, `Acme\Project`) {
		t.Fatalf("test: %d\n%s", resp.StatusCode, body)
	}
	if n, _ := e.store.CountAccounts(ctx); n != 0 {
		t.Fatal("Test wrote accounts")
	}
	form.Set("action", "sync")
	if resp, _ = e.post(c, "/admin/accounts/sync", form, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync: %d", resp.StatusCode)
	}
	if st := waitForRun(t, svc); st.Report == nil || st.Report.Status != accounts.StatusOK {
		t.Fatalf("run %+v", st)
	}
	if got := svc.Settings(ctx); got.Schedule != "overnight" || got.Location != file {
		t.Fatalf("Synchronize Now did not save the settings: %+v", got)
	}
	status, body, _ = e.get(c, "/admin/accounts/sync/progress")
	if status != 200 || !strings.Contains(body, `id="count-created">5<`) || !strings.Contains(body, "Sync run #1") {
		t.Fatalf("progress: %d\n%s", status, body)
	}
	// The delete box is never remembered.
	if _, body, _ = e.get(c, "/admin/accounts/sync"); strings.Contains(body, `name="delete_missing" checked`) {
		t.Fatal("delete box ticked on a fresh page")
	}

	// Deleting 3 of 5 is over the limit: the run stops and asks for that number.
	if err := os.WriteFile(file, []byte("Acme\nAcme\tProject\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	form.Set("delete_missing", "on")
	e.post(c, "/admin/accounts/sync", form, nil)
	waitForRun(t, svc)
	_, body, _ = e.get(c, "/admin/accounts/sync/progress")
	if !strings.Contains(body, "confirm-delete-form") || !strings.Contains(body, "exactly 3") {
		t.Fatalf("no confirmation form:\n%s", body)
	}
	form.Set("confirm_delete", "3")
	e.post(c, "/admin/accounts/sync", form, nil)
	if st := waitForRun(t, svc); st.Report.Status != accounts.StatusOK || len(st.Report.Plan.Deletes) != 3 {
		t.Fatalf("confirmed run %+v", st.Report)
	}
	if n, _ := e.store.CountAccounts(ctx); n != 2 {
		t.Fatalf("%d accounts after the confirmed delete", n)
	}
}

func TestAccountImportPage(t *testing.T) {
	e, _, _ := newAccountSyncEnv(t, "")
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	upload := func(action, content string) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf", token)
		mw.WriteField("action", action)
		fw, _ := mw.CreateFormFile("file", "accounts.tsv")
		fw.Write([]byte(content))
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/admin/accounts/import", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := upload("test", "Dept\t\tmaybe\nOther\n")
	if status != 200 || !strings.Contains(body, "line 1, field 3 (Enabled)") || !strings.Contains(body, `id="count-created">1<`) {
		t.Fatalf("test upload: %d\n%s", status, body)
	}
	status, body = upload("import", "Other\n")
	if status != 200 || !strings.Contains(body, "Done.") {
		t.Fatalf("import: %d\n%s", status, body)
	}
	if _, err := e.store.AccountByName(context.Background(), "Other"); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserAccountSync configures a file source under an allowed root,
// tests it, synchronizes and reads the run, in a real browser.
func TestBrowserAccountSync(t *testing.T) {
	e, _, file := newAccountSyncEnv(t, "Client 1\t\tY\t\t25\nClient 1\tMatter 1\nClient 2\nBroken\t\tmaybe\n")
	ctx := browser.New(t)
	err := chromedp.Do(ctx,
		logIn(e.http.URL+"/admin/", "admin", adminPassword, ".counts"),
		chromedp.Navigate(e.http.URL+"/admin/accounts/sync"),
		chromedp.WaitVisible("#source_file"),
		chromedp.Click("#source_file"),
		chromedp.SetValue("#file_location", file),
		chromedp.Click("#test"),
		chromedp.WaitVisible("#result"),
	)
	if err != nil {
		t.Fatalf("Test: %v", err)
	}
	if created, skipped := text(t, ctx, "#count-created"), text(t, ctx, "#count-skipped"); created != "3" || skipped != "1" {
		t.Fatalf("test counts: created %s skipped %s", created, skipped)
	}
	if lines := text(t, ctx, "#list-skipped"); !strings.Contains(lines, "line 4") {
		t.Fatalf("skipped list %q", lines)
	}
	err = chromedp.Do(ctx,
		chromedp.Click("#sync"),
		chromedp.WaitVisible("#run-link"),
		chromedp.Click("#run-link"),
		chromedp.WaitVisible("pre.report"),
	)
	if err != nil {
		t.Fatalf("Synchronize Now: %v", err)
	}
	if report := text(t, ctx, "pre.report"); !strings.Contains(report, `line 2: Client 1\Matter 1`) {
		t.Fatalf("run report %q", report)
	}
	if n, _ := e.store.CountAccounts(context.Background()); n != 3 {
		t.Fatalf("%d accounts after the browser sync", n)
	}
}
