package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

const (
	adminPassword = "Ream-admin-test-pass-9173"
	alicePassword = "alice-prints-a-lot-4821"
)

// testEnv is a real server over a real SQLite store.
type testEnv struct {
	t       *testing.T
	store   *store.Store
	core    *core.Core
	server  *Server
	limiter *auth.Limiter
	http    *httptest.Server
}

// newTestEnv builds the server over SQLite with the built-in admin's
// password set and an internal user alice.
func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	return newTestEnvOn(t, reamtest.Store(t, false))
}

// newTestEnvOn is newTestEnv over a migrated store of either database.
func newTestEnvOn(t *testing.T, st *store.Store) *testEnv {
	t.Helper()
	ctx := context.Background()
	hasher, err := auth.NewHasher(auth.HashParams{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	if err != nil {
		t.Fatal(err)
	}
	set := settings.New(st, time.Minute)
	cfg := config.Default()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := core.New(st, set, hasher, cfg, log)
	if err := c.SetAdminPassword(ctx, core.CLI, adminPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: "alice", Password: alicePassword,
		FullName: "Alice Example", Card: "4711"}); err != nil {
		t.Fatal(err)
	}
	limiter := auth.NewLimiter(auth.LimiterConfig{AccountFailures: 3, ClientFailures: 1000, GlobalFailures: 10000})
	srv, err := New(Deps{Core: c, Store: st, Settings: set, Config: cfg, Log: log, LoginLimiter: limiter,
		RPC: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no token", http.StatusUnauthorized) })})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, store: st, core: c, server: srv, limiter: limiter}
	e.http = httptest.NewServer(srv.Handler())
	t.Cleanup(e.http.Close)
	return e
}

// client is a browser-like client with a cookie jar that does not follow redirects.
func (e *testEnv) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a page and returns status, body and the page's CSRF token (if any).
func (e *testEnv) get(c *http.Client, path string) (int, string, string) {
	e.t.Helper()
	resp, err := c.Get(e.http.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	token := ""
	if m := csrfField.FindSubmatch(b); m != nil {
		token = string(m[1])
	}
	return resp.StatusCode, string(b), token
}

// post submits a form; extra headers (e.g. Origin) are optional.
func (e *testEnv) post(c *http.Client, path string, form url.Values, headers map[string]string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.http.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// login logs c in to an area ("admin" or "user") and returns the session's CSRF token.
func (e *testEnv) login(c *http.Client, area, username, password string) string {
	e.t.Helper()
	_, _, loginToken := e.get(c, "/"+area+"/login")
	resp, body := e.post(c, "/"+area+"/login", url.Values{"csrf": {loginToken}, "username": {username}, "password": {password}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login of %s to /%s: status %d, body %s", username, area, resp.StatusCode, body)
	}
	status, _, token := e.get(c, "/"+area+"/")
	if status != http.StatusOK || token == "" {
		e.t.Fatalf("after login of %s: /%s/ gave %d (token %q)", username, area, status, token)
	}
	return token
}

// sessionCookie returns the value of a cookie that c holds for path.
func (e *testEnv) sessionCookie(c *http.Client, path, name string) string {
	u, _ := url.Parse(e.http.URL + path)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	e.t.Fatalf("no cookie %s for %s", name, path)
	return ""
}
