package web

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// concretePath turns a route pattern into a request path and its method.
func concretePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	path = strings.ReplaceAll(path, "{name}", "alice")
	path = strings.ReplaceAll(path, "{id}", "1")
	return method, path
}

// protected reports whether a route must refuse an anonymous caller.
func protected(path string) bool {
	if publicUnderArea[path] {
		return false
	}
	return inArea(path, "/admin") || inArea(path, "/user")
}

// serve sends a raw request line through the whole handler, so path tricks
// reach the server exactly as written.
func serve(t *testing.T, h http.Handler, method, target string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	raw := method + " " + target + " HTTP/1.1\r\nHost: ream.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n\r\n"
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("%s %s: unable to build the request: %v", method, target, err)
	}
	req.RemoteAddr = "192.0.2.10:4242"
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// assertRefused fails unless the answer refuses: an error status, or a
// redirect to a login page.
func assertRefused(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	switch {
	case rec.Code >= 200 && rec.Code < 300:
		t.Errorf("%s: status %d, want a refusal", what, rec.Code)
	case rec.Code >= 300 && rec.Code < 400:
		if loc := rec.Header().Get("Location"); loc != "/admin/login" && loc != "/user/login" {
			t.Errorf("%s: redirect to %q, want a login page", what, loc)
		}
	}
}

// pathTricks are ways to write a protected path that a weaker router might
// take for another (public) one.
func pathTricks(path string) []string {
	area, rest := "/admin", strings.TrimPrefix(path, "/admin")
	if inArea(path, "/user") {
		area, rest = "/user", strings.TrimPrefix(path, "/user")
	}
	name := area[1:]
	return []string{
		path + ";jsessionid=x",
		area + "/login;" + rest,
		area + "/login/.." + rest,
		area + "/login/%2e%2e" + rest,
		area + "/login/%2E%2E" + rest,
		area + "/login%2f..%2f" + strings.TrimPrefix(rest, "/"),
		area + "/login/..%2F" + strings.TrimPrefix(rest, "/"),
		area + "/login/..%5c" + strings.TrimPrefix(rest, "/"),
		area + `\` + strings.TrimPrefix(rest, "/"),
		"/" + path,
		area + "/" + rest,
		"/" + strings.ToUpper(name[:1]) + name[1:] + rest,
		"/" + strings.ToUpper(name) + rest,
		"/static/..%2f.." + path,
		"/static/../" + strings.TrimPrefix(path, "/"),
		area + "/./" + strings.TrimPrefix(rest, "/"),
		area + "/login/%252e%252e" + rest,
	}
}

// TestEveryProtectedRouteRefusesAnonymousCallers is SPEC §10's route-table
// test: every registered route under /admin and /user, by GET and by POST,
// directly and through path tricks.
func TestEveryProtectedRouteRefusesAnonymousCallers(t *testing.T) {
	e := newTestEnv(t)
	h := e.server.Handler()
	checked := 0
	for _, pattern := range e.server.Routes() {
		_, path := concretePath(pattern)
		if !protected(path) {
			continue
		}
		checked++
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			assertRefused(t, serve(t, h, method, path), method+" "+path)
			for _, trick := range pathTricks(path) {
				assertRefused(t, serve(t, h, method, trick), method+" "+trick)
			}
		}
	}
	if checked < 30 {
		t.Fatalf("only %d protected routes were checked; the route table looks incomplete", checked)
	}
	// The API answers only POST, and only through its own token check.
	if rec := serve(t, h, http.MethodGet, "/rpc/api/xmlrpc"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /rpc/api/xmlrpc: status %d, want 405", rec.Code)
	}
	for _, trick := range []string{"/RPC/api/xmlrpc", "/rpc/api/xmlrpc;x", "//rpc/api/xmlrpc", "/rpc/api/%2e/xmlrpc"} {
		if rec := serve(t, h, http.MethodPost, trick); rec.Code < 400 {
			t.Errorf("POST %s: status %d, want a refusal", trick, rec.Code)
		}
	}
}

// TestPortalSessionDoesNotOpenAdminPages: a user-portal session, even when
// sent under the admin cookie's name, is not an admin session.
func TestPortalSessionDoesNotOpenAdminPages(t *testing.T) {
	e := newTestEnv(t)
	// alice is even an admin-capable name: give her no admin access, log her in to the portal.
	c := e.client()
	e.login(c, "user", "alice", alicePassword)
	token := e.sessionCookie(c, "/user/", userCookie)
	h := e.server.Handler()
	for _, pattern := range e.server.Routes() {
		method, path := concretePath(pattern)
		if !inArea(path, "/admin") || publicUnderArea[path] {
			continue
		}
		for _, ck := range []*http.Cookie{{Name: adminCookie, Value: token}, {Name: userCookie, Value: token}} {
			assertRefused(t, serve(t, h, method, path, ck), method+" "+path+" with cookie "+ck.Name)
		}
	}
	// And the reverse: the admin's session does not open the portal.
	ac := e.client()
	e.login(ac, "admin", "admin", adminPassword)
	adminToken := e.sessionCookie(ac, "/admin/", adminCookie)
	assertRefused(t, serve(t, h, http.MethodGet, "/user/", &http.Cookie{Name: userCookie, Value: adminToken}), "GET /user/ with an admin session")
}

func TestSessionOfDeletedUserIsRefused(t *testing.T) {
	e := newTestEnv(t)
	c := e.client()
	e.login(c, "user", "alice", alicePassword)
	if err := e.core.DeleteUser(context.Background(), core.CLI, "alice", false); err != nil {
		t.Fatal(err)
	}
	status, _, _ := e.get(c, "/user/")
	if status != http.StatusSeeOther {
		t.Fatalf("GET /user/ after alice was deleted: status %d, want a redirect to the login page", status)
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	e := newTestEnv(t)
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	cookie := e.sessionCookie(c, "/admin/", adminCookie)
	resp, _ := e.post(c, "/admin/logout", url.Values{"csrf": {token}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d", resp.StatusCode)
	}
	if _, err := e.store.SessionByTokenHash(context.Background(), auth.TokenHash(cookie)); err != store.ErrNotFound {
		t.Fatalf("session still stored after logout (err %v)", err)
	}
	assertRefused(t, serve(t, e.server.Handler(), http.MethodGet, "/admin/", &http.Cookie{Name: adminCookie, Value: cookie}), "old cookie after logout")
}

// TestCSRF: a state change without the token, or from another origin, is
// refused with 403 and changes nothing; with both it goes through.
func TestCSRF(t *testing.T) {
	e := newTestEnv(t)
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	form := func(name, csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "name": {name}, "invoice_option": {"USER_CHOICE_OFF"}, "comment_option": {"COMMENT_OPTIONAL"}}
	}
	cases := []struct {
		name    string
		form    url.Values
		headers map[string]string
		want    int
	}{
		{"no token", form("NoToken", ""), nil, http.StatusForbidden},
		{"wrong token", form("WrongToken", "AAAA"+token[4:]), nil, http.StatusForbidden},
		{"foreign origin", form("Foreign", token), map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"foreign referer", form("ForeignRef", token), map[string]string{"Referer": "http://evil.example/page"}, http.StatusForbidden},
		{"same host, other scheme", form("OtherScheme", token), map[string]string{"Origin": strings.Replace(e.http.URL, "http://", "https://", 1)}, http.StatusForbidden},
		{"same host, other port", form("OtherPort", token), map[string]string{"Origin": otherPort(t, e.http.URL)}, http.StatusForbidden},
		{"good", form("Good", token), map[string]string{"Origin": e.http.URL}, http.StatusSeeOther},
	}
	for _, tc := range cases {
		resp, body := e.post(c, "/admin/accounts/new", tc.form, tc.headers)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d\n%s", tc.name, resp.StatusCode, tc.want, body)
		}
		if tc.want == http.StatusForbidden && !strings.Contains(body, "refused") && !strings.Contains(body, "security token") {
			t.Errorf("%s: the refusal does not say why:\n%s", tc.name, body)
		}
		_, err := e.store.AccountByName(context.Background(), tc.form.Get("name"))
		if created := err == nil; created != (tc.want == http.StatusSeeOther) {
			t.Errorf("%s: account created = %v", tc.name, created)
		}
	}
	// The login form has its own pre-session token.
	resp, _ := e.post(e.client(), "/admin/login", url.Values{"username": {"admin"}, "password": {adminPassword}}, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without its CSRF cookie: status %d, want 403", resp.StatusCode)
	}
}

// otherPort returns base with its port changed, the same host.
func otherPort(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	port := "1"
	if u.Port() == "1" {
		port = "2"
	}
	u.Host = u.Hostname() + ":" + port
	return u.String()
}

func TestSecurityHeadersAndHealth(t *testing.T) {
	e := newTestEnv(t)
	h := e.server.Handler()
	rec := serve(t, h, http.MethodGet, "/admin/login")
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if rec := serve(t, h, http.MethodGet, "/healthz"); rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "ok" {
		t.Errorf("/healthz: %d %q", rec.Code, rec.Body.String())
	}
	if rec := serve(t, h, http.MethodGet, "/readyz"); rec.Code != 200 {
		t.Errorf("/readyz: %d", rec.Code)
	}
	// serve() calls from 192.0.2.10, which is not an allowed address.
	if rec := serve(t, h, http.MethodGet, "/metrics"); rec.Code != http.StatusForbidden {
		t.Errorf("/metrics from a foreign address: %d, want 403", rec.Code)
	}
	resp, err := http.Get(e.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics from loopback: %d", resp.StatusCode)
	}
	e.store.Close()
	if rec := serve(t, h, http.MethodGet, "/readyz"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database closed: %d, want 503", rec.Code)
	}
}

func TestHandleRefusesPublicRoutesInProtectedAreas(t *testing.T) {
	e := newTestEnv(t)
	defer func() {
		if recover() == nil {
			t.Fatal("Handle accepted a public route under /admin")
		}
	}()
	e.server.Handle("GET /admin/secret", Public, func(http.ResponseWriter, *http.Request) error { return nil })
}

// FuzzPathVerdict: the path guard never panics, and whatever it lets
// through has no trick left in it.
func FuzzPathVerdict(f *testing.F) {
	for _, s := range []string{"/admin/users", "/admin/..;/users", "/ADMIN/x", "/user/%2e%2e/", "//rpc", `/a\b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")))
		if err != nil {
			return
		}
		if pathVerdict(req) != 0 {
			return
		}
		p := req.URL.Path
		if strings.Contains(p, "//") || strings.Contains(p, `\`) || strings.Contains(p, ";") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
			t.Fatalf("%q passed the guard with path %q", target, p)
		}
	})
}

// TestUserNamedAdminIsNotTheBuiltInAdmin: a site upgraded from before names
// were reserved may have a user called "admin". Changing that user's
// password or deleting it must not touch the built-in admin's session, and
// the audit log tells the two apart.
func TestUserNamedAdminIsNotTheBuiltInAdmin(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	hash, err := e.core.Hasher.Hash(ctx, alicePassword)
	if err != nil {
		t.Fatal(err)
	}
	namesake := &model.User{Username: "admin", Internal: true, PasswordHash: hash}
	if err := e.store.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, namesake) }); err != nil {
		t.Fatal(err)
	}
	builtIn := e.client()
	e.login(builtIn, "admin", "admin", adminPassword)
	portal := e.client()
	e.login(portal, "user", "admin", alicePassword) // the namesake, in the portal
	// The namesake cannot reach the admin area with its own password.
	if status := e.tryLogin("admin", "admin", alicePassword); status != http.StatusUnauthorized {
		t.Errorf("the namesake's password at /admin: status %d, want 401", status)
	}

	if err := e.core.SetPassword(ctx, core.CLI, "admin", "a brand new passphrase", ""); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := e.get(builtIn, "/admin/"); status != http.StatusOK {
		t.Fatalf("changing the password of the user called admin ended the built-in admin's session (status %d)", status)
	}
	if status, _, _ := e.get(portal, "/user/"); status == http.StatusOK {
		t.Error("the namesake's own session survived its password change")
	}
	if err := e.core.DeleteUser(ctx, core.CLI, "admin", false); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := e.get(builtIn, "/admin/"); status != http.StatusOK {
		t.Fatalf("deleting the user called admin ended the built-in admin's session (status %d)", status)
	}
	// The built-in admin's changes are audited as the built-in admin.
	_, _, token := e.get(builtIn, "/admin/accounts/new")
	e.post(builtIn, "/admin/accounts/new", url.Values{"csrf": {token}, "name": {"Audited"}, "invoice_option": {"USER_CHOICE_OFF"}, "comment_option": {"COMMENT_OPTIONAL"}}, nil)
	entries, _, err := e.store.AuditLog(ctx, "account.create", 0, 10)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no audit entry for the account (err %v)", err)
	}
	if entries[0].ActorKind != model.ActorBuiltInAdmin || entries[0].ActorUserID != 0 {
		t.Errorf("the built-in admin's change is audited as %q #%d", entries[0].ActorKind, entries[0].ActorUserID)
	}
}

// TestMetricsAccess: /metrics answers metrics.allowed-addresses (loopback by
// default) and, from anywhere else, only a scraper with the bearer token;
// what it answers is client_golang's exposition with the Go runtime and
// process collectors beside Ream's own metrics.
func TestMetricsAccess(t *testing.T) {
	e := newTestEnv(t)
	h := e.server.Handler()
	get := func(auth string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr = "192.0.2.10:4242"
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := get("Bearer whatever-it-may-be"); rec.Code != http.StatusForbidden {
		t.Errorf("a token with no metrics.bearer-token set: %d, want 403", rec.Code)
	}
	e.server.cfg.Metrics.BearerToken = "scrape-token-0123456789"
	for _, auth := range []string{"", "Bearer wrong-token-0123456789", "Basic c2NyYXBlOng=", "scrape-token-0123456789"} {
		if rec := get(auth); rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q from a foreign address: %d %q, want 401 with a challenge", auth, rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
	}
	rec := get("Bearer scrape-token-0123456789")
	if rec.Code != http.StatusOK {
		t.Fatalf("the right bearer token: %d %s", rec.Code, rec.Body.String())
	}
	body := rec.Body.String()
	for _, want := range []string{"# TYPE go_goroutines gauge", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes",
		"# HELP ream_http_request_duration_seconds"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	e.server.cfg.Metrics.AllowedAddresses = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	if rec := get(""); rec.Code != http.StatusOK {
		t.Errorf("from an address in metrics.allowed-addresses: %d", rec.Code)
	}
	resp, err := http.Get(e.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("loopback once metrics.allowed-addresses no longer lists it: %d, want 401", resp.StatusCode)
	}
}
