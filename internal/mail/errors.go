package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"syscall"
)

// SendError is why a message was not handed over, with the step of the SMTP
// conversation that failed.
type SendError struct {
	// Stage is the step that failed, such as "connect to host:25" or "RCPT TO <a@b>".
	Stage string
	// Code is the server's reply code, or 0 when the server gave none.
	Code int
	// Temporary is true when the same message may succeed later.
	Temporary bool
	Err       error
}

func (e *SendError) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	// Configuration errors already carry the package prefix.
	return fmt.Sprintf("mail: %s failed (%s): %s", e.Stage, kind, strings.TrimPrefix(e.Err.Error(), "mail: "))
}

func (e *SendError) Unwrap() error { return e.Err }

// IsTemporary reports whether a send failure may go away by itself, so the
// outbox should keep the message and try again: a 4xx reply, a server that
// cannot be reached, a dropped connection or a timeout. A 5xx reply, a
// refused certificate or a configuration error is permanent.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Temporary
	}
	return isTemporaryFailure(err)
}

// failed wraps an error from a step of the conversation, classifying it.
func failed(stage string, err error) *SendError {
	se := &SendError{Stage: stage, Err: err, Temporary: isTemporaryFailure(err)}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		se.Code = tp.Code
	}
	return se
}

// isTemporaryFailure classifies an error that is not yet a SendError.
func isTemporaryFailure(err error) bool {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code >= 400 && tp.Code < 500
	}
	if isTLSFailure(err) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

// isTLSFailure reports a refused certificate or a failed TLS negotiation
// (such as TLS spoken to a plain SMTP port): mistakes of configuration that
// retrying will not mend.
func isTLSFailure(err error) bool {
	var (
		verifyErr    *tls.CertificateVerificationError
		authorityErr x509.UnknownAuthorityError
		hostErr      x509.HostnameError
		invalidErr   x509.CertificateInvalidError
		recordErr    tls.RecordHeaderError
		alertErr     tls.AlertError
	)
	return errors.As(err, &verifyErr) || errors.As(err, &authorityErr) || errors.As(err, &hostErr) ||
		errors.As(err, &invalidErr) || errors.As(err, &recordErr) || errors.As(err, &alertErr)
}
