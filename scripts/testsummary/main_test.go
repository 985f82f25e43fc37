package main

import (
	"strings"
	"testing"
)

func run(t *testing.T, input string) (string, bool) {
	t.Helper()
	var out strings.Builder
	s := &summary{out: &out, output: map[testKey]*strings.Builder{}, failedTests: map[string]int{}}
	if err := s.read(strings.NewReader(input)); err != nil {
		t.Fatalf("read: %v", err)
	}
	ok := s.finish()
	return out.String(), ok
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		name     string
		input    string
		wantOK   bool
		want     []string
		wantNone []string
	}{
		{
			name: "pass, skip and fail",
			input: `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:1: noise from a passing test\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:2: slapd not installed\n"}
{"Action":"skip","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: got 1, want 2\n"}
{"Action":"output","Package":"p","Test":"TestC","Output":"--- FAIL: TestC (0.00s)\n"}
{"Action":"fail","Package":"p","Test":"TestC"}
{"Action":"output","Package":"p","Output":"FAIL\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.01s\n"}
{"Action":"fail","Package":"p"}
`,
			want:     []string{"SKIP p TestB: b_test.go:2: slapd not installed", "c_test.go:3: got 1, want 2", "FAIL\tp\t0.01s", "Summary: 1 passed, 1 failed, 1 skipped"},
			wantNone: []string{"noise from a passing test"},
		},
		{
			name: "timeout shows the unfinished test",
			input: `{"Action":"output","Package":"p","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}
{"Action":"output","Package":"p","Test":"TestSlow","Output":"    slow_test.go:9: waiting for the server\n"}
{"Action":"output","Package":"p","Output":"panic: test timed out after 1s\n"}
{"Action":"fail","Package":"p"}
`,
			want: []string{"--- UNFINISHED: p TestSlow", "waiting for the server", "panic: test timed out", "Summary: 0 passed, 1 failed, 0 skipped"},
		},
		{
			name: "build failure and plain lines",
			input: `# p
{"ImportPath":"p [p.test]","Action":"build-output","Output":"./x.go:1:1: undefined: y\n"}
{"ImportPath":"p [p.test]","Action":"build-fail"}
{"Action":"output","Package":"q","Test":"TestOK","Output":"--- PASS\n"}
{"Action":"pass","Package":"q","Test":"TestOK"}
`,
			want: []string{"# p", "./x.go:1:1: undefined: y", "FAIL p: did not build", "Summary: 1 passed, 1 failed, 0 skipped"},
		},
		{
			name: "build failure reported twice counts once",
			input: `{"ImportPath":"p [p.test]","Action":"build-fail"}
{"Action":"output","Package":"p","Output":"FAIL\tp [build failed]\n"}
{"Action":"fail","Package":"p"}
`,
			want:     []string{"FAIL\tp [build failed]", "Summary: 0 passed, 1 failed, 0 skipped"},
			wantNone: []string{"did not build"},
		},
		{
			name:   "all good",
			input:  `{"Action":"pass","Package":"q","Test":"TestOK"}` + "\n" + `{"Action":"output","Package":"q","Output":"PASS\n"}` + "\n",
			wantOK: true,
			want:   []string{"Summary: 1 passed, 0 failed, 0 skipped"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := run(t, tc.input)
			if ok != tc.wantOK {
				t.Errorf("ok = %v, want %v", ok, tc.wantOK)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.wantNone {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}
