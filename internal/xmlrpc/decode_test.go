package xmlrpc

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// oneParam wraps the XML of one <value> in a call to api.test.
func oneParam(value string) string {
	return "<?xml version=\"1.0\"?>\n<methodCall><methodName>api.test</methodName><params>" +
		"<param>" + value + "</param></params></methodCall>"
}

func TestDecodeCallTypes(t *testing.T) {
	local := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.Local)
	}
	tests := []struct {
		name  string
		value string
		want  any
	}{
		{"untyped string", "<value>alice</value>", "alice"},
		{"untyped keeps spaces", "<value>  a b </value>", "  a b "},
		{"untyped empty", "<value></value>", ""},
		{"untyped self-closed", "<value/>", ""},
		{"typed string", "<value><string>bob &amp; co</string></value>", "bob & co"},
		{"typed string around spaces", "<value>\n  <string> x </string>\n</value>", " x "},
		{"empty typed string", "<value><string/></value>", ""},
		{"cdata", "<value><string><![CDATA[<a&b>]]></string></value>", "<a&b>"},
		{"character reference", "<value>&#233;&#x4E2D;</value>", "é中"},
		{"i4", "<value><i4>42</i4></value>", int64(42)},
		{"int negative", "<value><int> -7 </int></value>", int64(-7)},
		{"int plus sign", "<value><int>+7</int></value>", int64(7)},
		{"i8 large", "<value><i8>9000000000</i8></value>", int64(9000000000)},
		{"i8 negative beyond 32 bits", "<value><i8>-2147483649</i8></value>", int64(-2147483649)},
		{"int at the 32-bit edges", "<value><int>-2147483648</int></value>", int64(-2147483648)},
		{"i4 at the 32-bit top", "<value><i4>2147483647</i4></value>", int64(2147483647)},
		{"boolean 1", "<value><boolean>1</boolean></value>", true},
		{"boolean 0", "<value><boolean>0</boolean></value>", false},
		{"boolean true word", "<value><boolean>true</boolean></value>", true},
		{"double", "<value><double>-12.5</double></value>", -12.5},
		{"double integer form", "<value><double>3</double></value>", 3.0},
		{"double exponent", "<value><double>1e3</double></value>", 1000.0},
		{"dateTime Java form", "<value><dateTime.iso8601>20260102T15:04:05</dateTime.iso8601></value>", local(2026, 1, 2, 15, 4, 5)},
		{"dateTime dashes", "<value><dateTime.iso8601>2026-01-02T15:04:05</dateTime.iso8601></value>", local(2026, 1, 2, 15, 4, 5)},
		{"dateTime compact", "<value><dateTime.iso8601>20260102T150405</dateTime.iso8601></value>", local(2026, 1, 2, 15, 4, 5)},
		{"dateTime UTC", "<value><dateTime.iso8601>2026-01-02T15:04:05Z</dateTime.iso8601></value>", time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)},
		{"dateTime offset", "<value><dateTime.iso8601>20260102T15:04:05+0100</dateTime.iso8601></value>", time.Date(2026, 1, 2, 14, 4, 5, 0, time.UTC)},
		{"base64", "<value><base64>aGVs\nbG8=</base64></value>", []byte("hello")},
		{"base64 empty", "<value><base64></base64></value>", []byte{}},
		{"nil", "<value><nil/></value>", nil},
		{"nil with namespace prefix", "<value><ex:nil xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\"/></value>", nil},
		{"empty array", "<value><array><data></data></array></value>", []any{}},
		{"array of mixed", "<value><array><data><value>a</value><value><int>1</int></value><value><array><data><value>x</value></data></array></value></data></array></value>",
			[]any{"a", int64(1), []any{"x"}}},
		{"struct", "<value><struct><member><name>k</name><value>v</value></member><member><name>n</name><value><i4>2</i4></value></member></struct></value>",
			map[string]any{"k": "v", "n": int64(2)}},
		{"empty struct", "<value><struct></struct></value>", map[string]any{}},
		{"comment ignored", "<value><!-- hi --><int>5</int></value>", int64(5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, params, err := DecodeCall(strings.NewReader(oneParam(tt.value)), DefaultLimits)
			if err != nil {
				t.Fatalf("DecodeCall: %v", err)
			}
			if method != "api.test" {
				t.Errorf("method = %q, want api.test", method)
			}
			if len(params) != 1 {
				t.Fatalf("got %d params, want 1", len(params))
			}
			if !sameValue(params[0], tt.want) {
				t.Errorf("got %#v, want %#v", params[0], tt.want)
			}
		})
	}
}

func TestDecodeCallShapes(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		method string
		params []any
	}{
		{"no params element", "<methodCall><methodName>api.getTaskStatus</methodName></methodCall>", "api.getTaskStatus", []any{}},
		{"empty params", "<methodCall><methodName> api.x </methodName><params>\n</params></methodCall>\n", "api.x", []any{}},
		{"several params", "<methodCall><methodName>api.isUserExists</methodName><params><param><value>tok</value></param><param><value><string>alice</string></value></param></params></methodCall>",
			"api.isUserExists", []any{"tok", "alice"}},
		{"UTF-8 declaration and BOM-free", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><methodCall><methodName>a</methodName><params/></methodCall>", "a", []any{}},
		{"Latin-1 declaration", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><methodCall><methodName>a</methodName><params><param><value>caf\xe9</value></param></params></methodCall>", "a", []any{"café"}},
		{"trailing comment", "<methodCall><methodName>a</methodName></methodCall><!-- end -->", "a", []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, params, err := DecodeCall(strings.NewReader(tt.body), DefaultLimits)
			if err != nil {
				t.Fatalf("DecodeCall: %v", err)
			}
			if method != tt.method || !sameValue(params, tt.params) {
				t.Errorf("got %q %#v, want %q %#v", method, params, tt.method, tt.params)
			}
		})
	}
}

func TestDecodeCallErrors(t *testing.T) {
	deep := strings.Repeat("<value><array><data>", 10) + "<value>x</value>" + strings.Repeat("</data></array></value>", 10)
	tests := []struct {
		name string
		body string
		lim  Limits
		want string // substring of the error
	}{
		{"empty body", "", DefaultLimits, "request body is empty"},
		{"not XML", "hello", DefaultLimits, "unexpected text \"hello\", expected <methodCall>"},
		{"wrong root", "<methodResponse/>", DefaultLimits, "expected <methodCall>, found <methodResponse>"},
		{"unclosed", "<methodCall><methodName>a</methodName>", DefaultLimits, "malformed XML"},
		{"mismatched tags", "<methodCall><methodName>a</methodCall>", DefaultLimits, "malformed XML"},
		{"missing method name", "<methodCall><params/></methodCall>", DefaultLimits, "expected <methodName>, found <params>"},
		{"empty method name", "<methodCall><methodName> </methodName></methodCall>", DefaultLimits, "method name \"\" is not valid"},
		{"bad method name", "<methodCall><methodName>a b</methodName></methodCall>", DefaultLimits, "method name \"a b\" is not valid"},
		{"element in method name", "<methodCall><methodName><b/></methodName></methodCall>", DefaultLimits, "<methodName> must hold only text, found <b>"},
		{"bad i4", oneParam("<value><i4>x</i4></value>"), DefaultLimits, "param 1: <i4> value \"x\" is not an integer"},
		{"int overflow", oneParam("<value><int>99999999999999999999</int></value>"), DefaultLimits, "outside the 32-bit range"},
		{"int below 32 bits", oneParam("<value><int>-2147483649</int></value>"), DefaultLimits, "param 1: <int> value \"-2147483649\" is outside the 32-bit range of <int>"},
		{"i4 above 32 bits", oneParam("<value><i4>2147483648</i4></value>"), DefaultLimits, "outside the 32-bit range"},
		{"i8 overflow", oneParam("<value><i8>99999999999999999999</i8></value>"), DefaultLimits, "<i8> value \"99999999999999999999\" is not a 64-bit integer"},
		{"bad boolean", oneParam("<value><boolean>yes</boolean></value>"), DefaultLimits, "<boolean> value \"yes\" is not 0 or 1"},
		{"bad double", oneParam("<value><double>1,5</double></value>"), DefaultLimits, "<double> value \"1,5\" is not a finite decimal number"},
		{"NaN double", oneParam("<value><double>NaN</double></value>"), DefaultLimits, "is not a finite decimal number"},
		{"infinite double", oneParam("<value><double>1e999</double></value>"), DefaultLimits, "is not a finite decimal number"},
		{"hex double", oneParam("<value><double>0x1p3</double></value>"), DefaultLimits, "is not a finite decimal number"},
		{"bad dateTime", oneParam("<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>"), DefaultLimits, "<dateTime.iso8601> value \"yesterday\" is not a date and time"},
		{"impossible date", oneParam("<value><dateTime.iso8601>20261302T15:04:05</dateTime.iso8601></value>"), DefaultLimits, "is not a date and time"},
		{"bad base64", oneParam("<value><base64>!!!</base64></value>"), DefaultLimits, "<base64> value is not valid base64"},
		{"non-empty nil", oneParam("<value><nil>x</nil></value>"), DefaultLimits, "<nil/> must be empty"},
		{"unknown type", oneParam("<value><float>1</float></value>"), DefaultLimits, "unknown value type <float>"},
		{"text mixed with type", oneParam("<value>ab<int>1</int></value>"), DefaultLimits, "text \"ab\" mixed with <int>"},
		{"two typed values", oneParam("<value><int>1</int><int>2</int></value>"), DefaultLimits, "expected </value>, found <int>"},
		{"param without value", oneParam(""), DefaultLimits, "param 1: expected <value>, found </param>"},
		{"element in string", oneParam("<value><string>a<b/></string></value>"), DefaultLimits, "<string> must hold only text, found <b>"},
		{"array without data", oneParam("<value><array><value>x</value></array></value>"), DefaultLimits, "expected <data>, found <value>"},
		{"array with stray element", oneParam("<value><array><data><name>x</name></data></array></value>"), DefaultLimits, "expected <value> in <data>, found <name>"},
		{"nested error names the path", "<methodCall><methodName>a</methodName><params><param><value>t</value></param><param><value><array><data><value>x</value><value><struct><member><name>n</name><value><i4>z</i4></value></member></struct></value></data></array></value></param></params></methodCall>",
			DefaultLimits, "param 2, element 2, member \"n\": <i4> value \"z\" is not an integer"},
		{"struct member without name", oneParam("<value><struct><member><value>x</value></member></struct></value>"), DefaultLimits, "expected <name>, found <value>"},
		{"duplicate member", oneParam("<value><struct><member><name>a</name><value/></member><member><name>a</name><value/></member></struct></value>"), DefaultLimits, "struct member \"a\" given twice"},
		{"junk after root", "<methodCall><methodName>a</methodName></methodCall><x/>", DefaultLimits, "unexpected content after </methodCall>"},
		{"text after root", "<methodCall><methodName>a</methodName></methodCall>junk", DefaultLimits, "unexpected content after </methodCall>"},
		{"processing instruction", "<methodCall><?php echo 1 ?><methodName>a</methodName></methodCall>", DefaultLimits, "processing instruction <?php?> is not allowed"},
		{"unsupported charset", "<?xml version=\"1.0\" encoding=\"EBCDIC\"?><methodCall/>", DefaultLimits, "character encoding \"EBCDIC\" is not supported"},
		{"invalid UTF-8", oneParam("<value>\xff</value>"), DefaultLimits, "malformed XML"},
		{"control character", oneParam("<value>\x01</value>"), DefaultLimits, "malformed XML"},
		{"undefined entity", oneParam("<value>&foo;</value>"), DefaultLimits, "malformed XML"},
		{"body too large", oneParam("<value>" + strings.Repeat("a", 200) + "</value>"), Limits{MaxBytes: 100, MaxDepth: 16, MaxArrayLen: 10, MaxStringLen: 1000}, "request body larger than 100 bytes"},
		{"too deep", oneParam(deep), DefaultLimits, "XML nesting deeper than 16"},
		{"string too long", oneParam("<value>abcdefghijk</value>"), Limits{MaxBytes: 1000, MaxDepth: 16, MaxArrayLen: 10, MaxStringLen: 10}, "param 1: string longer than 10 bytes"},
		{"typed string too long", oneParam("<value><string>abcdefghijk</string></value>"), Limits{MaxBytes: 1000, MaxDepth: 16, MaxArrayLen: 10, MaxStringLen: 10}, "<string> text longer than 10 bytes"},
		{"array too long", oneParam("<value><array><data><value/><value/><value/></data></array></value>"), Limits{MaxBytes: 1000, MaxDepth: 16, MaxArrayLen: 2, MaxStringLen: 10}, "array longer than 2 elements"},
		{"struct too big", oneParam("<value><struct><member><name>a</name><value/></member><member><name>b</name><value/></member></struct></value>"), Limits{MaxBytes: 1000, MaxDepth: 16, MaxArrayLen: 1, MaxStringLen: 10}, "struct has more than 1 members"},
		{"too many params", "<methodCall><methodName>a</methodName><params><param><value/></param><param><value/></param></params></methodCall>", Limits{MaxBytes: 1000, MaxDepth: 16, MaxArrayLen: 1, MaxStringLen: 10}, "more than 1 params"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := DecodeCall(strings.NewReader(tt.body), tt.lim)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error = %v (%T), want a *DecodeError", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDecodeErrorNamesTheLine(t *testing.T) {
	body := "<methodCall>\n<methodName>a</methodName>\n<params>\n<param><value><i4>x</i4></value></param>\n</params></methodCall>"
	_, _, err := DecodeCall(strings.NewReader(body), DefaultLimits)
	if err == nil || err.Error() != `xmlrpc: line 4: param 1: <i4> value "x" is not an integer` {
		t.Fatalf("error = %v", err)
	}
}

// TestDecodeRefusesEntityAttacks checks that no payload defining or pointing at entities
// gets through: the DOCTYPE itself is refused before any entity could be used.
func TestDecodeRefusesEntityAttacks(t *testing.T) {
	laughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<methodCall><methodName>api.x</methodName><params><param><value>&lol3;</value></param></params></methodCall>`
	external := `<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<methodCall><methodName>api.x</methodName><params><param><value>&xxe;</value></param></params></methodCall>`
	parameterEntity := `<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY % remote SYSTEM "http://127.0.0.1:1/evil.dtd"> %remote; ]>
<methodCall><methodName>api.x</methodName></methodCall>`
	externalDTD := `<?xml version="1.0"?><!DOCTYPE methodCall SYSTEM "http://127.0.0.1:1/x.dtd"><methodCall><methodName>api.x</methodName></methodCall>`
	undeclared := oneParam("<value>&xxe;</value>")
	for name, body := range map[string]string{
		"billion laughs":   laughs,
		"external entity":  external,
		"parameter entity": parameterEntity,
		"external DTD":     externalDTD,
		"undeclared":       undeclared,
	} {
		t.Run(name, func(t *testing.T) {
			_, params, err := DecodeCall(strings.NewReader(body), DefaultLimits)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got params %v, err %v; want a *DecodeError", params, err)
			}
			if name != "undeclared" && !strings.Contains(err.Error(), "DOCTYPE") {
				t.Errorf("error = %q, want it to name the DOCTYPE", err)
			}
		})
	}
}

// failingReader gives some bytes and then a connection error.
type failingReader struct{ sent bool }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.sent {
		return 0, errors.New("connection reset")
	}
	f.sent = true
	return copy(p, "<methodCall><methodName>"), nil
}

func TestDecodeCallReadError(t *testing.T) {
	_, _, err := DecodeCall(&failingReader{}, DefaultLimits)
	var de *DecodeError
	if err == nil || errors.As(err, &de) || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("error = %v, want the read error, not a *DecodeError", err)
	}
}

func TestBodyExactlyAtLimit(t *testing.T) {
	body := oneParam("<value>x</value>")
	lim := DefaultLimits
	lim.MaxBytes = int64(len(body))
	if _, _, err := DecodeCall(strings.NewReader(body), lim); err != nil {
		t.Fatalf("body of exactly MaxBytes refused: %v", err)
	}
	lim.MaxBytes--
	if _, _, err := DecodeCall(strings.NewReader(body), lim); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("body one byte over MaxBytes: err = %v", err)
	}
}

// sameValue compares decoded values, treating times as equal when they are the same
// instant (a zone given in the input is not kept on re-encoding).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	}
	return reflect.DeepEqual(a, b)
}

func ExampleDecodeCall() {
	body := `<methodCall><methodName>api.adjustUserAccountBalance</methodName><params>
<param><value>secret</value></param>
<param><value><string>alice</string></value></param>
<param><value><double>-1.5</double></value></param>
</params></methodCall>`
	method, params, err := DecodeCall(strings.NewReader(body), DefaultLimits)
	fmt.Println(method, params, err)
	// Output: api.adjustUserAccountBalance [secret alice -1.5] <nil>
}
