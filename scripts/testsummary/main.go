// Command testsummary reads `go test -json` on standard input and prints what
// a person needs from a long run: each package's result line, the full output
// of every failed test, one line per skipped test, and a closing count
// "Summary: N passed, N failed, N skipped". It exits 1 when anything failed.
// Lines that are not test events (such as compiler errors) pass through as is.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

type testKey struct{ pkg, test string }

type summary struct {
	out                     io.Writer
	passed, failed, skipped int
	// output holds each running test's lines until we know whether to show them.
	output map[testKey]*strings.Builder
	// failedTests counts failures per package, to spot a package that failed
	// without a failing test (a panic, a timeout, a build error).
	failedTests map[string]int
	buildFailed []string
}

func main() {
	s := &summary{out: os.Stdout, output: map[testKey]*strings.Builder{}, failedTests: map[string]int{}}
	if err := s.read(os.Stdin); err != nil {
		fmt.Fprintf(os.Stderr, "testsummary: unable to read test output: %v\n", err)
		os.Exit(2)
	}
	if !s.finish() {
		os.Exit(1)
	}
}

func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		var e event
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &e) != nil || e.Action == "" {
			fmt.Fprintln(s.out, line)
			continue
		}
		s.handle(e)
	}
	return sc.Err()
}

func (s *summary) handle(e event) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.out, e.Output)
	case "build-fail":
		// "pkg [pkg.test]" names the test binary of pkg; its package usually
		// fails too, and must be counted once.
		pkg, _, _ := strings.Cut(e.ImportPath, " ")
		s.buildFailed = append(s.buildFailed, pkg)
	case "output":
		if e.Test == "" {
			if strings.TrimSpace(e.Output) != "PASS" {
				fmt.Fprint(s.out, e.Output)
			}
			return
		}
		k := testKey{e.Package, e.Test}
		b := s.output[k]
		if b == nil {
			b = &strings.Builder{}
			s.output[k] = b
		}
		b.WriteString(e.Output)
	case "pass", "fail", "skip":
		if e.Test == "" {
			if e.Action == "fail" {
				s.packageFailed(e.Package)
			}
			return
		}
		s.testEnded(e)
	}
}

func (s *summary) testEnded(e event) {
	k := testKey{e.Package, e.Test}
	text := ""
	if b := s.output[k]; b != nil {
		text = b.String()
	}
	delete(s.output, k)
	switch e.Action {
	case "pass":
		s.passed++
	case "skip":
		s.skipped++
		fmt.Fprintf(s.out, "SKIP %s %s: %s\n", e.Package, e.Test, skipReason(text))
	case "fail":
		s.failed++
		s.failedTests[e.Package]++
		fmt.Fprint(s.out, text)
	}
}

// packageFailed shows what tests of the package were doing when it died and
// makes sure a package failure is counted even when no test reported one.
func (s *summary) packageFailed(pkg string) {
	for k, b := range s.output {
		if k.pkg == pkg {
			fmt.Fprintf(s.out, "--- UNFINISHED: %s %s\n%s", k.pkg, k.test, b.String())
			delete(s.output, k)
		}
	}
	if s.failedTests[pkg] == 0 {
		s.failed++
		s.failedTests[pkg] = 1
	}
}

// finish prints the closing count and reports whether everything passed.
func (s *summary) finish() bool {
	for _, pkg := range s.buildFailed {
		if s.failedTests[pkg] == 0 {
			fmt.Fprintf(s.out, "FAIL %s: did not build\n", pkg)
			s.failedTests[pkg] = 1
			s.failed++
		}
	}
	fmt.Fprintf(s.out, "Summary: %d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
	return s.failed == 0
}

// skipReason is the message a skipped test gave, without the test framework's
// own "=== RUN" and "--- SKIP" lines.
func skipReason(text string) string {
	var reason []string
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		reason = append(reason, t)
	}
	return strings.Join(reason, " ")
}
