package xmlrpc

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDecodeCall checks that no input panics the decoder and that every accepted call
// survives being encoded and decoded again unchanged.
func FuzzDecodeCall(f *testing.F) {
	seeds := []string{
		oneParam("<value>alice</value>"),
		oneParam("<value><i4>42</i4></value>"),
		oneParam("<value><i8>-9000000000</i8></value>"),
		oneParam("<value><boolean>1</boolean></value>"),
		oneParam("<value><double>-1.5e3</double></value>"),
		oneParam("<value><dateTime.iso8601>2026-01-02T15:04:05+01:00</dateTime.iso8601></value>"),
		oneParam("<value><dateTime.iso8601>20260102T15:04:05.5</dateTime.iso8601></value>"),
		oneParam("<value><base64>aGVsbG8=</base64></value>"),
		oneParam("<value><nil/></value>"),
		oneParam("<value><array><data><value>a</value><value><array><data/></array></value></data></array></value>"),
		oneParam("<value><struct><member><name>k</name><value><string>v&#xD;</string></value></member></struct></value>"),
		"<methodCall><methodName>api.getTaskStatus</methodName></methodCall>",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><methodCall><methodName>a</methodName><params><param><value>\xe9</value></param></params></methodCall>",
		"<!DOCTYPE x [<!ENTITY a \"b\">]><methodCall><methodName>a</methodName></methodCall>",
		oneParam("<value><![CDATA[x]]></value>"),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	lim := Limits{MaxBytes: 1 << 16, MaxDepth: 16, MaxArrayLen: 1000, MaxStringLen: 1 << 16}
	f.Fuzz(func(t *testing.T, body string) {
		method, params, err := DecodeCall(strings.NewReader(body), lim)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := EncodeCall(&b, method, params); err != nil {
			t.Fatalf("decoded params do not encode: %v\nparams %#v", err, params)
		}
		// Re-encoding can grow the body (escapes) but not the nesting.
		relaxed := lim
		relaxed.MaxBytes = int64(b.Len())
		relaxed.MaxStringLen = 8 * lim.MaxStringLen
		method2, params2, err := DecodeCall(&b, relaxed)
		if err != nil {
			t.Fatalf("re-encoded call does not decode: %v\n%s", err, b.String())
		}
		if method2 != method || !sameValue(nilAsEmpty(params), params2) {
			t.Fatalf("round trip changed the call:\n%q %#v\n%q %#v", method, params, method2, params2)
		}
	})
}

// nilAsEmpty mirrors the encoder, which answers nil as "".
func nilAsEmpty(v any) any {
	switch x := v.(type) {
	case nil:
		return ""
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = nilAsEmpty(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = nilAsEmpty(e)
		}
		return out
	}
	return v
}
