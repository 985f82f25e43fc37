// Package samba starts a real Active Directory domain controller for tests:
// Samba's, provisioned in a temporary directory, answering LDAP only on
// loopback (389 and 636), with a TLS certificate the test makes (Samba's own
// has a negative serial number, which Go refuses) and the fixture of Fixture
// loaded with ldapadd over LDAPS.
//
// Provisioning and loading take most of a minute, and a domain controller
// needs the fixed ports 389 and 636, so a test binary starts at most one:
// Shared starts it on first use, and Main stops it when the tests end. A
// lock file makes a second test binary wait for the first one's server to
// stop rather than fail on the ports.
package samba

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/reamprint/ream/internal/testenv"
)

// Paths of the Debian samba and ldap-utils packages.
const (
	sambaPath     = "/usr/sbin/samba"
	sambaToolPath = "/usr/bin/samba-tool"
	ldapaddPath   = "/usr/bin/ldapadd"
)

// Names of the test domain.
const (
	Realm         = "CORP.EXAMPLE"
	DNSDomain     = "corp.example"
	Domain        = "CORP" // NetBIOS (down-level) name
	BaseDN        = "DC=corp,DC=example"
	AdminUPN      = "Administrator@corp.example"
	AdminPassword = "Adm1n-Secret!"
)

// Server is a running Samba AD DC.
type Server struct {
	URL        string // ldaps://127.0.0.1:636
	PlainURL   string // ldap://127.0.0.1:389 (simple binds are refused without TLS)
	BaseDN     string
	CACertFile string // PEM of the certificate Samba serves; it is its own CA

	dir    string
	cmd    *exec.Cmd
	out    *bytes.Buffer
	exited chan struct{}
	lock   *os.File
}

var (
	shared    *Server
	sharedErr string // why it could not start: a missing program (skip) or a failure
	missing   bool
	once      sync.Once
)

// Shared returns the test binary's domain controller, starting it and
// loading Fixture on first use. It skips the test (or fails it under
// REAM_REQUIRE_SERVICES=1) when Samba is not installed. The package's
// TestMain must call Main so that the server stops when the tests end.
func Shared(t testing.TB) *Server {
	t.Helper()
	once.Do(func() { shared, missing, sharedErr = start() })
	if missing {
		testenv.Require(t, "Samba AD DC", sharedErr)
	}
	if shared == nil {
		t.Fatalf("samba: %s", sharedErr)
	}
	return shared
}

// Main runs the tests and then stops the shared server, if one was
// started: func TestMain(m *testing.M) { os.Exit(samba.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	return code
}

func start() (*Server, bool, string) {
	for _, p := range []string{sambaPath, sambaToolPath, ldapaddPath} {
		if _, err := os.Stat(p); err != nil {
			return nil, true, fmt.Sprintf("apt-get install samba ldap-utils (%s is missing)", p)
		}
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "ream-test-samba.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, fmt.Sprintf("unable to open the lock file: %v", err)
	}
	// Released when the server stops or the process ends.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		lock.Close()
		return nil, false, fmt.Sprintf("unable to lock %s: %v", lock.Name(), err)
	}
	s, err := provision(lock)
	if err != nil {
		lock.Close()
		return nil, false, err.Error()
	}
	return s, false, ""
}

func provision(lock *os.File) (*Server, error) {
	for _, port := range []string{"389", "636"} {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("port %s on 127.0.0.1 is taken by another server; a domain controller needs it", port)
		}
	}
	dir, err := os.MkdirTemp("", "ream-samba-")
	if err != nil {
		return nil, fmt.Errorf("unable to make a directory: %w", err)
	}
	s := &Server{
		URL: "ldaps://127.0.0.1:636", PlainURL: "ldap://127.0.0.1:389", BaseDN: BaseDN,
		dir: dir, out: &bytes.Buffer{}, exited: make(chan struct{}), lock: lock,
	}
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	out, err := exec.Command(sambaToolPath, "domain", "provision",
		"--realm="+Realm, "--domain="+Domain, "--server-role=dc", "--dns-backend=NONE", "--use-rfc2307",
		"--targetdir="+dir, "--adminpass="+AdminPassword, "--option=ldb:nosync = true").CombinedOutput()
	if err != nil {
		return fail(fmt.Errorf("samba-tool domain provision failed: %v\n%s", err, out))
	}
	cert, key, err := testenv.WriteLoopbackCertificate(dir)
	if err != nil {
		return fail(err)
	}
	s.CACertFile = cert
	conf := filepath.Join(dir, "etc", "smb.conf")
	if err := os.WriteFile(conf, []byte(smbConf(dir, cert, key)), 0o600); err != nil {
		return fail(fmt.Errorf("unable to write smb.conf: %w", err))
	}
	s.cmd = exec.Command(sambaPath, "-i", "-M", "single", "-s", conf)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	// Should the test binary die without Main, Samba goes with it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("run %s: %w", sambaPath, err))
	}
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(60 * time.Second); err != nil {
		s.stop()
		return nil, err
	}
	if err := s.load(Fixture()); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// smbConf is a domain controller that serves LDAP only, on loopback, and
// keeps every file it writes under dir. ldb:nosync spares the disk flushes
// that would make loading the fixture take minutes.
func smbConf(dir, cert, key string) string {
	return fmt.Sprintf(`[global]
	netbios name = REAMDC
	workgroup = %s
	realm = %s
	server role = active directory domain controller
	server services = ldap
	dcerpc endpoint servers =
	interfaces = lo
	bind interfaces only = yes
	private dir = %[3]s/private
	state directory = %[3]s/state
	lock directory = %[3]s
	cache directory = %[3]s/cache
	pid directory = %[3]s
	ncalrpc dir = %[3]s/ncalrpc
	binddns dir = %[3]s/bind-dns
	log file = %[3]s/log.%%m
	idmap_ldb:use rfc2307 = yes
	ldb:nosync = true
	tls enabled = yes
	tls keyfile = %[4]s
	tls certfile = %[5]s
	tls cafile = %[5]s
`, Domain, Realm, dir, key, cert)
}

// waitReady waits until an administrator's bind over LDAPS succeeds.
func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("samba exited: %s", s.out)
		default:
		}
		conn, err := s.dial()
		if err == nil {
			err = conn.Bind(AdminUPN, AdminPassword)
			conn.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("samba did not answer on %s within %s: %v\n%s", s.URL, limit, last, s.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dial connects over LDAPS, trusting only the test's certificate.
func (s *Server) dial() (*ldap.Conn, error) {
	pemBytes, err := os.ReadFile(s.CACertFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	conn, err := ldap.DialURL(s.URL, ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}),
		ldap.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}))
	if err != nil {
		return nil, err
	}
	conn.SetTimeout(30 * time.Second)
	return conn, nil
}

// Admin returns a connection bound as the domain's Administrator; the
// test closes it.
func (s *Server) Admin(t testing.TB) *ldap.Conn {
	t.Helper()
	conn, err := s.dial()
	if err != nil {
		t.Fatalf("samba: unable to connect: %v", err)
	}
	if err := conn.Bind(AdminUPN, AdminPassword); err != nil {
		conn.Close()
		t.Fatalf("samba: administrator bind: %v", err)
	}
	return conn
}

// Add loads more entries (LDIF) with ldapadd over LDAPS, for a benchmark
// that needs a bigger directory than the fixture. They stay for the rest
// of the run: tests that count entries must not share a binary with it.
func (s *Server) Add(t testing.TB, ldif string) {
	t.Helper()
	if err := s.load(ldif); err != nil {
		t.Fatalf("samba: %v", err)
	}
}

// load adds an LDIF document with ldapadd over LDAPS, as an administrator.
func (s *Server) load(ldif string) error {
	path := filepath.Join(s.dir, "fixture.ldif")
	if err := os.WriteFile(path, []byte(ldif), 0o600); err != nil {
		return fmt.Errorf("unable to write the fixture: %w", err)
	}
	pwFile := filepath.Join(s.dir, "admin.pw")
	if err := os.WriteFile(pwFile, []byte(AdminPassword), 0o600); err != nil {
		return fmt.Errorf("unable to write the password file: %w", err)
	}
	cmd := exec.Command(ldapaddPath, "-H", s.URL, "-x", "-D", AdminUPN, "-y", pwFile, "-f", path)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+s.CACertFile, "LDAPTLS_REQCERT=demand")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tail := out.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("ldapadd of the fixture failed: %v\n%s", err, tail)
	}
	return nil
}

// stop ends the server, removes its files and releases the lock.
func (s *Server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	os.RemoveAll(s.dir)
	s.lock.Close()
}

// quotedPassword is an AD unicodePwd value: the password in double quotes,
// in UTF-16LE.
func quotedPassword(pw string) []byte {
	var b []byte
	for _, r := range `"` + pw + `"` {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}
