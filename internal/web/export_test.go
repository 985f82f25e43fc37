package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/store"
)

var exportPaths = []string{"/admin/export/users.csv", "/admin/export/accounts.csv", "/admin/export/audit.csv"}

func TestExportsNeedAnAdminSession(t *testing.T) {
	e := newTestEnv(t)
	h := e.server.Handler()
	portal := e.client()
	e.login(portal, "user", "alice", alicePassword)
	token := e.sessionCookie(portal, "/user/", userCookie)
	for _, path := range exportPaths {
		assertRefused(t, serve(t, h, http.MethodGet, path), "anonymous GET "+path)
		assertRefused(t, serve(t, h, http.MethodGet, path, &http.Cookie{Name: adminCookie, Value: token}), "GET "+path+" with a portal session")
	}
	audit, _, err := e.store.AuditLog(context.Background(), "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range audit {
		if a.Action == "export" {
			t.Errorf("a refused export was audited: %+v", a)
		}
	}
}

// export fetches a CSV export as an admin, checks its headers and file
// format, and returns its records (the header first).
func (e *testEnv) export(c *http.Client, path, fileStem string) [][]string {
	e.t.Helper()
	resp, err := c.Get(e.http.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: status %d\n%s", path, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		e.t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	disposition := regexp.MustCompile(`^attachment; filename="` + fileStem + `-\d{4}-\d{2}-\d{2}\.csv"$`)
	if cd := resp.Header.Get("Content-Disposition"); !disposition.MatchString(cd) {
		e.t.Errorf("GET %s: Content-Disposition %q, want an attachment named %s-<date>.csv", path, cd, fileStem)
	}
	body, ok := bytes.CutPrefix(b, []byte("\uFEFF"))
	if !ok {
		e.t.Fatalf("GET %s: the file does not start with a UTF-8 byte-order mark: %q", path, b[:min(len(b), 20)])
	}
	if bytes.Count(body, []byte("\n")) != bytes.Count(body, []byte("\r\n")) {
		e.t.Errorf("GET %s: not every line ends with CRLF", path)
	}
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		e.t.Fatalf("GET %s: unable to read the CSV: %v", path, err)
	}
	return records
}

// rowsBy indexes records (without the header) by their first cell.
func rowsBy(t *testing.T, records [][]string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, rec := range records[1:] {
		if _, dup := out[rec[0]]; dup {
			t.Errorf("%q is in the export twice", rec[0])
		}
		out[rec[0]] = rec
	}
	return out
}

func TestUserExportNeutralisesFormulasAndKeepsNumbers(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	evil := &model.User{Username: "=cmd|' /C calc'!A0", FullName: "+SUM(A1)", Email: "@evil.example", Department: "-2+3"}
	if err := e.core.CreateUser(ctx, core.CLI, evil); err != nil {
		t.Fatal(err)
	}
	debt, err := money.Parse("-12.50")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.core.AdjustUserBalance(ctx, core.CLI, evil.Username, debt, true, "test debt"); err != nil {
		t.Fatal(err)
	}
	if err := e.core.CreateUser(ctx, core.CLI, &model.User{Username: "zoë", FullName: "Zoë Ångström-Šťastná 王"}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	e.login(c, "admin", "admin", adminPassword)

	records := e.export(c, "/admin/export/users.csv", "ream-users")
	wantHeader := "username,full name,email,department,office,primary card,secondary card,balance,restricted,internal,source,created"
	if got := strings.Join(records[0], ","); got != wantHeader {
		t.Errorf("header %q, want %q", got, wantHeader)
	}
	rows := rowsBy(t, records)
	if len(rows) != 3 {
		t.Errorf("%d users exported, want 3 (alice, zoë and the formula user): %q", len(rows), records)
	}
	row, ok := rows["'"+evil.Username]
	if !ok {
		t.Fatalf("the formula username is not exported neutralised; rows: %q", records)
	}
	for col, want := range map[int]string{1: "'+SUM(A1)", 2: "'@evil.example", 3: "'-2+3", 7: "-12.50", 8: "No", 9: "No"} {
		if row[col] != want {
			t.Errorf("%s = %q, want %q", records[0][col], row[col], want)
		}
	}
	if zoe, ok := rows["zoë"]; !ok || zoe[1] != "Zoë Ångström-Šťastná 王" {
		t.Errorf("the non-ASCII user came out as %q", zoe)
	}
	if alice := rows["alice"]; alice == nil || alice[5] != "4711" || alice[9] != "Yes" || alice[11] == "" {
		t.Errorf("alice came out as %q", alice)
	}

	// The list page's search narrows the export too, and the page links to it.
	records = e.export(c, "/admin/export/users.csv?q=zo", "ream-users")
	if len(records) != 2 || records[1][0] != "zoë" {
		t.Errorf("export with ?q=zo: %q, want only zoë", records)
	}
	if _, page, _ := e.get(c, "/admin/users?q=zo"); !strings.Contains(page, `href="/admin/export/users.csv?q=zo"`) {
		t.Errorf("the users page searched for zo does not link to the export with that search")
	}

	audit, _, err := e.store.AuditLog(ctx, "", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var exports []string
	for _, a := range audit {
		if a.Action == "export" {
			exports = append(exports, a.Actor+" "+a.Target+": "+a.Detail)
		}
	}
	want := []string{`admin users: exported as CSV: 1 users matching "zo"`, "admin users: exported as CSV: 3 users"}
	if strings.Join(exports, "\n") != strings.Join(want, "\n") {
		t.Errorf("audited exports:\n%s\nwant:\n%s", strings.Join(exports, "\n"), strings.Join(want, "\n"))
	}
}

func TestAccountExport(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	pin, err := e.core.AccountPINHash(ctx, "-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.core.CreateAccount(ctx, core.CLI, `=HYPERLINK("http://evil.example")\Ångström`,
		&model.Account{Enabled: true, Notes: "@x", PINHash: pin, AccessUsers: []string{"alice"}}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	e.login(c, "admin", "admin", adminPassword)
	records := e.export(c, "/admin/export/accounts.csv", "ream-shared-accounts")
	wantHeader := "account,id,enabled,PIN set,balance,overdraft,restricted,access users,access groups,invoice option,comment option,notes,source"
	if got := strings.Join(records[0], ","); got != wantHeader {
		t.Errorf("header %q, want %q", got, wantHeader)
	}
	rows := rowsBy(t, records)
	if len(rows) != 2 {
		t.Fatalf("%d accounts exported, want the parent and its sub-account: %q", len(rows), records)
	}
	sub, ok := rows[`'=HYPERLINK("http://evil.example")\Ångström`]
	if !ok {
		t.Fatalf("the sub-account is not exported neutralised: %q", records)
	}
	for col, want := range map[int]string{2: "Yes", 3: "Yes", 4: "0.00", 7: "alice", 11: "'@x"} {
		if sub[col] != want {
			t.Errorf("%s = %q, want %q", records[0][col], sub[col], want)
		}
	}
	if _, page, _ := e.get(c, "/admin/accounts"); !strings.Contains(page, `href="/admin/export/accounts.csv"`) {
		t.Errorf("the accounts page does not link to the export")
	}
	if _, page, _ := e.get(c, "/admin/accounts/deleted"); strings.Contains(page, "/admin/export/") {
		t.Errorf("the deleted accounts page links to the export of live accounts")
	}
}

// TestExportsArePagedAndComplete: more rows than several export pages come
// out complete and once each, including the audit log, which the export's
// own audit entry shifts while it is read.
func TestExportsArePagedAndComplete(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	const n = 2500
	err := e.store.InTx(ctx, func(tx *store.Tx) error {
		users := make([]*model.User, n)
		for i := range users {
			users[i] = &model.User{Username: fmt.Sprintf("user%04d", i), FullName: fmt.Sprintf("User Nummer %d", i)}
		}
		if err := e.core.CreateUsersTx(ctx, tx, core.CLI, users, "export test"); err != nil {
			return err
		}
		for i := range n {
			if err := tx.Audit(ctx, model.AuditEntry{Actor: "test", Action: "test.entry", Target: fmt.Sprint(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	e.login(c, "admin", "admin", adminPassword)

	rows := rowsBy(t, e.export(c, "/admin/export/users.csv", "ream-users"))
	if len(rows) != n+1 {
		t.Errorf("%d users exported, want %d", len(rows), n+1)
	}
	for i := range n {
		if name := fmt.Sprintf("user%04d", i); rows[name] == nil {
			t.Fatalf("%s is missing from the export", name)
		}
	}

	_, before, err := e.store.AuditLog(ctx, "", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	records := e.export(c, "/admin/export/audit.csv", "ream-audit-log")
	if got := strings.Join(records[0], ","); got != "when,who,from,action,target,detail" {
		t.Errorf("audit header %q", got)
	}
	seen := map[string]bool{}
	for _, rec := range records[1:] {
		if rec[3] != "test.entry" {
			continue
		}
		if seen[rec[4]] {
			t.Errorf("audit entry %s is in the export twice", rec[4])
		}
		seen[rec[4]] = true
	}
	if len(records)-1 != before || len(seen) != n {
		t.Errorf("audit export has %d entries (%d test entries), want %d (%d)", len(records)-1, len(seen), before, n)
	}
	if _, page, _ := e.get(c, "/admin/logs?q=test.entry"); !strings.Contains(page, `href="/admin/export/audit.csv?q=test.entry"`) {
		t.Errorf("the audit log page searched for test.entry does not link to the export with that search")
	}
}

// TestNoUserNameIsShadowedByAPage: users named like the fixed pages that
// once lived beside them (export.csv, new-internal) have their own pages;
// the exports and the new-internal-user page live outside /admin/users/.
func TestNoUserNameIsShadowedByAPage(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	names := []string{"export.csv", "new-internal", "edit", "new", "deleted", "o'brien.x"}
	for _, name := range names {
		if err := e.core.CreateUser(ctx, core.CLI, &model.User{Username: name, FullName: "Shadow " + name}); err != nil {
			t.Fatal(err)
		}
	}
	c := e.client()
	e.login(c, "admin", "admin", adminPassword)
	for _, name := range names {
		for _, page := range []string{"", "/edit", "/delete"} {
			path := "/admin/users/" + url.PathEscape(name) + page
			code, body, _ := e.get(c, path)
			if code != http.StatusOK || !strings.Contains(body, html.EscapeString(name)) {
				t.Errorf("GET %s: %d, page names the user: %v", path, code, strings.Contains(body, html.EscapeString(name)))
			}
		}
	}
	if code, body, _ := e.get(c, "/admin/internal-users/new"); code != http.StatusOK || !strings.Contains(body, "Create internal user") {
		t.Errorf("GET /admin/internal-users/new: %d", code)
	}
}
