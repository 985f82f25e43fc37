package server

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv"
)

func TestVersion(t *testing.T) {
	r := mustRun(t, nil, "", "version")
	want := "(schema " + strconv.Itoa(store.SchemaVersion()) + ")"
	if !strings.HasPrefix(r.stdout, "ream ") || !strings.Contains(r.stdout, want) {
		t.Errorf("version printed %q, want \"ream … %s\"", r.stdout, want)
	}
}

func TestUnknownCommandAndNoCommand(t *testing.T) {
	if r := ream(t, nil, ""); r.code != 2 || !strings.Contains(r.stderr, "usage: ream") {
		t.Errorf("no command: exit %d, stderr %q", r.code, r.stderr)
	}
	r := ream(t, nil, "", "frobnicate")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestMigrateTwice(t *testing.T) {
	dir := t.TempDir()
	first := mustRun(t, nil, "", "--data-dir", dir, "migrate") // flags may come before the command
	want := "(" + strconv.Itoa(store.SchemaVersion()) + " step(s) applied)"
	if !strings.Contains(first.stdout, want) {
		t.Errorf("first migrate printed %q, want %q", first.stdout, want)
	}
	second := mustRun(t, nil, "", "migrate", "--data-dir", dir)
	if !strings.Contains(second.stdout, "(0 step(s) applied)") {
		t.Errorf("second migrate printed %q, want 0 steps", second.stdout)
	}
}

func TestConfigShowHidesSecretsAndShowsSources(t *testing.T) {
	const (
		adminPassword = "admin-secret-Quokka-7731"
		token         = "token-secret-Wombat-4412"
		dbPassword    = "db-secret-Numbat-9055"
	)
	env := []string{
		"REAM_ADMIN_PASSWORD=" + adminPassword,
		"REAM_AUTH_WEBSERVICES_AUTH_TOKEN=" + token,
		"REAM_DATABASE_URL=postgres://ream:" + dbPassword + "@db.example.org:5432/ream",
		"HOME=/nonexistent",
	}
	r := mustRun(t, env, "", "config", "show", "--listen", "127.0.0.1:9300", "--set", "log.level=debug")
	for _, secret := range []string{adminPassword, token, dbPassword} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("config show printed the secret %q:\n%s", secret, r.stdout)
		}
	}
	for _, want := range []string{
		"# env REAM_DATABASE_URL",
		"db.example.org", // the URL is shown, only its password hidden
		"# env REAM_ADMIN_PASSWORD",
		"# env REAM_AUTH_WEBSERVICES_AUTH_TOKEN",
		`listen = "127.0.0.1:9300"  # flag --listen`,
		"# flag --set log.level",
		"data-dir = \"./ream-data\"  # default",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config show lacks %q:\n%s", want, r.stdout)
		}
	}

	// A secret on the command line would show in the process list.
	bad := ream(t, nil, "", "config", "show", "--set", "admin.password="+adminPassword)
	if bad.code == 0 || !strings.Contains(bad.stderr, "admin.password") || strings.Contains(bad.stderr, adminPassword) {
		t.Errorf("--set admin.password: exit %d, stderr %q", bad.code, bad.stderr)
	}
	if r := ream(t, nil, "", "config", "show", "extra"); r.code != 2 || !strings.Contains(r.stderr, `"extra"`) {
		t.Errorf("config show extra: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := ream(t, nil, "", "config", "frob"); r.code != 2 || !strings.Contains(r.stderr, `"frob"`) {
		t.Errorf("config frob: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestConfigReference(t *testing.T) {
	r := mustRun(t, nil, "", "config", "reference")
	for _, want := range []string{"| Key | Environment | Default | Description |", "`database.url`", "`REAM_ADMIN_PASSWORD`", "`https.listen`"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config reference lacks %q", want)
		}
	}
}

func TestAdminSetPassword(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, nil, "", "migrate", "--data-dir", dir)
	ctx := context.Background()

	// The password is never a command-line argument.
	if r := ream(t, nil, "", "admin", "--data-dir", dir, "set-password", "Hunter2-is-long-enough"); r.code != 2 || !strings.Contains(r.stderr, "command line") {
		t.Errorf("password as argument: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := ream(t, nil, "", "admin", "--data-dir", dir); r.code != 2 || !strings.Contains(r.stderr, "set-password") {
		t.Errorf("admin without subcommand: exit %d, stderr %q", r.code, r.stderr)
	}

	short := ream(t, nil, "short1\n", "admin", "--data-dir", dir, "set-password", "--stdin")
	if short.code != 1 || !strings.Contains(short.stderr, "at least 8 characters") {
		t.Errorf("short password: exit %d, stderr %q", short.code, short.stderr)
	}
	app := openApp(t, loadConfig(t, nil, "--data-dir", dir), nil)
	if _, ok, err := app.Store.Setting(ctx, core.AdminPasswordKey); err != nil || ok {
		t.Fatalf("after a refused password the admin password is set=%v (err %v); want nothing changed", ok, err)
	}
	app.Close()

	const good = "Lantern-Orchard-Velvet-42"
	r := mustRun(t, nil, good+"\n", "admin", "--data-dir", dir, "set-password", "--stdin")
	if !strings.Contains(r.stdout, "password was changed") {
		t.Errorf("set-password printed %q", r.stdout)
	}
	app = openApp(t, loadConfig(t, nil, "--data-dir", dir), nil)
	for pw, want := range map[string]bool{good: true, "short1": false, good + "x": false} {
		if ok, err := app.Core.CheckAdminPassword(ctx, pw); err != nil || ok != want {
			t.Errorf("CheckAdminPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
}

// TestAdminSetPasswordBeforeFirstServe: an operator may set the password on
// a fresh data directory, before `ream serve` ever ran; the flags may stand
// after the subcommand.
func TestAdminSetPasswordBeforeFirstServe(t *testing.T) {
	dir := t.TempDir()
	const good = "Lantern-Orchard-Velvet-42"
	mustRun(t, nil, good+"\n", "admin", "set-password", "--stdin", "--data-dir", dir)
	app := openApp(t, loadConfig(t, nil, "--data-dir", dir), nil)
	if ok, err := app.Core.CheckAdminPassword(context.Background(), good); err != nil || !ok {
		t.Errorf("CheckAdminPassword after set-password on a fresh data directory = %v, %v", ok, err)
	}
}

func TestServerCommand(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, nil, "", "migrate", "--data-dir", dir)
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"works", []string{"get-total-users"}, 0, "0", ""},
		{"lookup miss", []string{"user-exists", "nobody"}, 0, "false", ""},
		// Every failure is status 1 with the message on stderr, as PaperCut's.
		{"unknown verb", []string{"frobnicate-users"}, 1, "", `unknown command "frobnicate-users"`},
		{"too few", []string{"user-exists"}, 1, "", "takes 1 parameters, got 0"},
		{"too many", []string{"user-exists", "a", "b"}, 1, "", "takes 1 parameters, got 2"},
		{"no verb", nil, 1, "", "usage: ream server-command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ream(t, nil, "", append([]string{"server-command", "--data-dir", dir}, c.args...)...)
			if r.code != c.code || !strings.Contains(r.stdout, c.stdout) || !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", r.code, c.code, r.stdout, c.stdout, r.stderr, c.stderr)
			}
		})
	}
}

func TestBackupWhileAnotherAppIsOpen(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, nil, "", "migrate", "--data-dir", dir)
	app := openApp(t, loadConfig(t, nil, "--data-dir", dir), nil)
	createAccount(t, app.Store, "Physics")

	backup := filepath.Join(t.TempDir(), "ream-backup.db")
	r := mustRun(t, nil, "", "backup", "--data-dir", dir, backup)
	if !strings.Contains(r.stdout, backup) {
		t.Errorf("backup printed %q", r.stdout)
	}
	if !hasAccount(t, backup, "Physics") {
		t.Error("the backup lacks the account made through the open App")
	}
	// The open App keeps working after the backup.
	createAccount(t, app.Store, "Chemistry")

	again := ream(t, nil, "", "backup", "--data-dir", dir, backup)
	if again.code != 1 || !strings.Contains(again.stderr, "already exists") {
		t.Errorf("backup over an existing file: exit %d, stderr %q", again.code, again.stderr)
	}
	if r := ream(t, nil, "", "backup", "--data-dir", dir); r.code != 2 || !strings.Contains(r.stderr, "usage: ream backup FILE") {
		t.Errorf("backup without FILE: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestRestore(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, nil, "", "migrate", "--data-dir", dir)
	cfg := loadConfig(t, nil, "--data-dir", dir, "--listen", "127.0.0.1:"+strconv.Itoa(testenv.FreeLoopbackPort(t)), "--set", "https.listen=")
	app := openApp(t, cfg, nil)
	createAccount(t, app.Store, "Before")
	backup := filepath.Join(t.TempDir(), "before.db")
	mustRun(t, nil, "", "backup", "--data-dir", dir, backup)
	createAccount(t, app.Store, "After")

	// A running server holds the data directory.
	srv := startServe(t, app)
	r := ream(t, nil, "", "restore", "--data-dir", dir, backup)
	if r.code != 1 || !strings.Contains(r.stderr, "another Ream server is using the data directory") || !strings.Contains(r.stderr, "stop the server first") {
		t.Errorf("restore under a running server: exit %d, stderr %q", r.code, r.stderr)
	}
	srv.stop(t)
	app.Close()
	if !hasAccount(t, cfg.SQLitePath(), "After") {
		t.Fatal("the refused restore changed the database")
	}

	r = mustRun(t, nil, "", "restore", "--data-dir", dir, backup)
	m := regexp.MustCompile(`kept as (\S+)`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("restore did not say where the old database went: %q", r.stdout)
	}
	if !hasAccount(t, m[1], "After") {
		t.Error("the database kept aside lacks the account made after the backup")
	}
	if !hasAccount(t, cfg.SQLitePath(), "Before") || hasAccount(t, cfg.SQLitePath(), "After") {
		t.Error("the restored database is not the backup")
	}
	// The restored database serves again.
	mustRun(t, nil, "", "server-command", "--data-dir", dir, "get-total-users")
}

func TestRestoreRefusesWhatIsNotABackup(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, nil, "", "migrate", "--data-dir", dir)
	junk := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database\n", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := ream(t, nil, "", "restore", "--data-dir", dir, junk)
	if r.code != 1 || !strings.Contains(r.stderr, "ream restore") {
		t.Errorf("restore of a text file: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := ream(t, nil, "", "restore", "--data-dir", dir); r.code != 2 || !strings.Contains(r.stderr, "stop the server first") {
		t.Errorf("restore without FILE: exit %d, stderr %q", r.code, r.stderr)
	}
	// The live database is untouched.
	mustRun(t, nil, "", "server-command", "--data-dir", dir, "get-total-users")

	pg := ream(t, nil, "", "restore", "--data-dir", dir, "--database-url", "postgres://ream@127.0.0.1:1/ream", junk)
	if pg.code != 1 || !strings.Contains(pg.stderr, "pg_restore") {
		t.Errorf("restore on PostgreSQL: exit %d, stderr %q", pg.code, pg.stderr)
	}
}

// TestNewerSchemaIsRefused: a database migrated by a newer Ream must not be
// used by this one, on either database.
func TestNewerSchemaIsRefused(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			flags := []string{"--data-dir", dir}
			driver, dsn := "sqlite", filepath.Join(dir, "ream.db")
			if db == "postgres" {
				dsn = testenv.PostgresURL(t)
				driver = "pgx"
				flags = append(flags, "--database-url", dsn)
			}
			mustRun(t, nil, "", append([]string{"migrate"}, flags...)...)
			pretendNewerBinaryMigrated(t, driver, dsn)
			want := "newer than this"

			r := ream(t, nil, "", append(append([]string{"server-command"}, flags...), "get-total-users")...)
			if r.code != 1 || !strings.Contains(r.stderr, want) || r.stdout != "" {
				t.Errorf("server-command: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			r = ream(t, nil, "", append([]string{"migrate"}, flags...)...)
			if r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Errorf("migrate: exit %d, stderr %q", r.code, r.stderr)
			}
			port := strconv.Itoa(testenv.FreeLoopbackPort(t))
			r = ream(t, nil, "", append([]string{"serve", "--listen", "127.0.0.1:" + port, "--set", "https.listen="}, flags...)...)
			if r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Errorf("serve: exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
}

// TestCLIRunsAreAuditedAsTheOSUser: a change made with server-command is
// audited as cli:<the operating-system user who ran it>, not as a generic
// "server-command".
func TestCLIRunsAreAuditedAsTheOSUser(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, nil, "", "server-command", "--data-dir", dir, "add-new-user", "cliaudited")
	me, err := user.Current()
	if err != nil {
		t.Skipf("the OS user is unknown here: %v", err)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, "", filepath.Join(dir, "ream.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	entries, _, err := s.AuditLog(ctx, "cliaudited", 0, 10)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no audit entry for the new user: %v", err)
	}
	if got, want := entries[0].Actor, "cli:"+me.Username; got != want || entries[0].ActorKind != model.ActorCLI {
		t.Errorf("audited as %q (%s), want %q (cli)", got, entries[0].ActorKind, want)
	}
}

func TestCommandLineUnderTheNameServerCommand(t *testing.T) {
	for _, c := range []struct {
		argv []string
		want string
	}{
		{[]string{"/usr/local/bin/ream", "serve"}, "serve"},
		{[]string{"/opt/ream/server-command", "list-user-accounts"}, "server-command list-user-accounts"},
		{[]string{"server-command", "user-exists", "alice"}, "server-command user-exists alice"},
		{[]string{`C:\ream\server-command.exe`, "help"}, "server-command help"},
		{[]string{"./server-commander", "x"}, "x"},
	} {
		if got := strings.Join(CommandLine(c.argv), " "); got != c.want {
			t.Errorf("CommandLine(%q) = %q, want %q", c.argv, got, c.want)
		}
	}
}

// FuzzCommandLine: any argv[0] is safe, and the binary is server-command
// exactly when the last path element says so.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{"ream", "/usr/bin/server-command", `C:\x\server-command.exe`, "", "/", "server-command/", "\x00"} {
		f.Add(s, "list-user-accounts")
	}
	f.Fuzz(func(t *testing.T, argv0, arg string) {
		got := CommandLine([]string{argv0, arg})
		name := strings.TrimSuffix(argv0[strings.LastIndexAny(argv0, `/\`)+1:], ".exe")
		if name == ServerCommandName {
			if len(got) != 2 || got[0] != ServerCommandName || got[1] != arg {
				t.Fatalf("CommandLine(%q, %q) = %q", argv0, arg, got)
			}
		} else if len(got) != 1 || got[0] != arg {
			t.Fatalf("CommandLine(%q, %q) = %q", argv0, arg, got)
		}
	})
}
