package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/testenv"
	"github.com/reamprint/ream/internal/xmlrpc"
)

// hangGuard bounds waits for something that should happen promptly, so a
// broken server fails the test instead of hanging it; it measures nothing.
const hangGuard = 2 * time.Minute

// runningServer is `ream serve` running in-process on an App.
type runningServer struct {
	app     *App
	base    string // http://host:port
	out     *syncBuffer
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

// startServe runs app.serve until the test stops it, and waits until the
// server answers /healthz.
func startServe(t *testing.T, app *App) *runningServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningServer{app: app, base: "http://" + app.Config.Listen, out: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { rs.done <- app.serve(ctx, rs.out) }()
	t.Cleanup(func() {
		if !rs.stopped {
			cancel()
			<-rs.done
		}
	})
	deadline := time.Now().Add(hangGuard)
	for {
		select {
		case err := <-rs.done:
			rs.stopped = true
			t.Fatalf("serve ended before answering: %v", err)
		default:
		}
		if rs.answers() {
			return rs
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer /healthz on %s within %s", rs.base, hangGuard)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// answers reports whether the server is up: /healthz answers over HTTP and,
// when HTTPS is on, its listener (opened after the certificate is in place)
// accepts connections.
func (rs *runningServer) answers() bool {
	resp, err := http.Get(rs.base + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	if !rs.app.Config.HTTPSEnabled() {
		return true
	}
	// Readiness only (the certificate is checked by the tests); a full
	// handshake keeps the server from logging an aborted one.
	conn, err := tls.Dial("tcp", rs.app.Config.HTTPS.Listen, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// stop cancels serve's context, as SIGINT does, and requires a clean return.
func (rs *runningServer) stop(t *testing.T) {
	t.Helper()
	rs.cancel()
	rs.stopped = true
	select {
	case err := <-rs.done:
		if err != nil {
			t.Fatalf("serve returned %v after its context ended; want nil", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("serve did not shut down")
	}
}

// get fetches a URL and returns status and body.
func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func loopback(t *testing.T) string {
	return "127.0.0.1:" + strconv.Itoa(testenv.FreeLoopbackPort(t))
}

var printedPassword = regexp.MustCompile(`password: (\S+)`)

func TestServeFirstStartThenRestart(t *testing.T) {
	const token = "serve-test-token-Kestrel"
	ctx := context.Background()
	dir := t.TempDir()
	httpsAddr := loopback(t)
	env := []string{"REAM_AUTH_WEBSERVICES_AUTH_TOKEN=" + token}
	cfg := loadConfig(t, env, "--data-dir", dir, "--listen", loopback(t), "--set", "https.listen="+httpsAddr)

	app := openApp(t, cfg, nil)
	srv := startServe(t, app) // on an empty data directory: serve migrates

	m := printedPassword.FindStringSubmatch(srv.out.String())
	if m == nil {
		t.Fatalf("first start did not print the generated admin password:\n%s", srv.out.String())
	}
	generated := m[1]
	if ok, err := app.Core.CheckAdminPassword(ctx, generated); err != nil || !ok {
		t.Fatalf("the printed password %q does not log in: %v, %v", generated, ok, err)
	}

	if code, body := get(t, http.DefaultClient, srv.base+"/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, http.DefaultClient, srv.base+"/readyz"); code != 200 || strings.TrimSpace(body) != "ready" {
		t.Errorf("/readyz = %d %q", code, body)
	}

	rpc := srv.base + "/rpc/api/xmlrpc"
	if v, err := xmlrpc.Call(ctx, http.DefaultClient, rpc, "api.addNewSharedAccount", token, "Physics"); err != nil || v != true {
		t.Fatalf("addNewSharedAccount = %v, %v", v, err)
	}
	if v, err := xmlrpc.Call(ctx, http.DefaultClient, rpc, "api.isSharedAccountExists", token, "PHYSICS"); err != nil || v != true {
		t.Errorf("isSharedAccountExists = %v, %v", v, err)
	}
	var fault *xmlrpc.Fault
	if _, err := xmlrpc.Call(ctx, http.DefaultClient, rpc, "api.getTotalUsers", "wrong-token"); !errors.As(err, &fault) {
		t.Errorf("a wrong token got %v; want a fault", err)
	}

	assertOversizedCallAnswered(t, srv.base, token)

	// HTTPS answers with the self-signed certificate made in the data directory.
	pemBytes, err := os.ReadFile(filepath.Join(dir, config.SelfSignedCertFile))
	if err != nil {
		t.Fatalf("no self-signed certificate in the data directory: %v", err)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatal("the self-signed certificate file holds no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer tlsClient.CloseIdleConnections()
	resp, err := tlsClient.Get("https://" + httpsAddr + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !resp.TLS.PeerCertificates[0].Equal(cert) {
		t.Errorf("HTTPS /healthz = %d with certificate %q", resp.StatusCode, resp.TLS.PeerCertificates[0].Subject)
	}

	srv.stop(t)
	app.Close()

	// A second start keeps the password and prints nothing about it.
	app = openApp(t, cfg, nil)
	srv = startServe(t, app)
	if strings.Contains(srv.out.String(), "password") {
		t.Errorf("second start printed a password:\n%s", srv.out.String())
	}
	if ok, err := app.Core.CheckAdminPassword(ctx, generated); err != nil || !ok {
		t.Errorf("after a restart the generated password does not log in: %v, %v", ok, err)
	}
	if v, err := xmlrpc.Call(ctx, http.DefaultClient, srv.base+"/rpc/api/xmlrpc", "api.isSharedAccountExists", token, "Physics"); err != nil || v != true {
		t.Errorf("after a restart isSharedAccountExists = %v, %v", v, err)
	}
	srv.stop(t)
}

func TestServeAdminPasswordFromEnvironment(t *testing.T) {
	const password = "Given-By-Operator-Larch-81"
	ctx := context.Background()
	cfg := loadConfig(t, []string{"REAM_ADMIN_PASSWORD=" + password}, "--data-dir", t.TempDir(), "--listen", loopback(t), "--set", "https.listen=")
	app := openApp(t, cfg, nil)
	srv := startServe(t, app)
	if strings.Contains(srv.out.String(), "password") {
		t.Errorf("a start with REAM_ADMIN_PASSWORD printed a password:\n%s", srv.out.String())
	}
	if ok, err := app.Core.CheckAdminPassword(ctx, password); err != nil || !ok {
		t.Errorf("REAM_ADMIN_PASSWORD does not log in: %v, %v", ok, err)
	}
	srv.stop(t)
}

func TestServeRefusesATooShortAdminPasswordFromEnvironment(t *testing.T) {
	cfg := loadConfig(t, []string{"REAM_ADMIN_PASSWORD=short"}, "--data-dir", t.TempDir(), "--listen", loopback(t), "--set", "https.listen=")
	app := openApp(t, cfg, nil)
	err := app.serve(context.Background(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "REAM_ADMIN_PASSWORD") {
		t.Errorf("serve with a too-short REAM_ADMIN_PASSWORD: %v", err)
	}
}

func TestTwoServersOnOneDataDirectory(t *testing.T) {
	dir := t.TempDir()
	first := openApp(t, loadConfig(t, nil, "--data-dir", dir, "--listen", loopback(t), "--set", "https.listen="), nil)
	srv := startServe(t, first)
	second := openApp(t, loadConfig(t, nil, "--data-dir", dir, "--listen", loopback(t), "--set", "https.listen="), nil)
	err := second.serve(context.Background(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "another Ream server is using the data directory") {
		t.Errorf("second server on the same SQLite data directory: %v", err)
	}
	srv.stop(t)
}

// jobProbe watches one server's copy of a scheduled job.
type jobProbe struct {
	name      string
	scheduled atomic.Bool   // asked for its next run before the slot: it meant to run at the slot
	decided   chan struct{} // closed once asked after the slot: it ran the job or passed
	once      sync.Once
	runs      atomic.Int32
}

// TestServeTwoServersSharePostgres runs two servers on one PostgreSQL
// database: both answer, and an exclusive scheduled job runs on only one.
func TestServeTwoServersSharePostgres(t *testing.T) {
	const token = "shared-token-Heron"
	ctx := context.Background()
	url := testenv.PostgresURL(t)
	env := []string{"REAM_AUTH_WEBSERVICES_AUTH_TOKEN=" + token, "REAM_ADMIN_PASSWORD=Shared-Admin-Password-93"}
	apps := make([]*App, 2)
	for i := range apps {
		apps[i] = openApp(t, loadConfig(t, env, "--data-dir", t.TempDir(), "--database-url", url, "--listen", loopback(t), "--set", "https.listen="), nil)
		if _, err := apps[i].Store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// Both servers plan the job for the same moment, a little after they
	// are up. The first to start it holds it until the test has seen the
	// other server pass.
	slot := time.Now().Add(3 * time.Second)
	release := make(chan struct{})
	running := make(chan string, 2)
	probes := make([]*jobProbe, 2)
	for i, app := range apps {
		p := &jobProbe{name: "server " + strconv.Itoa(i+1), decided: make(chan struct{})}
		probes[i] = p
		app.Jobs = append(app.Jobs, Job{
			Name: "test-exclusive", Exclusive: true,
			Next: func(_ context.Context, now time.Time) time.Time {
				if now.Before(slot) {
					p.scheduled.Store(true)
					return slot
				}
				p.once.Do(func() { close(p.decided) })
				return time.Time{}
			},
			Run: func(ctx context.Context) error {
				p.runs.Add(1)
				running <- p.name
				select {
				case <-release:
				case <-ctx.Done():
				}
				return nil
			},
		})
	}
	servers := []*runningServer{startServe(t, apps[0]), startServe(t, apps[1])}

	// Any server serves any request: a change through one is seen by the other.
	for i, srv := range servers {
		name := "Dept " + strconv.Itoa(i)
		if v, err := xmlrpc.Call(ctx, http.DefaultClient, srv.base+"/rpc/api/xmlrpc", "api.addNewSharedAccount", token, name); err != nil || v != true {
			t.Fatalf("server %d addNewSharedAccount = %v, %v", i+1, v, err)
		}
		other := servers[1-i]
		if v, err := xmlrpc.Call(ctx, http.DefaultClient, other.base+"/rpc/api/xmlrpc", "api.isSharedAccountExists", token, name); err != nil || v != true {
			t.Errorf("the other server does not see %q: %v, %v", name, v, err)
		}
		if code, body := get(t, http.DefaultClient, srv.base+"/readyz"); code != 200 {
			t.Errorf("server %d /readyz = %d %q", i+1, code, body)
		}
	}

	var ranOn string
	select {
	case ranOn = <-running:
	case <-time.After(hangGuard):
		t.Fatal("the exclusive job never ran")
	}
	other := probes[0]
	if ranOn == probes[0].name {
		other = probes[1]
	}
	select {
	case <-other.decided:
	case second := <-running:
		t.Errorf("the exclusive job runs on %s and %s at once", ranOn, second)
	case <-time.After(hangGuard):
		t.Fatal("the other server never decided about the exclusive job")
	}
	close(release)
	for _, p := range probes {
		select {
		case <-p.decided:
		case <-time.After(hangGuard):
			t.Fatalf("%s never finished the exclusive job", p.name)
		}
		if !p.scheduled.Load() {
			t.Fatalf("%s was not up before the job's time, so the test proves nothing; it needs a faster machine", p.name)
		}
	}
	if n := probes[0].runs.Load() + probes[1].runs.Load(); n != 1 {
		t.Errorf("the exclusive job ran %d times in one slot; want once", n)
	}
	for _, srv := range servers {
		srv.stop(t)
	}
}

// assertOversizedCallAnswered sends an XML-RPC body over the limit the way
// Python's xmlrpc.client does (the whole body, then read the answer) on a raw
// connection: the server must answer 413 with a fault naming the limit, not
// cut the connection under the client's feet.
func assertOversizedCallAnswered(t *testing.T, base, token string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := `<methodCall><methodName>api.addNewSharedAccount</methodName><params><param><value>` + token + `</value></param><param><value>`
	tail := `</value></param></params></methodCall>`
	filler := xmlrpc.MaxRequestBytes + 1<<20
	fmt.Fprintf(conn, "POST /rpc/api/xmlrpc HTTP/1.1\r\nHost: %s\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s",
		strings.TrimPrefix(base, "http://"), len(head)+filler+len(tail), head)
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for sent := 0; sent < filler; sent += len(chunk) {
		if _, err := conn.Write(chunk); err != nil {
			t.Fatalf("the server cut an oversized XML-RPC request while it was being sent: %v", err)
		}
	}
	if _, err := io.WriteString(conn, tail); err != nil {
		t.Fatalf("writing the end of the oversized request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to an oversized XML-RPC request: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(body, []byte("faultString")) ||
		!bytes.Contains(body, []byte(fmt.Sprint(xmlrpc.MaxRequestBytes))) {
		t.Errorf("oversized XML-RPC request: %d %s; want 413 and a fault naming the %d-byte limit", resp.StatusCode, body, xmlrpc.MaxRequestBytes)
	}
}
