package directory

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// wireConn is a lean LDAP v3 client for the few operations a user source
// needs: StartTLS, simple bind and paged subtree search. It exists for
// speed: go-ldap builds a tree of packets for every entry, which made a
// read of 100,000 users more than twice as slow as ldapsearch (SPEC §11).
// This client decodes each response in place and hands out substrings of
// one string per entry. go-ldap still compiles filters and parses DNs.
type wireConn struct {
	conn    net.Conn
	r       *bufio.Reader
	msgID   int64
	timeout time.Duration
	buf     []byte // reused for each incoming message
}

// maxMessageSize bounds one response; a group with a million members fits.
const maxMessageSize = 256 << 20

// BER tags of the LDAP messages used here (RFC 4511).
const (
	tagInteger        = 0x02
	tagOctetString    = 0x04
	tagBoolean        = 0x01
	tagEnumerated     = 0x0a
	tagSequence       = 0x30
	tagSet            = 0x31
	tagBindRequest    = 0x60
	tagBindResponse   = 0x61
	tagUnbindRequest  = 0x42
	tagSearchRequest  = 0x63
	tagSearchEntry    = 0x64
	tagSearchDone     = 0x65
	tagSearchRef      = 0x73
	tagExtendedReq    = 0x77
	tagExtendedResp   = 0x78
	tagControls       = 0xa0
	tagSimpleAuth     = 0x80
	tagExtendedName   = 0x80
	oidStartTLS       = "1.3.6.1.4.1.1466.20037"
	oidPagedResults   = "1.2.840.113556.1.4.319"
	scopeBaseObject   = 0
	scopeWholeSubtree = 2
	derefNever        = 0
)

// dialWire connects to an ldap:// or ldaps:// URL and starts TLS when asked.
func dialWire(ctx context.Context, rawURL string, tlsConfig *tls.Config, startTLS bool, timeout time.Duration) (*wireConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	host := u.Host
	if u.Port() == "" {
		port := "389"
		if u.Scheme == "ldaps" {
			port = "636"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	dialer := &net.Dialer{Timeout: timeout}
	var conn net.Conn
	if u.Scheme == "ldaps" {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", host)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", host)
	}
	if err != nil {
		return nil, ldap.NewError(ldap.ErrorNetwork, err)
	}
	c := &wireConn{conn: conn, r: newBufReader(conn), timeout: timeout}
	if startTLS {
		if err := c.startTLS(ctx, tlsConfig); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return c, nil
}

// newBufReader sizes the read buffer for a page of entries at a time.
func newBufReader(conn net.Conn) *bufio.Reader { return bufio.NewReaderSize(conn, 64<<10) }

// Close says goodbye (best effort) and closes the connection.
func (c *wireConn) Close() error {
	c.request(tagUnbindRequest, nil, nil) // the connection closes either way
	return c.conn.Close()
}

func (c *wireConn) startTLS(ctx context.Context, cfg *tls.Config) error {
	op := appendTLV(nil, tagExtendedName, []byte(oidStartTLS))
	if err := c.request(tagExtendedReq, op, nil); err != nil {
		return err
	}
	if _, err := c.result(tagExtendedResp); err != nil {
		return err
	}
	if c.r.Buffered() > 0 {
		return ldap.NewError(ldap.ErrorNetwork, errors.New("server sent data before the TLS handshake"))
	}
	tc := tls.Client(c.conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("TLS handshake: %w", err))
	}
	c.conn = tc
	c.r.Reset(tc)
	return nil
}

// bind is a simple bind; an empty password is refused here too, since the
// server would take it as an unauthenticated (successful) bind.
func (c *wireConn) bind(dn, password string) error {
	if password == "" {
		return ldap.NewError(ldap.ErrorEmptyPassword, errors.New("empty password"))
	}
	op := appendInt(nil, tagInteger, 3)
	op = appendTLV(op, tagOctetString, []byte(dn))
	op = appendTLV(op, tagSimpleAuth, []byte(password))
	if err := c.request(tagBindRequest, op, nil); err != nil {
		return err
	}
	_, err := c.result(tagBindResponse)
	return err
}

// searchRequest is one subtree search; filter is BER-encoded.
type searchRequest struct {
	base      string
	filter    []byte
	attrs     []string
	sizeLimit int
	pageSize  uint32 // 0: no paging control
	baseScope bool   // the base entry only, rather than the whole subtree
}

// searchPage runs one search (one page when pageSize is set), calling
// entry for each entry as it arrives; dn and attrs are substrings of one
// string, attrs being the encoded attribute list. It returns the paging
// cookie for the next page, empty after the last one.
func (c *wireConn) searchPage(req searchRequest, cookie []byte, entry func(dn, attrs string) error) ([]byte, error) {
	op := appendTLV(nil, tagOctetString, []byte(req.base))
	scope := int64(scopeWholeSubtree)
	if req.baseScope {
		scope = scopeBaseObject
	}
	op = appendInt(op, tagEnumerated, scope)
	op = appendInt(op, tagEnumerated, derefNever)
	op = appendInt(op, tagInteger, int64(req.sizeLimit))
	op = appendInt(op, tagInteger, int64(c.timeout/time.Second))
	op = appendTLV(op, tagBoolean, []byte{0})
	op = append(op, req.filter...)
	var attrs []byte
	for _, a := range req.attrs {
		attrs = appendTLV(attrs, tagOctetString, []byte(a))
	}
	op = appendTLV(op, tagSequence, attrs)
	var controls []byte
	if req.pageSize > 0 {
		value := appendInt(nil, tagInteger, int64(req.pageSize))
		value = appendTLV(value, tagOctetString, cookie)
		control := appendTLV(nil, tagOctetString, []byte(oidPagedResults))
		control = appendTLV(control, tagOctetString, appendTLV(nil, tagSequence, value))
		controls = appendTLV(nil, tagSequence, control)
	}
	if err := c.request(tagSearchRequest, op, controls); err != nil {
		return nil, err
	}
	for {
		tag, body, controls, err := c.receive()
		if err != nil {
			return nil, err
		}
		switch tag {
		case tagSearchEntry:
			r := berString{body}
			dn, err := r.expect(tagOctetString)
			if err != nil {
				return nil, err
			}
			attrs, err := r.expect(tagSequence)
			if err != nil {
				return nil, err
			}
			if err := entry(dn, attrs); err != nil {
				return nil, err
			}
		case tagSearchRef:
			// Continuation references point at other servers (AD's
			// DomainDnsZones and the like); users are not followed there.
		case tagSearchDone:
			if err := resultError(body); err != nil {
				return nil, err
			}
			return pagingCookie(controls)
		default:
			return nil, ldap.NewError(ldap.ErrorUnexpectedResponse, fmt.Errorf("unexpected response tag %#x to a search", tag))
		}
	}
}

// request sends one LDAPMessage with a fresh message ID.
func (c *wireConn) request(tag byte, op, controls []byte) error {
	c.msgID++
	msg := appendInt(nil, tagInteger, c.msgID)
	msg = appendTLV(msg, tag, op)
	if controls != nil {
		msg = appendTLV(msg, tagControls, controls)
	}
	c.conn.SetDeadline(time.Now().Add(c.timeout))
	return c.send(appendTLV(nil, tagSequence, msg))
}

func (c *wireConn) send(b []byte) error {
	if _, err := c.conn.Write(b); err != nil {
		return ldap.NewError(ldap.ErrorNetwork, err)
	}
	return nil
}

// result reads an LDAPResult-shaped response of the given tag.
func (c *wireConn) result(want byte) (string, error) {
	tag, body, _, err := c.receive()
	if err != nil {
		return "", err
	}
	if tag != want {
		return "", ldap.NewError(ldap.ErrorUnexpectedResponse, fmt.Errorf("response tag %#x, want %#x", tag, want))
	}
	return body, resultError(body)
}

// receive reads the next message for the current request and returns its
// protocolOp tag and contents and its controls. The deadline is renewed for
// every message, so the timeout bounds silence, not a whole page.
func (c *wireConn) receive() (byte, string, string, error) {
	c.conn.SetReadDeadline(time.Now().Add(c.timeout))
	msg, err := c.readMessage()
	if err != nil {
		return 0, "", "", ldap.NewError(ldap.ErrorNetwork, err)
	}
	r := berString{msg}
	idBytes, err := r.expect(tagInteger)
	if err != nil {
		return 0, "", "", err
	}
	tag, body, err := r.next()
	if err != nil {
		return 0, "", "", err
	}
	var controls string
	if !r.empty() {
		ctag, content, err := r.next()
		if err == nil && ctag == tagControls {
			controls = content
		}
	}
	id := berInt(idBytes)
	if id == 0 && tag == tagExtendedResp {
		// Notice of disconnection: the server is going away.
		return 0, "", "", ldap.NewError(ldap.LDAPResultUnavailable, fmt.Errorf("server closed the connection: %w", resultError(body)))
	}
	if id != c.msgID {
		return 0, "", "", ldap.NewError(ldap.ErrorUnexpectedMessage, fmt.Errorf("message ID %d, want %d", id, c.msgID))
	}
	return tag, body, controls, nil
}

// readMessage reads one LDAPMessage SEQUENCE and returns its contents as
// a string, the one allocation each entry costs.
func (c *wireConn) readMessage() (string, error) {
	tag, err := c.r.ReadByte()
	if err != nil {
		return "", err
	}
	if tag != tagSequence {
		return "", fmt.Errorf("message starts with tag %#x, want a SEQUENCE", tag)
	}
	first, err := c.r.ReadByte()
	if err != nil {
		return "", err
	}
	length := int(first)
	if first&0x80 != 0 {
		n := int(first & 0x7f)
		if n == 0 || n > 4 {
			return "", fmt.Errorf("message length of %d bytes is not supported", n)
		}
		length = 0
		for range n {
			b, err := c.r.ReadByte()
			if err != nil {
				return "", err
			}
			length = length<<8 | int(b)
		}
	}
	if length > maxMessageSize {
		return "", fmt.Errorf("message of %d bytes is larger than %d", length, maxMessageSize)
	}
	if cap(c.buf) < length {
		c.buf = make([]byte, length)
	}
	c.buf = c.buf[:length]
	if _, err := io.ReadFull(c.r, c.buf); err != nil {
		return "", err
	}
	return string(c.buf), nil
}

// resultError turns an LDAPResult into nil or an *ldap.Error with its code.
func resultError(body string) error {
	r := berString{body}
	code, err := r.expect(tagEnumerated)
	if err != nil {
		return err
	}
	_, _ = r.expect(tagOctetString) // matchedDN
	diag, _ := r.expect(tagOctetString)
	rc := uint16(berInt(code))
	if rc == ldap.LDAPResultSuccess {
		return nil
	}
	return ldap.NewError(rc, errors.New(diag))
}

// pagingCookie finds the paged-results control among a response's controls.
func pagingCookie(controls string) ([]byte, error) {
	r := berString{controls}
	for !r.empty() {
		control, err := r.expect(tagSequence)
		if err != nil {
			return nil, err
		}
		cr := berString{control}
		oid, err := cr.expect(tagOctetString)
		if err != nil {
			return nil, err
		}
		if oid != oidPagedResults {
			continue
		}
		for !cr.empty() {
			tag, content, err := cr.next()
			if err != nil {
				return nil, err
			}
			if tag != tagOctetString {
				continue // criticality
			}
			vr := berString{content}
			value, err := vr.expect(tagSequence)
			if err != nil {
				return nil, err
			}
			pr := berString{value}
			if _, err := pr.expect(tagInteger); err != nil {
				return nil, err
			}
			cookie, err := pr.expect(tagOctetString)
			if err != nil {
				return nil, err
			}
			return []byte(cookie), nil
		}
	}
	// A server that ignores the paging control sends everything at once.
	return nil, nil
}

// berString walks BER elements held in a string, without copying.
type berString struct{ s string }

func (r *berString) empty() bool { return len(r.s) == 0 }

// next returns the next element's tag and contents. LDAP uses only
// single-byte tags; lengths are definite.
func (r *berString) next() (byte, string, error) {
	if len(r.s) < 2 {
		return 0, "", errMalformed
	}
	tag := r.s[0]
	length := int(r.s[1])
	pos := 2
	if length&0x80 != 0 {
		n := length & 0x7f
		if n == 0 || n > 4 || len(r.s) < 2+n {
			return 0, "", errMalformed
		}
		length = 0
		for i := range n {
			length = length<<8 | int(r.s[2+i])
		}
		pos += n
	}
	if length > len(r.s)-pos {
		return 0, "", errMalformed
	}
	content := r.s[pos : pos+length]
	r.s = r.s[pos+length:]
	return tag, content, nil
}

// expect is next for an element that must have the given tag.
func (r *berString) expect(tag byte) (string, error) {
	t, content, err := r.next()
	if err != nil {
		return "", err
	}
	if t != tag {
		return "", ldap.NewError(ldap.ErrorUnexpectedResponse, fmt.Errorf("BER tag %#x, want %#x", t, tag))
	}
	return content, nil
}

var errMalformed = ldap.NewError(ldap.ErrorUnexpectedResponse, errors.New("malformed BER element"))

// berInt decodes a two's-complement INTEGER or ENUMERATED of up to 8 bytes.
func berInt(s string) int64 {
	if len(s) == 0 || len(s) > 8 {
		return -1
	}
	v := int64(int8(s[0]))
	for i := 1; i < len(s); i++ {
		v = v<<8 | int64(s[i])
	}
	return v
}

// appendTLV appends one BER element.
func appendTLV(b []byte, tag byte, content []byte) []byte {
	b = append(b, tag)
	switch n := len(content); {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 1<<8:
		b = append(b, 0x81, byte(n))
	case n < 1<<16:
		b = append(b, 0x82, byte(n>>8), byte(n))
	default:
		b = append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, content...)
}

// appendInt appends an INTEGER or ENUMERATED in its shortest form.
func appendInt(b []byte, tag byte, v int64) []byte {
	var content [8]byte
	n := 8
	for n > 1 {
		top, next := byte(v>>(8*(n-1))), byte(v>>(8*(n-2)))
		if (top == 0 && next&0x80 == 0) || (top == 0xff && next&0x80 != 0) {
			n--
			continue
		}
		break
	}
	for i := range n {
		content[i] = byte(v >> (8 * (n - 1 - i)))
	}
	return appendTLV(b, tag, content[:n])
}
