package config

import (
	"bytes"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeFile writes a ream.toml into a fresh directory and returns its path.
func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ream.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// chdir moves into a fresh directory so that no stray ./ream.toml is found.
func chdir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

func TestDefaults(t *testing.T) {
	chdir(t)
	c, rest, err := Load("", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 0 {
		t.Errorf("rest = %q", rest)
	}
	want := Default()
	want.sources = map[string]string{}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load with nothing = %+v, want %+v", c, want)
	}
	if c.File() != "" || c.IsPostgres() || c.SQLitePath() != filepath.Join("ream-data", "ream.db") {
		t.Errorf("file %q, postgres %v, sqlite %q", c.File(), c.IsPostgres(), c.SQLitePath())
	}
	if c.Session.Lifetime != 12*time.Hour || c.Mail.OutboxInterval != 10*time.Second || !c.HTTPS.SelfSigned {
		t.Errorf("defaults: %+v", c)
	}
}

func TestPrecedence(t *testing.T) {
	chdir(t)
	path := writeFile(t, `
listen = "127.0.0.1:1001"
data-dir = "/srv/file"
[log]
level = "debug"
format = "json"
[session]
lifetime = "1h"
`)
	env := []string{
		"REAM_LISTEN=127.0.0.1:2002",
		"REAM_LOG_LEVEL=warn",
		"REAM_LISTEN=127.0.0.1:9999", // a later duplicate loses, as with os.Getenv
		"PATH=/bin",
	}
	args := []string{"--listen", "127.0.0.1:3003", "--set", "log.level=error", "--set=session.lifetime=2h", "serve", "--verbose"}
	c, rest, err := Load(path, env, args)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rest, []string{"serve", "--verbose"}) {
		t.Errorf("rest = %q", rest)
	}
	tests := []struct {
		key, got, want, source string
	}{
		{"listen", c.Listen, "127.0.0.1:3003", "flag --listen"},
		{"log.level", c.Log.Level, "error", "flag --set log.level"},
		{"session.lifetime", c.Session.Lifetime.String(), "2h0m0s", "flag --set session.lifetime"},
		{"log.format", c.Log.Format, "json", "file " + path + ":6"},
		{"data-dir", c.DataDir, "/srv/file", "file " + path + ":3"},
		{"secure-cookies", c.SecureCookies, "auto", "default"},
	}
	for _, tt := range tests {
		if tt.got != tt.want || c.Source(tt.key) != tt.source {
			t.Errorf("%s = %q from %q, want %q from %q", tt.key, tt.got, c.Source(tt.key), tt.want, tt.source)
		}
	}

	// Without the flags, the environment beats the file.
	c, _, err = Load(path, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:2002" || c.Log.Level != "warn" || c.Source("listen") != "env REAM_LISTEN" {
		t.Errorf("env over file: listen %q level %q source %q", c.Listen, c.Log.Level, c.Source("listen"))
	}
}

func TestEnvironmentForms(t *testing.T) {
	chdir(t)
	env := []string{
		"REAM_DATABASE_URL=postgres://ream:pw@db/ream",
		"REAM_AUTH_WEBSERVICES_AUTH_TOKEN=[\"a1\",\"b2\"]",
		"REAM_AUTH_WEBSERVICES_ALLOWED_ADDRESSES=10.0.0.0/8, 192.168.1.7 ,fd00::/8",
		"REAM_SYNC_ALLOWED_ROOTS=/srv/accounts/,/srv/other",
		"REAM_ADMIN_PASSWORD=correct horse",
		"REAM_HTTPS_SELF_SIGNED=false",
		"REAM_SECURE_COOKIES=Always",
		"REAM_MAIL_OUTBOX_INTERVAL=1m",
		"REAM_SOMETHING_ELSE=ignored",
	}
	c, _, err := Load("", env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsPostgres() || c.Admin.Password != "correct horse" || c.HTTPS.SelfSigned || c.HTTPSEnabled() {
		t.Errorf("postgres %v password %q self-signed %v", c.IsPostgres(), c.Admin.Password, c.HTTPS.SelfSigned)
	}
	if !reflect.DeepEqual(c.Sync.AllowedRoots, []string{"/srv/accounts", "/srv/other"}) {
		t.Errorf("roots = %q", c.Sync.AllowedRoots)
	}
	wantPrefixes := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("fd00::/8")}
	if !reflect.DeepEqual(c.Auth.WebServices.AllowedAddresses, wantPrefixes) {
		t.Errorf("allowed = %v", c.Auth.WebServices.AllowedAddresses)
	}
	if c.SecureCookies != "always" || !c.SecureCookie(false) || c.Mail.OutboxInterval != time.Minute {
		t.Errorf("secure-cookies %q, outbox %v", c.SecureCookies, c.Mail.OutboxInterval)
	}
	tokens, err := c.WebServicesTokens()
	if err != nil || !reflect.DeepEqual(tokens, []string{"a1", "b2"}) {
		t.Errorf("tokens = %q, %v", tokens, err)
	}
}

func TestFileForms(t *testing.T) {
	chdir(t)
	path := writeFile(t, `
[https]
self-signed = false
cert-file = "/etc/ream/cert.pem"
key-file = "/etc/ream/key.pem"

[auth.webservices]
auth-token = { billing = "tok-b", helpdesk = "tok-a" }
allowed-addresses = ["::ffff:10.1.0.0/112", "::1"]

[sync]
allowed-roots = ["/srv/a"]
`)
	c, _, err := Load(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.File() != path || !c.HTTPSEnabled() {
		t.Errorf("file %q, https %v", c.File(), c.HTTPSEnabled())
	}
	cert, key, err := c.HTTPSCertificate()
	if err != nil || cert != "/etc/ream/cert.pem" || key != "/etc/ream/key.pem" {
		t.Errorf("HTTPSCertificate = %q %q %v", cert, key, err)
	}
	tokens, err := c.WebServicesTokens()
	if err != nil || !reflect.DeepEqual(tokens, []string{"tok-b", "tok-a"}) {
		t.Errorf("tokens = %q, %v", tokens, err)
	}
	if !c.AllowedAddress(netip.MustParseAddr("10.1.200.3")) || c.AllowedAddress(netip.MustParseAddr("10.2.0.1")) {
		t.Errorf("mapped range not read as IPv4: %v", c.AllowedAddress(netip.MustParseAddr("10.1.200.3")))
	}

	path = writeFile(t, "[auth.webservices]\nauth-token = [\"x1\", \"x2\"]\n")
	c, _, err = Load(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tokens, err := c.WebServicesTokens(); err != nil || !reflect.DeepEqual(tokens, []string{"x1", "x2"}) {
		t.Errorf("tokens = %q, %v", tokens, err)
	}
}

func TestFileSearch(t *testing.T) {
	dir := chdir(t)
	dataDir := filepath.Join(dir, "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, FileName), []byte(`listen = ":1111"`), 0o600); err != nil {
		t.Fatal(err)
	}
	// The data directory given by flag is where the file is looked for.
	c, _, err := Load("", nil, []string{"--data-dir", dataDir})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":1111" || c.File() != filepath.Join(dataDir, FileName) {
		t.Errorf("data-dir file: listen %q file %q", c.Listen, c.File())
	}
	// ./ream.toml comes first.
	if err := os.WriteFile(FileName, []byte(`listen = ":2222"`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _, err = Load("", []string{"REAM_DATA_DIR=" + dataDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":2222" || c.File() != FileName {
		t.Errorf("working-directory file: listen %q file %q", c.Listen, c.File())
	}
	// REAM_CONFIG and --config name a file; --config wins.
	other := writeFile(t, `listen = ":3333"`)
	third := writeFile(t, `listen = ":4444"`)
	c, _, err = Load("", []string{"REAM_CONFIG=" + other}, nil)
	if err != nil || c.Listen != ":3333" {
		t.Errorf("REAM_CONFIG: listen %q, %v", c.Listen, err)
	}
	c, _, err = Load("", []string{"REAM_CONFIG=" + other}, []string{"--config", third})
	if err != nil || c.Listen != ":4444" {
		t.Errorf("--config: listen %q, %v", c.Listen, err)
	}
}

func TestErrorsNameKeyAndSource(t *testing.T) {
	chdir(t)
	missing := filepath.Join(t.TempDir(), "absent.toml")
	tests := []struct {
		name      string
		file      string // ream.toml text; "" for no file
		path      string // explicit path instead of file
		env       []string
		args      []string
		wantParts []string
	}{
		{name: "explicit file missing", path: missing, wantParts: []string{"absent.toml", "no such file"}},
		{name: "bad toml", file: "listen = \n", wantParts: []string{"ream.toml:1"}},
		{name: "unknown key", file: "\n\n[log]\nlevle = \"info\"\n", wantParts: []string{"ream.toml:4", `unknown key "log.levle"`}},
		{name: "unknown table", file: "[mail]\noutbox-interval = \"5s\"\n[mial]\nx = 1\n", wantParts: []string{"ream.toml:3", `unknown section "mial"`}},
		{name: "unknown nested table", file: "[auth.webservicez]\nauth-token = \"t\"\n", wantParts: []string{"ream.toml:1", `unknown section "auth.webservicez"`}},
		{name: "key under a value", file: "listen = \":1\"\n[log.level]\nx = 1\n", wantParts: []string{"ream.toml:2", "log.level"}},
		{name: "misspelt key suggested", file: "data_dir = \"/x\"\n", wantParts: []string{"ream.toml:1", "did you mean data-dir?"}},
		{name: "bad duration in file", file: "[session]\nlifetime = \"forever\"\n", wantParts: []string{"ream.toml:2: session.lifetime:", "forever"}},
		{name: "wrong type in file", file: "[https]\nself-signed = 1\n", wantParts: []string{"ream.toml:2: https.self-signed:", "an integer"}},
		{name: "wrong list item in file", file: "[sync]\nallowed-roots = [\"/a\", 2]\n", wantParts: []string{"ream.toml:2: sync.allowed-roots:", "item 2"}},
		{name: "relative root", file: "[sync]\nallowed-roots = [\"srv\"]\n", wantParts: []string{"ream.toml:2: sync.allowed-roots:", "absolute"}},
		{name: "bad listen env", env: []string{"REAM_LISTEN=nope"}, wantParts: []string{"config: REAM_LISTEN:", "nope"}},
		{name: "bad port env", env: []string{"REAM_HTTPS_LISTEN=:99999"}, wantParts: []string{"REAM_HTTPS_LISTEN:", "port"}},
		{name: "bad level env", env: []string{"REAM_LOG_LEVEL=loud"}, wantParts: []string{"REAM_LOG_LEVEL:", "debug, info, warn, error"}},
		{name: "bad bool env", env: []string{"REAM_HTTPS_SELF_SIGNED=perhaps"}, wantParts: []string{"REAM_HTTPS_SELF_SIGNED:", "perhaps"}},
		{name: "negative duration env", env: []string{"REAM_MAIL_OUTBOX_INTERVAL=-1s"}, wantParts: []string{"REAM_MAIL_OUTBOX_INTERVAL:", "longer than zero"}},
		{name: "bad address env", env: []string{"REAM_AUTH_WEBSERVICES_ALLOWED_ADDRESSES=127.0.0.1,localhost"}, wantParts: []string{"REAM_AUTH_WEBSERVICES_ALLOWED_ADDRESSES:", "localhost"}},
		{name: "bad database env", env: []string{"REAM_DATABASE_URL=mysql://db"}, wantParts: []string{"REAM_DATABASE_URL:", "postgres://"}},
		{name: "bad token env", env: []string{"REAM_AUTH_WEBSERVICES_AUTH_TOKEN=[\"ok\", 7]"}, wantParts: []string{"REAM_AUTH_WEBSERVICES_AUTH_TOKEN:", "byte"}},
		{name: "bad flag", args: []string{"--listen", "x"}, wantParts: []string{"config: --listen:"}},
		{name: "bad database flag", args: []string{"--database-url", "sqlite:x"}, wantParts: []string{"config: --database-url:"}},
		{name: "bad --set value", args: []string{"--set", "session.lifetime=soon"}, wantParts: []string{"config: --set session.lifetime:", "soon"}},
		{name: "unknown --set key", args: []string{"--set", "log.colour=red"}, wantParts: []string{"--set log.colour: unknown key"}},
		{name: "--set without =", args: []string{"--set", "log.level"}, wantParts: []string{"--set log.level: want KEY=VALUE"}},
		{name: "secret --set", args: []string{"--set", "admin.password=hunter2"}, wantParts: []string{"--set admin.password:", "REAM_ADMIN_PASSWORD"}},
		{name: "unknown flag", args: []string{"--colour"}, wantParts: []string{"config:", "colour"}},
		{name: "cert without key", env: []string{"REAM_HTTPS_CERT_FILE=/c.pem"}, wantParts: []string{"https.cert-file is set (env REAM_HTTPS_CERT_FILE) but https.key-file is not"}},
		{name: "same listeners", args: []string{"--set", "https.listen=:9191"}, wantParts: []string{"listen (default) and https.listen (flag --set https.listen)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			c, _, err := Load(path, tt.env, tt.args)
			if err == nil {
				t.Fatalf("no error; config %+v", c)
			}
			for _, part := range tt.wantParts {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

func TestAllErrorsReported(t *testing.T) {
	chdir(t)
	path := writeFile(t, "bogus = 1\n[log]\nlevel = \"loud\"\n")
	_, _, err := Load(path, []string{"REAM_LISTEN=bad"}, []string{"--set", "mail.outbox-interval=0s"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, part := range []string{"ream.toml:1: unknown key \"bogus\"", "ream.toml:3: log.level:", "REAM_LISTEN:", "--set mail.outbox-interval:"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}

func TestHelpFlag(t *testing.T) {
	chdir(t)
	if _, _, err := Load("", nil, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	var b bytes.Buffer
	WriteFlagUsage(&b)
	for _, name := range []string{"-config", "-data-dir", "-listen", "-database-url", "-set"} {
		if !strings.Contains(b.String(), name) {
			t.Errorf("usage lacks %s:\n%s", name, b.String())
		}
	}
}

func TestSecrets(t *testing.T) {
	chdir(t)
	const (
		dbPassword    = "s3cr3t-db-pw"
		sslPassword   = "ssl-pw-42"
		token         = "tok-9f8e7d"
		adminPassword = "adm1n-pw-xyz"
	)
	env := []string{
		"REAM_DATABASE_URL=postgres://ream:" + dbPassword + "@db.example:5432/ream?sslmode=require&sslpassword=" + sslPassword,
		"REAM_AUTH_WEBSERVICES_AUTH_TOKEN=" + token,
		"REAM_ADMIN_PASSWORD=" + adminPassword,
	}
	c, _, err := Load("", env, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.Show(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, secret := range []string{dbPassword, sslPassword, token, adminPassword} {
		if strings.Contains(out, secret) {
			t.Errorf("Show reveals %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		`auth.webservices.auth-token = (set)  # env REAM_AUTH_WEBSERVICES_AUTH_TOKEN`,
		`admin.password = (set)  # env REAM_ADMIN_PASSWORD`,
		`postgres://ream:xxxxx@db.example:5432/ream?`,
		`session.lifetime = "12h"  # default`,
		`auth.webservices.allowed-addresses = ["127.0.0.1/32", "::1/128"]  # default`,
		`https.self-signed = true  # default`,
		"# Effective configuration; no configuration file",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Show lacks %q:\n%s", want, out)
		}
	}
	for _, info := range c.Keys() {
		if strings.Contains(info.Value, dbPassword) || strings.Contains(info.Value, token) || strings.Contains(info.Value, adminPassword) {
			t.Errorf("Keys reveals a secret in %s", info.Name)
		}
	}

	b.Reset()
	if err := Default().Show(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "admin.password = (not set)  # default") {
		t.Errorf("unset secret not shown as (not set):\n%s", b.String())
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"postgres://db/ream", "postgres://db/ream"},
		{"postgres://ream@db/ream", "postgres://ream@db/ream"},
		{"postgres://ream:pw@db/ream", "postgres://ream:xxxxx@db/ream"},
		{"postgresql://db/ream?password=pw&sslmode=disable", "postgresql://db/ream?password=xxxxx&sslmode=disable"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReference(t *testing.T) {
	var b bytes.Buffer
	if err := WriteReference(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, k := range keys {
		if !strings.Contains(out, "| `"+k.name+"` | `"+envName(k.name)+"` |") {
			t.Errorf("reference lacks %s", k.name)
		}
	}
	for _, want := range []string{"`\":9191\"`", "`\"./ream-data\"`", "`\"12h\"`", "REAM_DATABASE_URL", "REAM_CONFIG"} {
		if !strings.Contains(out, want) {
			t.Errorf("reference lacks %s:\n%s", want, out)
		}
	}
	// Every key is described and has a distinct environment variable.
	seen := map[string]bool{}
	for _, info := range Default().Keys() {
		if info.Description == "" || seen[info.Env] {
			t.Errorf("key %s: description %q, env %s repeated %v", info.Name, info.Description, info.Env, seen[info.Env])
		}
		seen[info.Env] = true
	}
}

func TestEnvNames(t *testing.T) {
	for name, want := range map[string]string{
		"database.url":                       "REAM_DATABASE_URL",
		"auth.webservices.auth-token":        "REAM_AUTH_WEBSERVICES_AUTH_TOKEN",
		"sync.allowed-roots":                 "REAM_SYNC_ALLOWED_ROOTS",
		"admin.password":                     "REAM_ADMIN_PASSWORD",
		"https.self-signed":                  "REAM_HTTPS_SELF_SIGNED",
		"mail.outbox-interval":               "REAM_MAIL_OUTBOX_INTERVAL",
		"auth.webservices.allowed-addresses": "REAM_AUTH_WEBSERVICES_ALLOWED_ADDRESSES",
	} {
		if got := envName(name); got != want {
			t.Errorf("envName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestHelpers(t *testing.T) {
	c := Default()
	for _, tt := range []struct {
		setting string
		https   bool
		want    bool
	}{
		{"auto", true, true}, {"auto", false, false},
		{"always", false, true}, {"never", true, false},
	} {
		c.SecureCookies = tt.setting
		if got := c.SecureCookie(tt.https); got != tt.want {
			t.Errorf("SecureCookie(%s, https=%v) = %v", tt.setting, tt.https, got)
		}
	}
	for level, want := range map[string]string{"debug": "DEBUG", "info": "INFO", "warn": "WARN", "error": "ERROR"} {
		if got := (Log{Level: level}).SlogLevel().String(); got != want {
			t.Errorf("SlogLevel(%s) = %s", level, got)
		}
	}
	c.Database.URL = "PostgreSQL://db/ream"
	if !c.IsPostgres() {
		t.Error("upper-case scheme not PostgreSQL")
	}
	c.HTTPS.Listen = ""
	if c.HTTPSEnabled() {
		t.Error("HTTPS on without a listen address")
	}
	if cert, key, err := c.HTTPSCertificate(); cert != "" || key != "" || err != nil {
		t.Errorf("HTTPSCertificate with HTTPS off = %q %q %v", cert, key, err)
	}
}
