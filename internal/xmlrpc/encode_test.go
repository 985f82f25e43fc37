package xmlrpc

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

const responseHead = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse><params><param>"
const responseTail = "</param></params></methodResponse>\n"

func TestEncodeResponse(t *testing.T) {
	type label string
	tests := []struct {
		name string
		v    any
		want string // the <value> element
	}{
		{"string is bare", "alice", "<value>alice</value>"},
		{"empty string for not found", "", "<value></value>"},
		{"escaped", `a<b>&"c'`, `<value>a&lt;b&gt;&amp;"c'</value>`},
		{"carriage return kept", "a\r\nb", "<value>a&#xD;\nb</value>"},
		{"invalid XML characters replaced", "a\x00b\x1bc\xffd\uFFFEe", "<value>a\uFFFDb\uFFFDc\uFFFDd\uFFFDe</value>"},
		{"non-ASCII kept", "café 中 😀", "<value>café 中 😀</value>"},
		{"named string type", label("x"), "<value>x</value>"},
		{"nil is empty string", nil, "<value></value>"},
		{"true", true, "<value><boolean>1</boolean></value>"},
		{"false", false, "<value><boolean>0</boolean></value>"},
		{"int", 42, "<value><int>42</int></value>"},
		{"int64 negative", int64(-3), "<value><int>-3</int></value>"},
		{"int32 edge", int64(math.MaxInt32), "<value><int>2147483647</int></value>"},
		{"beyond 32 bits", int64(math.MaxInt32) + 1, "<value><i8>2147483648</i8></value>"},
		{"uint8", uint8(7), "<value><int>7</int></value>"},
		{"double", 12.5, "<value><double>12.5</double></value>"},
		{"double whole", 3.0, "<value><double>3</double></value>"},
		{"double tiny without exponent", 1e-7, "<value><double>0.0000001</double></value>"},
		{"float32", float32(0.5), "<value><double>0.5</double></value>"},
		{"time", time.Date(2026, 1, 2, 15, 4, 5, 0, time.Local), "<value><dateTime.iso8601>20260102T15:04:05</dateTime.iso8601></value>"},
		{"bytes", []byte("hello"), "<value><base64>aGVsbG8=</base64></value>"},
		{"string slice", []string{"a", "b&"}, "<value><array><data><value>a</value><value>b&amp;</value></data></array></value>"},
		{"empty array", []any{}, "<value><array><data></data></array></value>"},
		{"mixed array", []any{"x", 1, true}, "<value><array><data><value>x</value><value><int>1</int></value><value><boolean>1</boolean></value></data></array></value>"},
		{"int slice", []int{1, 2}, "<value><array><data><value><int>1</int></value><value><int>2</int></value></data></array></value>"},
		{"struct sorted", map[string]any{"message": "m", "completed": true}, "<value><struct><member><name>completed</name><value><boolean>1</boolean></value></member><member><name>message</name><value>m</value></member></struct></value>"},
		{"string map", map[string]string{"a<": "b"}, "<value><struct><member><name>a&lt;</name><value>b</value></member></struct></value>"},
		{"pointer", ptr("p"), "<value>p</value>"},
		{"nil pointer", (*string)(nil), "<value></value>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := EncodeResponse(&b, tt.v); err != nil {
				t.Fatalf("EncodeResponse: %v", err)
			}
			if want := responseHead + tt.want + responseTail; b.String() != want {
				t.Errorf("got  %s\nwant %s", b.String(), want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestEncodeResponseErrors(t *testing.T) {
	loop := map[string]any{}
	loop["self"] = loop
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"NaN", math.NaN(), "double is not a finite number"},
		{"infinity", []any{1, math.Inf(1)}, "element 2: double is not a finite number"},
		{"unsupported type", struct{ A int }{1}, "cannot be sent over XML-RPC"},
		{"channel", make(chan int), "cannot be sent over XML-RPC"},
		{"int keys", map[int]string{1: "a"}, "map key type int is not a string"},
		{"huge uint", uint64(math.MaxUint64), "does not fit in 64 signed bits"},
		{"year out of range", time.Date(10000, 1, 1, 0, 0, 0, 0, time.Local), "year 10000"},
		{"self-containing", loop, "nested deeper than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := EncodeResponse(&b, tt.v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %q despite the error", b.String())
			}
		})
	}
}

func TestEncodeFault(t *testing.T) {
	var b bytes.Buffer
	if err := EncodeFault(&b, 2, "user \"bob\" <unknown> & gone"); err != nil {
		t.Fatal(err)
	}
	want := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse><fault><value><struct>" +
		"<member><name>faultString</name><value>user \"bob\" &lt;unknown&gt; &amp; gone</value></member>" +
		"<member><name>faultCode</name><value><int>2</int></value></member>" +
		"</struct></value></fault></methodResponse>\n"
	if b.String() != want {
		t.Errorf("got  %s\nwant %s", b.String(), want)
	}
	_, err := DecodeResponse(&b, DefaultLimits)
	var f *Fault
	if !errors.As(err, &f) || f.Code != 2 || f.Message != "user \"bob\" <unknown> & gone" {
		t.Fatalf("DecodeResponse of the fault = %v", err)
	}
}

func TestEncodeCallRefusesBadMethod(t *testing.T) {
	var b bytes.Buffer
	if err := EncodeCall(&b, "api.x</methodName>", nil); err == nil {
		t.Fatal("EncodeCall accepted a method name that breaks the XML")
	}
	if err := EncodeCall(&b, "api.x", []any{"ok", math.NaN()}); err == nil || !strings.Contains(err.Error(), "param 2") {
		t.Fatalf("EncodeCall error = %v, want it to name param 2", err)
	}
}

func TestRoundTrip(t *testing.T) {
	params := []any{
		"token",
		"",
		"  spaces  ",
		"line1\r\nline2\n\ttab",
		"<xml> & \"quotes\" ]]> café 中 😀",
		int64(0), int64(-2147483648), int64(math.MaxInt64), int64(math.MinInt64),
		true, false,
		0.1, -1234.5678, 1e300, 5e-324, math.MaxFloat64,
		time.Date(2026, 1, 2, 15, 4, 5, 0, time.Local),
		time.Date(1999, 12, 31, 23, 59, 59, 123456789, time.Local),
		[]byte{}, []byte{0, 1, 2, 255},
		nil,
		[]any{},
		[]any{"a", []any{int64(1), []any{"deep"}}, map[string]any{"k": "v"}},
		map[string]any{"": "empty name", "a b": int64(1), "nested": map[string]any{"x": []any{true}}, "nil": nil},
	}
	var b bytes.Buffer
	if err := EncodeCall(&b, "api.roundTrip", params); err != nil {
		t.Fatal(err)
	}
	method, got, err := DecodeCall(&b, DefaultLimits)
	if err != nil {
		t.Fatalf("DecodeCall of %s: %v", b.String(), err)
	}
	if method != "api.roundTrip" {
		t.Errorf("method = %q", method)
	}
	// nil goes out as an empty string: PaperCut has no nil, and "" is its "nothing".
	want := append([]any{}, params...)
	want[20] = ""
	want[23].(map[string]any)["nil"] = ""
	if !sameValue(got, want) {
		t.Errorf("round trip changed the params:\ngot  %#v\nwant %#v", got, want)
	}
}

func TestDecodeResponse(t *testing.T) {
	var b bytes.Buffer
	if err := EncodeResponse(&b, map[string]any{"completed": false, "message": "line 1\n"}); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeResponse(&b, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !sameValue(got, map[string]any{"completed": false, "message": "line 1\n"}) {
		t.Errorf("got %#v", got)
	}
	bad := map[string]string{
		"two params":       "<methodResponse><params><param><value/></param><param><value/></param></params></methodResponse>",
		"no params":        "<methodResponse><params></params></methodResponse>",
		"empty":            "<methodResponse></methodResponse>",
		"fault not struct": "<methodResponse><fault><value>x</value></fault></methodResponse>",
		"fault no code":    "<methodResponse><fault><value><struct><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>",
		"other element":    "<methodResponse><result/></methodResponse>",
	}
	for name, body := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeResponse(strings.NewReader(body), DefaultLimits)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error = %v, want a *DecodeError", err)
			}
		})
	}
}
