package xmlrpc

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

const lookupCall = `<?xml version="1.0"?><methodCall><methodName>api.lookUpUserNameByCardNo</methodName><params><param><value><string>tok</string></value></param><param><value><string>10001234</string></value></param></params></methodCall>`

// TestFastCallTakesTheCommonShape: a card lookup as scripts send it (and
// Python's xmlrpc.client, with its newlines and untyped strings) is read by
// the fast path, with the full decoder's answer; other shapes are left to
// the full decoder.
func TestFastCallTakesTheCommonShape(t *testing.T) {
	python := "<?xml version='1.0'?>\n<methodCall>\n<methodName>api.getUserAccountBalance</methodName>\n<params>\n<param>\n<value><string>tok</string></value>\n</param>\n<param>\n<value>alice</value>\n</param>\n</params>\n</methodCall>\n"
	for _, tc := range []struct {
		body string
		fast bool
	}{
		{lookupCall, true},
		{strings.Replace(python, "<?xml version='1.0'?>", `<?xml version="1.0"?>`, 1), true},
		{"<methodCall><methodName>api.getTaskStatus</methodName></methodCall>", true},
		{python, false}, // single-quoted declaration: left to the full decoder
		{oneParam("<value><i4>42</i4></value>"), false},
		{oneParam("<value><string>a&amp;b</string></value>"), false},
		{oneParam("<value>caf\xc3\xa9</value>"), false},
		{oneParam("<value>x\r\ny</value>"), false},
		{oneParam("<value><!-- c -->x</value>"), false},
		{"<methodCall><methodName>bad name</methodName></methodCall>", false},
	} {
		m, p, ok := fastCall([]byte(tc.body), DefaultLimits)
		if ok != tc.fast {
			t.Errorf("fast path for %.60q: %v, want %v", tc.body, ok, tc.fast)
		}
		if ok {
			fm, fp, err := decodeCall(strings.NewReader(tc.body), DefaultLimits)
			if err != nil || fm != m || !reflect.DeepEqual(fp, p) {
				t.Errorf("%.60q: fast %q %#v, full %q %#v %v", tc.body, m, p, fm, fp, err)
			}
		}
	}
	// Through DecodeCall, a body longer than the fast path's window still decodes.
	long := oneParam("<value>" + strings.Repeat("x", 3*fastCallMax) + "</value>")
	if _, p, err := DecodeCall(strings.NewReader(long), DefaultLimits); err != nil || len(p) != 1 || len(p[0].(string)) != 3*fastCallMax {
		t.Errorf("a long call: %v", err)
	}
}

// FuzzFastCallAgrees: whenever the fast path answers, the full decoder
// gives the same method and parameters and no error.
func FuzzFastCallAgrees(f *testing.F) {
	f.Add(lookupCall)
	f.Add("<methodCall><methodName>a</methodName><params><param><value> x </value></param><param><value><string> </string></value></param></params></methodCall>")
	f.Add("<methodCall>\n<methodName> a.b </methodName>\n<params>\n</params>\n</methodCall>\n")
	f.Add("<methodCall><methodName>a</methodName><params><param><value></value></param></params></methodCall>")
	lims := []Limits{DefaultLimits, {MaxBytes: 200, MaxDepth: 5, MaxArrayLen: 1, MaxStringLen: 4}}
	f.Fuzz(func(t *testing.T, body string) {
		for _, lim := range lims {
			m, p, ok := fastCall([]byte(body), lim)
			if !ok {
				continue
			}
			fm, fp, err := decodeCall(bytes.NewReader([]byte(body)), lim)
			if err != nil || fm != m || !reflect.DeepEqual(fp, p) {
				t.Fatalf("fast %q %#v; full %q %#v %v", m, p, fm, fp, err)
			}
		}
	})
}
