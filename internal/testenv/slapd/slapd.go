// Package slapd starts a real OpenLDAP server for tests: a throw-away
// database under t.TempDir, loaded with slapadd before the server starts,
// listening on loopback with plain LDAP (StartTLS capable) and LDAPS.
package slapd

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/reamprint/ream/internal/testenv"
)

// Paths of the Debian slapd package.
const (
	slapdPath   = "/usr/sbin/slapd"
	slapaddPath = "/usr/sbin/slapadd"
	schemaDir   = "/etc/ldap/schema"
	moduleDir   = "/usr/lib/ldap"
)

// Directory names every server uses.
const (
	BaseDN        = "dc=example,dc=org"
	AdminDN       = "cn=admin,dc=example,dc=org"
	AdminPassword = "admin-secret"
)

// baseEntry is the suffix entry; Start always loads it first.
const baseEntry = `dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
o: Example
dc: example
`

// Options tune a server.
type Options struct {
	// SoftSizeLimit caps entries per unpaged search (0: unlimited). Paged
	// searches are never capped, as with Active Directory's 1000.
	SoftSizeLimit int
	// LDIF holds the contents of LDIF documents to load, after the suffix entry.
	LDIF []string
}

// Server is a running slapd.
type Server struct {
	URL           string // ldap://127.0.0.1:PORT
	LDAPSURL      string // ldaps://127.0.0.1:PORT
	BaseDN        string
	AdminDN       string
	AdminPassword string
	CACertFile    string // PEM of the server's self-signed certificate

	cmd      *exec.Cmd
	stderr   *bytes.Buffer
	stopOnce sync.Once
	exited   chan struct{}
}

// Start starts a server loaded with the given LDIF documents (contents,
// not paths) and stops it when the test ends. It skips the test when slapd
// is not installed.
func Start(t testing.TB, ldifs ...string) *Server {
	t.Helper()
	return StartWithOptions(t, Options{LDIF: ldifs})
}

// StartWithOptions is Start with options.
func StartWithOptions(t testing.TB, opts Options) *Server {
	t.Helper()
	for _, p := range []string{slapdPath, slapaddPath, filepath.Join(schemaDir, "inetorgperson.schema")} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("slapd not installed: apt-get install slapd ldap-utils (%s is missing)", p)
		}
	}
	dir := t.TempDir()
	certFile, keyFile, err := testenv.WriteLoopbackCertificate(dir)
	if err != nil {
		t.Fatalf("slapd: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatalf("slapd: unable to create the database directory: %v", err)
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(config(dir, certFile, keyFile, opts.SoftSizeLimit)), 0o600); err != nil {
		t.Fatalf("slapd: unable to write slapd.conf: %v", err)
	}
	load(t, dir, conf, opts.LDIF)

	// A free port can be taken by someone else between our probe and
	// slapd's bind, so try a few times.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s, err := launch(t, dir, conf, certFile)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err
	}
	t.Fatalf("slapd: unable to start: %v", lastErr)
	return nil
}

func config(dir, certFile, keyFile string, softLimit int) string {
	limit := "unlimited"
	if softLimit > 0 {
		limit = fmt.Sprint(softLimit)
	}
	var b strings.Builder
	for _, s := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include %s/%s.schema\n", schemaDir, s)
	}
	fmt.Fprintf(&b, `modulepath %s
moduleload back_mdb
pidfile %s
TLSCertificateFile %s
TLSCertificateKeyFile %s
sizelimit size.soft=%s size.hard=unlimited size.pr=unlimited size.prtotal=unlimited
database mdb
maxsize 4294967296
suffix %q
rootdn %q
rootpw %s
directory %s
index objectClass eq
index uid,memberUid,member eq
`, moduleDir, filepath.Join(dir, "slapd.pid"), certFile, keyFile, limit,
		BaseDN, AdminDN, AdminPassword, filepath.Join(dir, "db"))
	return b.String()
}

// load writes the LDIF documents to one file and loads it with slapadd
// before the server starts, which is much faster than ldapadd.
func load(t testing.TB, dir, conf string, ldifs []string) {
	t.Helper()
	path := filepath.Join(dir, "load.ldif")
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("slapd: unable to create %s: %v", path, err)
	}
	for _, doc := range append([]string{baseEntry}, ldifs...) {
		if _, err := f.WriteString(strings.TrimSpace(doc) + "\n\n"); err != nil {
			t.Fatalf("slapd: unable to write %s: %v", path, err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatalf("slapd: unable to write %s: %v", path, err)
	}
	out, err := exec.Command(slapaddPath, "-q", "-f", conf, "-l", path).CombinedOutput()
	if err != nil {
		t.Fatalf("slapd: slapadd failed: %v\n%s", err, out)
	}
}

func launch(t testing.TB, dir, conf, certFile string) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL:           fmt.Sprintf("ldap://127.0.0.1:%d", ports[0]),
		LDAPSURL:      fmt.Sprintf("ldaps://127.0.0.1:%d", ports[1]),
		BaseDN:        BaseDN,
		AdminDN:       AdminDN,
		AdminPassword: AdminPassword,
		CACertFile:    certFile,
		stderr:        &bytes.Buffer{},
		exited:        make(chan struct{}),
	}
	// -d 0 keeps slapd in the foreground, so the test owns the process.
	s.cmd = exec.Command(slapdPath, "-d", "0", "-f", conf, "-h", s.URL+"/ "+s.LDAPSURL+"/")
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", slapdPath, err)
	}
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("slapd exited: %s", s.stderr)
		default:
		}
		if s.answers() {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("slapd did not answer on %s within 20s: %s", s.URL, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// answers reports whether the server accepts an admin bind.
func (s *Server) answers() bool {
	conn, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetTimeout(time.Second)
	return conn.Bind(s.AdminDN, s.AdminPassword) == nil
}

// Stop ends the server and waits for it; it is safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// UsersLDIF generates n users uid=userN under ou=people and, when groups >
// 0, that many groupOfNames groups under ou=groups with users spread evenly
// among them. Every user has the password "pass-N".
func UsersLDIF(n, groups int) string {
	var b strings.Builder
	b.Grow(n*260 + groups*64)
	b.WriteString("dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "dn: uid=user%d,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: user%d\ncn: User %d\nsn: %d\nmail: user%d@example.org\nemployeeNumber: %d\ndepartmentNumber: D%d\nuserPassword: pass-%d\n\n",
			i, i, i, i, i, 100000+i, i%10, i)
	}
	if groups > 0 {
		b.WriteString("dn: ou=groups,dc=example,dc=org\nobjectClass: organizationalUnit\nou: groups\n\n")
		for g := 0; g < groups; g++ {
			fmt.Fprintf(&b, "dn: cn=group%d,ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\ncn: group%d\n", g, g)
			for i := 1 + g; i <= n; i += groups {
				fmt.Fprintf(&b, "member: uid=user%d,ou=people,dc=example,dc=org\n", i)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}
