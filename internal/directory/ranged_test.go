package directory

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// rangeResponder is a small LDAP server that answers as Active Directory
// does for a group with more values than one range holds: member;range=0-2,
// then 3-5, then 6-*; and for a user with more other addresses than one
// range holds (otherMailbox;range=0-1, then 2-*). Samba never sends ranges, so this stand-in is the
// only way to test the loop; it answers binds, the paged subtree searches
// of users and groups, and base searches for a range.
type rangeResponder struct {
	URL      string
	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	requests []string // the ranges asked for, in order
	// badStart, when set, answers the second range from a wrong start.
	badStart bool
}

const rangeGroupDN = "cn=big,dc=example,dc=org"

func rangeUserDN(i int) string { return fmt.Sprintf("uid=u%d,dc=example,dc=org", i) }

func startRangeResponder(t *testing.T) *rangeResponder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &rangeResponder{URL: "ldap://" + ln.Addr().String(), ln: ln}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				defer conn.Close()
				r.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); r.wg.Wait() })
	return r
}

func (r *rangeResponder) serve(conn net.Conn) {
	c := &wireConn{conn: conn, r: newBufReader(conn)}
	for {
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		msg, err := c.readMessage()
		if err != nil {
			return
		}
		m := berString{msg}
		idBytes, err := m.expect(tagInteger)
		if err != nil {
			return
		}
		id := berInt(idBytes)
		tag, body, err := m.next()
		if err != nil {
			return
		}
		switch tag {
		case tagBindRequest:
			r.send(conn, id, tagBindResponse, ldapResult())
		case tagSearchRequest:
			base, attrs, ok := parseSearch(body)
			if !ok {
				return
			}
			for _, e := range r.answer(base, attrs) {
				r.send(conn, id, tagSearchEntry, e)
			}
			r.send(conn, id, tagSearchDone, ldapResult())
		default: // unbind
			return
		}
	}
}

func (r *rangeResponder) answer(base string, attrs []string) [][]byte {
	var out [][]byte
	members := func(from, to int) [][]byte {
		var v [][]byte
		for i := from; i <= to; i++ {
			v = append(v, []byte(rangeUserDN(i)))
		}
		return v
	}
	switch {
	case base == rangeUserDN(7): // the rest of u7's other addresses
		r.mu.Lock()
		r.requests = append(r.requests, attrs[0])
		r.mu.Unlock()
		if strings.EqualFold(attrs[0], "otherMailbox;range=2-*") {
			out = append(out, entry(base, "otherMailbox;range=2-*", [][]byte{[]byte("c@example.org")}))
		}
	case base == rangeGroupDN: // a base search for the next range
		r.mu.Lock()
		r.requests = append(r.requests, attrs[0])
		bad := r.badStart
		r.mu.Unlock()
		switch {
		case bad:
			out = append(out, entry(rangeGroupDN, "member;range=4-5", members(4, 5)))
		case strings.EqualFold(attrs[0], "member;range=3-*"):
			out = append(out, entry(rangeGroupDN, "member;range=3-5", members(3, 5)))
		case strings.EqualFold(attrs[0], "member;range=6-*"):
			out = append(out, entry(rangeGroupDN, "member;range=6-*", members(6, 6)))
		}
	case slices.Contains(attrs, "member"): // the group search
		out = append(out, entry(rangeGroupDN, "cn", [][]byte{[]byte("big")}, "member;range=0-2", members(0, 2)))
	default: // the user search
		for i := 0; i < 7; i++ {
			out = append(out, entry(rangeUserDN(i), "uid", [][]byte{[]byte(fmt.Sprintf("u%d", i))}))
		}
		// A multi-valued user attribute cut short as well.
		out = append(out, entry(rangeUserDN(7), "uid", [][]byte{[]byte("u7")},
			"otherMailbox;range=0-1", [][]byte{[]byte("a@example.org"), []byte("b@example.org")}))
	}
	return out
}

// entry encodes a SearchResultEntry of attribute name, values pairs.
func entry(dn string, nameValues ...any) []byte {
	var list []byte
	for i := 0; i < len(nameValues); i += 2 {
		var set []byte
		for _, v := range nameValues[i+1].([][]byte) {
			set = appendTLV(set, tagOctetString, v)
		}
		a := appendTLV(nil, tagOctetString, []byte(nameValues[i].(string)))
		a = appendTLV(a, tagSet, set)
		list = appendTLV(list, tagSequence, a)
	}
	return appendTLV(appendTLV(nil, tagOctetString, []byte(dn)), tagSequence, list)
}

func ldapResult() []byte {
	b := appendInt(nil, tagEnumerated, 0)
	b = appendTLV(b, tagOctetString, nil)
	return appendTLV(b, tagOctetString, nil)
}

func (r *rangeResponder) send(conn net.Conn, id int64, tag byte, op []byte) {
	msg := appendInt(nil, tagInteger, id)
	msg = appendTLV(msg, tag, op)
	conn.Write(appendTLV(nil, tagSequence, msg))
}

func parseSearch(body string) (base string, attrs []string, ok bool) {
	s := berString{body}
	base, err := s.expect(tagOctetString)
	if err != nil {
		return "", nil, false
	}
	for range 6 { // scope, deref, size and time limits, typesOnly, filter
		if _, _, err := s.next(); err != nil {
			return "", nil, false
		}
	}
	list, err := s.expect(tagSequence)
	if err != nil {
		return "", nil, false
	}
	l := berString{list}
	for !l.empty() {
		a, err := l.expect(tagOctetString)
		if err != nil {
			return "", nil, false
		}
		attrs = append(attrs, a)
	}
	return base, attrs, true
}

func TestRangedMemberValues(t *testing.T) {
	r := startRangeResponder(t)
	c := Preset(PresetOpenLDAP)
	c.URL, c.BaseDN, c.Timeout = r.URL, "dc=example,dc=org", 10*time.Second
	c.Attr.OtherEmails = "otherMailbox"
	res, err := newSource(t, c).Read(context.Background(), ReadOptions{}, nil)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if i := slices.IndexFunc(res.Users, func(u UserRecord) bool { return u.Username == "u7" }); i < 0 {
		t.Errorf("u7 was not read")
	} else if got := res.Users[i].OtherEmails; got != "a@example.org,b@example.org,c@example.org" {
		t.Errorf("u7's other emails = %q, want every range followed", got)
	}
	if len(res.Groups) != 1 {
		t.Fatalf("groups = %+v", res.Groups)
	}
	want := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6"}
	if got := res.Groups[0].Members; !slices.Equal(got, want) {
		t.Errorf("members = %v, want %v (every range followed)", got, want)
	}
	r.mu.Lock()
	asked := r.requests
	// Next, a server that answers a range from the wrong start.
	r.badStart, r.requests = true, nil
	r.mu.Unlock()
	if want := []string{"member;range=3-*", "member;range=6-*", "otherMailbox;range=2-*"}; !slices.Equal(asked, want) {
		t.Errorf("ranges asked for = %v, want %v", asked, want)
	}
	if _, err := newSource(t, c).Read(context.Background(), ReadOptions{}, nil); err == nil || !strings.Contains(err.Error(), "asked for values from 3") {
		t.Errorf("a range from the wrong start: err = %v", err)
	}
}

func TestRangeOption(t *testing.T) {
	for _, tc := range []struct {
		in, base  string
		low, high int
		ranged    bool
		err       bool
	}{
		{"member", "member", 0, 0, false, false},
		{"member;range=0-1499", "member", 0, 1499, true, false},
		{"member;Range=1500-*", "member", 1500, -1, true, false},
		{"member;binary;range=3-4", "member;binary", 3, 4, true, false},
		{"member;range=5-4", "", 0, 0, false, true},
		{"member;range=x-4", "", 0, 0, false, true},
		{"member;range=4", "", 0, 0, false, true},
	} {
		base, low, high, ranged, err := rangeOption(tc.in)
		if (err != nil) != tc.err || base != tc.base || low != tc.low || high != tc.high || ranged != tc.ranged {
			t.Errorf("rangeOption(%q) = %q, %d, %d, %v, %v", tc.in, base, low, high, ranged, err)
		}
	}
}

func FuzzRangeOption(f *testing.F) {
	for _, s := range []string{"member", "member;range=0-1499", "member;range=1500-*", "a;b;range=1-2", "x;range=-", ";range="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		base, low, high, ranged, err := rangeOption(s)
		if err != nil {
			return
		}
		if !ranged {
			if base != s {
				t.Fatalf("%q without a range gave base %q", s, base)
			}
			return
		}
		if low < 0 || (high >= 0 && high < low) || high < -1 {
			t.Fatalf("%q: range %d-%d", s, low, high)
		}
		if strings.Contains(strings.ToLower(base), ";range=") {
			t.Fatalf("%q: base %q keeps a range", s, base)
		}
	})
}
