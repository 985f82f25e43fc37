// Package papercutimport moves a running PaperCut NG/MF server into Ream
// (`ream import-papercut`, Options > Import from PaperCut): it reads users,
// groups and shared accounts through PaperCut's own web-services API,
// compares them with what Ream holds, and applies the difference in one
// store transaction, so that a run stopped at any point leaves Ream as it
// was or with the whole import.
package papercutimport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/xmlrpc"
)

// SourceOptions say how to reach the PaperCut server.
type SourceOptions struct {
	URL   string // e.g. https://papercut.example:9192/rpc/api/xmlrpc
	Token string // the web-services auth token (auth.webservices.auth-token)
	// CAFile is a PEM file of the CA that signed the server's certificate;
	// InsecureSkipVerify trusts any certificate (testing only).
	CAFile             string
	CAPEM              []byte // the same, given as text (the admin page)
	InsecureSkipVerify bool
	// Concurrency is how many calls are in flight at once, over as many
	// keep-alive connections (default 4).
	Concurrency int
}

// Source is a PaperCut web-services endpoint.
type Source struct {
	url         string
	token       string
	client      *http.Client
	concurrency int
}

// MaxConcurrency bounds --concurrency: PaperCut serves the API from a small
// thread pool shared with its own clients.
const MaxConcurrency = 16

// NewSource checks the options and builds the client.
func NewSource(o SourceOptions) (*Source, error) {
	u, err := url.Parse(strings.TrimSpace(o.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the source address %q is not an http:// or https:// URL; PaperCut's is https://SERVER:9192/rpc/api/xmlrpc", o.URL)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/rpc/api/xmlrpc"
	}
	if o.Token == "" {
		return nil, errors.New("no web-services auth token: give --token-file FILE or REAM_PAPERCUT_TOKEN (PaperCut: Options > Advanced > Web Services, or the config key auth.webservices.auth-token)")
	}
	if (o.CAFile != "" || len(o.CAPEM) > 0) && o.InsecureSkipVerify {
		return nil, errors.New("give either a CA file or insecure-skip-verify, not both")
	}
	n := o.Concurrency
	if n <= 0 {
		n = 4
	}
	if n > MaxConcurrency {
		return nil, fmt.Errorf("concurrency %d is more than %d; PaperCut's API shares a small pool of threads with its own clients", n, MaxConcurrency)
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // asked for by name
	pem, shown := o.CAPEM, "the CA certificate given"
	if o.CAFile != "" {
		b, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("unable to read the CA file: %w", err)
		}
		pem, shown = b, "the CA file "+o.CAFile
	}
	if len(pem) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", shown)
		}
		tlsConf.RootCAs = pool
	}
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: n,
		MaxConnsPerHost:     n,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Source{url: u.String(), token: o.Token, concurrency: n,
		client: &http.Client{Transport: transport, Timeout: 2 * time.Minute}}, nil
}

// URL is the endpoint read, for the report and the audit log.
func (s *Source) URL() string { return s.url }

// Close lets go of the idle connections.
func (s *Source) Close() { s.client.CloseIdleConnections() }

// call makes one API call with the token first, as every PaperCut method but getTaskStatus takes it.
func (s *Source) call(ctx context.Context, method string, params ...any) (any, error) {
	v, err := xmlrpc.Call(ctx, s.client, s.url, "api."+method, append([]any{s.token}, params...)...)
	if err != nil {
		return nil, explain(s.url, method, err)
	}
	return v, nil
}

// SourceError is a failure to read the source, in words that say what to do.
type SourceError struct {
	Cause string // "token", "address", "not-papercut", "tls", "network", "fault"
	Msg   string
	Err   error
}

func (e *SourceError) Error() string { return e.Msg }
func (e *SourceError) Unwrap() error { return e.Err }

// explain turns a failed call into a SourceError naming the cause and the remedy.
func explain(src, method string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var fault *xmlrpc.Fault
	if errors.As(err, &fault) {
		msg := strings.ToLower(fault.Message)
		switch {
		case strings.Contains(msg, "token") || strings.Contains(msg, "authentication") || strings.Contains(msg, "authorization"):
			return &SourceError{Cause: "token", Err: err, Msg: fmt.Sprintf(
				"%s refused the web-services auth token (%s): check the token file against the source's auth.webservices.auth-token (PaperCut: Options > Advanced > Web Services)", src, fault.Message)}
		case strings.Contains(msg, "not allowed") || strings.Contains(msg, "allowed-addresses") || strings.Contains(msg, "address"):
			return &SourceError{Cause: "address", Err: err, Msg: fmt.Sprintf(
				"%s does not accept calls from this machine's address (%s): add it to the source's auth.webservices.allowed-addresses (PaperCut: Options > Advanced > Security > Allowed XML Web Services callers)", src, fault.Message)}
		case strings.Contains(msg, "unknown method") || strings.Contains(msg, "no such handler") || strings.Contains(msg, "nosuchmethod"):
			return &SourceError{Cause: "not-papercut", Err: err, Msg: fmt.Sprintf(
				"%s does not know the PaperCut method %s (%s): is it a PaperCut NG/MF server, and its /rpc/api/xmlrpc address?", src, method, fault.Message)}
		}
		return &SourceError{Cause: "fault", Err: err, Msg: fmt.Sprintf("%s answered %s with a fault: %s", src, method, fault.Message)}
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr):
		return &SourceError{Cause: "tls", Err: err, Msg: fmt.Sprintf(
			"the TLS certificate of %s is not trusted (%v): give the CA that signed it with --ca-file FILE (for PaperCut's self-signed certificate, export it from the browser), or use --insecure-skip-verify on a network you trust", src, rootCause(err))}
	case errors.As(err, &recordErr) || strings.Contains(err.Error(), "HTTP response to HTTPS client"):
		return &SourceError{Cause: "tls", Err: err, Msg: fmt.Sprintf(
			"%s does not speak TLS on that port: use http:// for port 9191 or https:// for 9192", src)}
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.As(err, &netErr) {
		return &SourceError{Cause: "network", Err: err, Msg: fmt.Sprintf("unable to reach %s: %v; check the address and that the server runs", src, rootCause(err))}
	}
	if msg := err.Error(); strings.Contains(msg, "answered HTTP 401") || strings.Contains(msg, "answered HTTP 403") {
		return &SourceError{Cause: "address", Err: err, Msg: fmt.Sprintf(
			"%s refused the call (%v): check that this machine's address is among the source's allowed web-services callers and that the token is right", src, rootCause(err))}
	}
	// Anything else is an answer that is no XML-RPC: an HTTP error page, HTML…
	return &SourceError{Cause: "not-papercut", Err: err, Msg: fmt.Sprintf(
		"%s did not answer as PaperCut's web-services API does (%v): give the API's address, https://SERVER:9192/rpc/api/xmlrpc", src, rootCause(err))}
}

// rootCause is the innermost error, without the layers that repeat the URL.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
