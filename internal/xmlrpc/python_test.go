package xmlrpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// interopScript is run with python3: it prints the calls its standard library encodes and
// what its standard library decodes from the response files Go wrote, as JSON.
const interopScript = `
import base64, datetime, json, os, sys, xmlrpc.client

calls = [
    ("token", "alice"),
    ("", "café 中 <&> \"q\" 😀", "a\r\nb"),
    (0, -2147483648, 2147483647, True, False),
    (1.5, -0.1, 1e-7, 3.0),
    (xmlrpc.client.DateTime("20260102T15:04:05"), datetime.datetime(2026, 1, 2, 15, 4, 5)),
    (b"\x00\x01hello\xff", bytearray(b"")),
    (None,),
    ([], ["a", 1, [True, None]], {"completed": True, "message": "m"}, [["email", "x@y"], ["notes", ""]]),
    (),
]
out = {"calls": [xmlrpc.client.dumps(c, methodname="api.x", allow_none=True) for c in calls]}

def tagged(v):
    if isinstance(v, bool): return {"bool": v}
    if isinstance(v, int): return {"int": v}
    if isinstance(v, float): return {"double": repr(v)}
    if isinstance(v, str): return {"str": v}
    if isinstance(v, bytes): return {"bytes": base64.b64encode(v).decode()}
    if isinstance(v, datetime.datetime): return {"time": v.isoformat()}
    if isinstance(v, list): return {"array": [tagged(e) for e in v]}
    if isinstance(v, dict): return {"struct": {k: tagged(e) for k, e in v.items()}}
    return {"other": repr(v)}

responses = {}
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    with open(os.path.join(d, name), "rb") as f:
        data = f.read().decode("utf-8")
    try:
        params, method = xmlrpc.client.loads(data, use_builtin_types=True)
        responses[name] = {"params": [tagged(p) for p in params], "method": method}
    except xmlrpc.client.Fault as e:
        responses[name] = {"fault": e.faultCode, "faultString": e.faultString}
    except Exception as e:
        responses[name] = {"error": repr(e)}
out["responses"] = responses
print(json.dumps(out))
`

type interopResult struct {
	Calls     []string `json:"calls"`
	Responses map[string]struct {
		Params      []json.RawMessage `json:"params"`
		Method      *string           `json:"method"`
		Fault       int               `json:"fault"`
		FaultString string            `json:"faultString"`
		Error       string            `json:"error"`
	} `json:"responses"`
}

func TestPythonStandardLibraryAgrees(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: cannot check interoperability with its xmlrpc.client")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "interop.py")
	if err := os.WriteFile(script, []byte(interopScript), 0o600); err != nil {
		t.Fatal(err)
	}
	respDir := filepath.Join(dir, "responses")
	if err := os.Mkdir(respDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Each response Go encodes, with the JSON Python should decode from it.
	responses := []struct {
		v    any
		want string
	}{
		{"alice", `{"str":"alice"}`},
		{"", `{"str":""}`},
		{"café <&> \"q\" 😀\r\n\x00", `{"str":"café <&> \"q\" 😀\r\n\ufffd"}`},
		{true, `{"bool":true}`},
		{int64(-42), `{"int":-42}`},
		{int64(1) << 40, `{"int":1099511627776}`},
		{12.75, `{"double":"12.75"}`},
		{1e-7, `{"double":"1e-07"}`},
		{time.Date(2026, 1, 2, 15, 4, 5, 0, time.Local), `{"time":"2026-01-02T15:04:05"}`},
		{[]byte("hi\x00"), `{"bytes":"aGkA"}`},
		{nil, `{"str":""}`},
		{[]string{"a", "b"}, `{"array":[{"str":"a"},{"str":"b"}]}`},
		{map[string]any{"completed": false, "message": "x"}, `{"struct":{"completed":{"bool":false},"message":{"str":"x"}}}`},
	}
	for i, r := range responses {
		var b bytes.Buffer
		if err := EncodeResponse(&b, r.v); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(respDir, fmt.Sprintf("r%02d.xml", i)), b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var fault bytes.Buffer
	if err := EncodeFault(&fault, 7, "user \"bob\" <not> found & gone"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(respDir, "fault.xml"), fault.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(python, script, respDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	var res interopResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}

	t.Run("calls encoded by Python", func(t *testing.T) {
		local := time.Date(2026, 1, 2, 15, 4, 5, 0, time.Local)
		want := [][]any{
			{"token", "alice"},
			// Python writes \r raw, so any XML parser reads it back as \n.
			{"", "café 中 <&> \"q\" 😀", "a\nb"},
			{int64(0), int64(-2147483648), int64(2147483647), true, false},
			{1.5, -0.1, 1e-7, 3.0},
			{local, local},
			{[]byte("\x00\x01hello\xff"), []byte{}},
			{nil},
			{[]any{}, []any{"a", int64(1), []any{true, nil}}, map[string]any{"completed": true, "message": "m"},
				[]any{[]any{"email", "x@y"}, []any{"notes", ""}}},
			{},
		}
		if len(res.Calls) != len(want) {
			t.Fatalf("python produced %d calls, want %d", len(res.Calls), len(want))
		}
		for i, body := range res.Calls {
			method, params, err := DecodeCall(strings.NewReader(body), DefaultLimits)
			if err != nil {
				t.Errorf("call %d: %v\n%s", i+1, err, body)
				continue
			}
			if method != "api.x" || !sameValue(params, want[i]) {
				t.Errorf("call %d: got %q %#v, want %#v\n%s", i+1, method, params, want[i], body)
			}
		}
	})

	t.Run("responses decoded by Python", func(t *testing.T) {
		for i, r := range responses {
			name := fmt.Sprintf("r%02d.xml", i)
			got, ok := res.Responses[name]
			if !ok || got.Error != "" || len(got.Params) != 1 {
				t.Errorf("%s (%#v): python gave %+v", name, r.v, got)
				continue
			}
			if !jsonEqual(t, got.Params[0], r.want) {
				t.Errorf("%s (%#v): python decoded %s, want %s", name, r.v, got.Params[0], r.want)
			}
		}
		f := res.Responses["fault.xml"]
		if f.Fault != 7 || f.FaultString != "user \"bob\" <not> found & gone" {
			t.Errorf("python decoded the fault as %+v", f)
		}
	})
}

func jsonEqual(t *testing.T, got json.RawMessage, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}
