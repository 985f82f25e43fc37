package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// postImport uploads an internal user import file with the page's form.
func (e *testEnv) postImport(c *http.Client, csrf, file, action string, flags ...string) (int, string) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf)
	mw.WriteField("action", action)
	for _, f := range flags {
		mw.WriteField(f, "on")
	}
	fw, _ := mw.CreateFormFile("file", "users.tsv")
	fw.Write([]byte(file))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+internalUserImportPath, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestInternalUserBatchImportPage: Test shows the report and writes
// nothing; Import creates the users; existing passwords are kept unless
// the box is ticked; a directory user is skipped.
func TestInternalUserBatchImportPage(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	c := e.client()
	token := e.login(c, "admin", "admin", adminPassword)
	status, body, _ := e.get(c, "/admin/users")
	if status != http.StatusOK || !strings.Contains(body, `href="`+internalUserImportPath+`"`) {
		t.Fatalf("Users has no Batch Import (internal users) link (status %d)", status)
	}
	if status, body, _ = e.get(c, internalUserImportPath); status != http.StatusOK || !strings.Contains(body, "Overwrite existing passwords") {
		t.Fatalf("import page: status %d", status)
	}
	file := "bob\tbob rides a blue bicycle\t3.00\tN\tBob Jones\n" +
		"alice\ta new passphrase for alice\n" +
		"eve\tshort\n"

	status, body = e.postImport(c, token, file, "test")
	if status != http.StatusOK || !strings.Contains(body, "Test report (nothing was changed)") || !strings.Contains(body, "1 internal users created, 0 updated, 1 unchanged") ||
		!strings.Contains(body, "line 3: password is refused") || strings.Contains(body, "short") {
		t.Fatalf("test: status %d\n%s", status, body)
	}
	if _, err := e.store.UserByName(ctx, "bob"); err == nil {
		t.Fatal("Test created a user")
	}

	before, _ := e.store.UserByName(ctx, "alice")
	status, body = e.postImport(c, token, file, "import")
	if status != http.StatusOK || !strings.Contains(body, "Import report") || !strings.Contains(body, "existing password kept") {
		t.Fatalf("import: status %d\n%s", status, body)
	}
	bob, err := e.store.UserByName(ctx, "bob")
	if err != nil || !bob.Internal || bob.Balance.String() != "3.00" {
		t.Fatalf("bob = %+v, %v", bob, err)
	}
	if after, _ := e.store.UserByName(ctx, "alice"); after.PasswordHash != before.PasswordHash {
		t.Error("alice's password changed without Overwrite existing passwords")
	}
	e.login(e.client(), "user", "bob", "bob rides a blue bicycle")

	status, _ = e.postImport(c, token, file, "import", "overwrite_passwords")
	if status != http.StatusOK {
		t.Fatalf("import with overwrite: status %d", status)
	}
	e.login(e.client(), "user", "alice", "a new passphrase for alice")

	if status, body = e.postImport(c, "", file, "import"); status != http.StatusForbidden {
		t.Errorf("an upload without the CSRF token: status %d\n%s", status, body)
	}
}
