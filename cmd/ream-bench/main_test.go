package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseBenchOutput(t *testing.T) {
	out := `goos: linux
pkg: github.com/reamprint/ream/internal/store
BenchmarkBulkAccountCreate/sqlite/CreateAccount-2   	       1	9170442034 ns/op	     10905 rows/s
BenchmarkLookup-2   	    5000	    250000 ns/op	  512 B/op	  7 allocs/op
BenchmarkBroken-2   	  notanumber
--- FAIL: BenchmarkOther
PASS
`
	got := parseBenchOutput(strings.NewReader(out))
	want := []row{
		{part: "BulkAccountCreate/sqlite/CreateAccount-2", measure: "time/op", value: "9.17 s"},
		{part: "BulkAccountCreate/sqlite/CreateAccount-2", measure: "rows/s", value: "10905"},
		{part: "Lookup-2", measure: "time/op", value: "250.0 µs"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func FuzzParseBenchOutput(f *testing.F) {
	f.Add("BenchmarkX-2 1 100 ns/op 5 rows/s\n")
	f.Add("Benchmark 1 x y z\n")
	f.Add("BenchmarkY-2 3 NaN ns/op\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range parseBenchOutput(strings.NewReader(s)) {
			if r.part == "" || r.measure == "" || r.value == "" {
				t.Fatalf("incomplete row %+v from %q", r, s)
			}
		}
	})
}

func TestParseFlags(t *testing.T) {
	cases := []struct {
		args    []string
		wantErr string
	}{
		{nil, ""},
		{[]string{"-parts", "memory", "-idle", "2s"}, ""},
		{[]string{"-parts", "cpu"}, `unknown part "cpu"`},
		{[]string{"-parts", ","}, "nothing to run"},
		{[]string{"-idle", "0s"}, "longer than zero"},
		{[]string{"-postgres", "mysql://x"}, "postgres://"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		_, err := parseFlags(c.args)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%q: %v", c.args, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%q: error %v, want %q", c.args, err, c.wantErr)
		}
	}
}

func TestReadMemoryOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	rss, hwm, err := readMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss <= 0 || hwm < rss {
		t.Errorf("VmRSS %d, VmHWM %d", rss, hwm)
	}
}
