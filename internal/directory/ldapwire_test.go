package directory

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

func TestAppendIntRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 255, 256, -1, -128, -129, 1 << 31, math.MaxInt64, math.MinInt64} {
		b := appendInt(nil, tagInteger, v)
		r := berString{string(b)}
		content, err := r.expect(tagInteger)
		if err != nil {
			t.Fatalf("%d: %v", v, err)
		}
		if got := berInt(content); got != v {
			t.Errorf("appendInt(%d) decodes to %d (% x)", v, got, b)
		}
	}
	// Same bytes as the reference encoder.
	if got, want := appendInt(nil, tagInteger, 128), []byte{0x02, 0x02, 0x00, 0x80}; !bytes.Equal(got, want) {
		t.Errorf("appendInt(128) = % x, want % x", got, want)
	}
}

func TestAppendTLVLengths(t *testing.T) {
	for _, n := range []int{0, 127, 128, 255, 256, 65535, 65536} {
		b := appendTLV(nil, tagOctetString, make([]byte, n))
		r := berString{string(b)}
		content, err := r.expect(tagOctetString)
		if err != nil || len(content) != n || !r.empty() {
			t.Errorf("length %d: content %d bytes, err %v", n, len(content), err)
		}
	}
}

func TestBerStringRefusesMalformed(t *testing.T) {
	for _, s := range []string{"", "\x04", "\x04\x05abc", "\x04\x85\x01\x02\x03\x04\x05", "\x04\x80", "\x04\x84\xff\xff\xff\xff"} {
		r := berString{s}
		if _, _, err := r.next(); err == nil {
			t.Errorf("% x accepted", s)
		}
	}
}

// fakeServer answers one connection with the given bytes after reading a
// request, for responses a real slapd will not send.
func fakeServer(t *testing.T, reply []byte) *wireConn {
	t.Helper()
	client, server := net.Pipe()
	go func() {
		buf := make([]byte, 4096)
		server.Read(buf)
		server.Write(reply)
		server.Close()
	}()
	t.Cleanup(func() { client.Close() })
	c := &wireConn{conn: client, timeout: 5 * time.Second}
	c.r = newBufReader(client)
	return c
}

func message(id int64, op []byte) []byte {
	msg := appendInt(nil, tagInteger, id)
	msg = append(msg, op...)
	return appendTLV(nil, tagSequence, msg)
}

func TestWireRefusesBadResponses(t *testing.T) {
	success := appendTLV(nil, tagBindResponse, append(append(appendInt(nil, tagEnumerated, 0), 0x04, 0), 0x04, 0))
	tests := []struct {
		name  string
		reply []byte
		code  uint16
	}{
		{"wrong message ID", message(7, success), ldap.ErrorUnexpectedMessage},
		{"not a sequence", []byte{0x04, 0x00}, ldap.ErrorNetwork},
		{"oversized", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, ldap.ErrorNetwork},
		{"truncated", message(1, success)[:6], ldap.ErrorNetwork},
		{"wrong response", message(1, appendTLV(nil, tagSearchDone, nil)), ldap.ErrorUnexpectedResponse},
		{"notice of disconnection", message(0, appendTLV(nil, tagExtendedResp, append(append(appendInt(nil, tagEnumerated, 52), 0x04, 0), 0x04, 0))), ldap.LDAPResultUnavailable},
		{"invalid credentials", message(1, appendTLV(nil, tagBindResponse, append(append(appendInt(nil, tagEnumerated, 49), 0x04, 0), 0x04, 0))), ldap.LDAPResultInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fakeServer(t, tt.reply).bind("cn=x", "y")
			if !ldap.IsErrorWithCode(err, tt.code) {
				t.Errorf("err = %v, want LDAP code %d", err, tt.code)
			}
		})
	}
	if err := fakeServer(t, message(1, success)).bind("cn=x", "y"); err != nil {
		t.Errorf("successful bind: %v", err)
	}
	if err := fakeServer(t, nil).bind("cn=x", ""); !ldap.IsErrorWithCode(err, ldap.ErrorEmptyPassword) {
		t.Errorf("empty password: err = %v, want it refused by the client", err)
	}
}

func TestWireDialFailure(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = dialWire(context.Background(), "ldap://"+addr, nil, false, time.Second)
	if !errors.Is(classify(err), ErrUnavailable) {
		t.Errorf("dial of a closed port: err = %v, want ErrUnavailable", err)
	}
}

func TestPagingCookie(t *testing.T) {
	value := appendTLV(nil, tagSequence, append(appendInt(nil, tagInteger, 0), appendTLV(nil, tagOctetString, []byte("next"))...))
	other := appendTLV(nil, tagSequence, appendTLV(nil, tagOctetString, []byte("1.2.3")))
	paging := appendTLV(nil, tagSequence, append(append(appendTLV(nil, tagOctetString, []byte(oidPagedResults)), 0x01, 0x01, 0x00), appendTLV(nil, tagOctetString, value)...))
	cookie, err := pagingCookie(string(append(other, paging...)))
	if err != nil || string(cookie) != "next" {
		t.Errorf("cookie = %q, %v; want next", cookie, err)
	}
	cookie, err = pagingCookie(string(other))
	if err != nil || cookie != nil {
		t.Errorf("no paging control: cookie = %q, %v; want none", cookie, err)
	}
}

// FuzzEntry feeds arbitrary bytes to the entry decoder as if a server had
// sent them: it must map or refuse, never panic.
func FuzzEntry(f *testing.F) {
	attr := func(name string, values ...string) []byte {
		var set []byte
		for _, v := range values {
			set = appendTLV(set, tagOctetString, []byte(v))
		}
		return appendTLV(nil, tagSequence, append(appendTLV(nil, tagOctetString, []byte(name)), appendTLV(nil, tagSet, set)...))
	}
	var list []byte
	list = append(list, attr("uid", "Alice")...)
	list = append(list, attr("cn", "Alice A")...)
	list = append(list, attr("employeeNumber", "CARD-42")...)
	list = append(list, attr("member", "uid=a,dc=x", "uid=b,dc=x")...)
	f.Add(list)
	f.Add([]byte{0x30, 0x03, 0x04, 0x01})
	c := Preset(PresetOpenLDAP)
	c.URL, c.BaseDN, c.CardRegex = "ldap://x", "dc=x", `CARD-(\d+)`
	c.Attr.OtherEmails = "member"
	src, err := NewLDAPSource(c)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, attrs []byte) {
		m := src.newEntryMapper()
		u, skip, err := m.user("uid=a,dc=x", string(attrs))
		if err == nil && skip == nil && u.Username == "" {
			t.Error("a user without a username was accepted")
		}
		if v, err := m.values(string(attrs)); err == nil {
			v[slotGroupMember].each(func(string) {})
		}
		pagingCookie(string(attrs))
		resultError(string(attrs))
	})
}
