package xmlrpc

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// BenchmarkCardLookup measures the codec's share of the SPEC §11 card lookup target:
// decode lookUpUserNameByCardNo(token, card) and encode the user name.
func BenchmarkCardLookup(b *testing.B) {
	var call bytes.Buffer
	if err := EncodeCall(&call, "api.lookUpUserNameByCardNo", []any{"secret-token", "0012345678"}); err != nil {
		b.Fatal(err)
	}
	body := call.String()
	b.ReportAllocs()
	for b.Loop() {
		_, params, err := DecodeCall(strings.NewReader(body), DefaultLimits)
		if err != nil {
			b.Fatal(err)
		}
		if err := EncodeResponse(io.Discard, params[1]); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLargeImportFile checks that a batch import file of several megabytes arrives whole
// under the default limits, line breaks and tabs included.
func TestLargeImportFile(t *testing.T) {
	file := strings.Repeat("Sales\tSales & Marketing\tY\t10.00\n", 200_000)
	var call bytes.Buffer
	if err := EncodeCall(&call, "api.batchImportSharedAccounts", []any{"token", file, false, true}); err != nil {
		t.Fatal(err)
	}
	_, params, err := DecodeCall(&call, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if got := params[1].(string); got != file {
		t.Fatalf("file arrived with %d bytes, sent %d", len(got), len(file))
	}
}
