package metrics

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// exposition is what validateExposition learned from a scrape.
type exposition struct {
	types   map[string]string             // family → TYPE
	samples map[string]map[string]float64 // sample name → canonical labels → value
}

var (
	commentRE = regexp.MustCompile(`^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$`)
	sampleRE  = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$`)
)

// validateExposition checks text against the Prometheus text format 0.0.4 as Ream
// writes it: every family has HELP then TYPE before its samples, families appear
// once and sorted, every sample belongs to the current family, labels parse with
// only the allowed escapes, values parse, no series repeats, and histograms have
// cumulative buckets ending in +Inf that equal _count.
func validateExposition(text string) (*exposition, error) {
	e := &exposition{types: map[string]string{}, samples: map[string]map[string]float64{}}
	if text != "" && !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("output does not end in a newline")
	}
	var family, kind, lastFamily string
	var sawHelp bool
	type bucketState struct {
		le    float64
		count float64
	}
	buckets := map[string]*bucketState{}
	for n, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		n++
		if !utf8.ValidString(line) {
			return nil, fmt.Errorf("line %d: not valid UTF-8", n)
		}
		if strings.HasPrefix(line, "#") {
			m := commentRE.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("line %d: malformed comment %q", n, line)
			}
			switch m[1] {
			case "HELP":
				if _, seen := e.types[m[2]]; seen || m[2] == family {
					return nil, fmt.Errorf("line %d: family %s declared twice", n, m[2])
				}
				if m[2] < lastFamily {
					return nil, fmt.Errorf("line %d: family %s after %s, not sorted", n, m[2], lastFamily)
				}
				if err := checkEscapes(m[3], false); err != nil {
					return nil, fmt.Errorf("line %d: HELP: %w", n, err)
				}
				family, lastFamily, kind, sawHelp = m[2], m[2], "", true
			case "TYPE":
				if !sawHelp || m[2] != family || kind != "" {
					return nil, fmt.Errorf("line %d: TYPE of %s not right after its HELP", n, m[2])
				}
				switch m[3] {
				case "counter", "gauge", "histogram", "summary", "untyped":
				default:
					return nil, fmt.Errorf("line %d: unknown type %q", n, m[3])
				}
				kind = m[3]
				e.types[family] = kind
			}
			continue
		}
		m := sampleRE.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("line %d: malformed sample %q", n, line)
		}
		name, labelText, valueText := m[1], m[2], m[3]
		if kind == "" {
			return nil, fmt.Errorf("line %d: sample %s before any TYPE", n, name)
		}
		suffix := strings.TrimPrefix(name, family)
		switch {
		case name == family && kind != "histogram":
		case kind == "histogram" && (suffix == "_bucket" || suffix == "_sum" || suffix == "_count") && name == family+suffix:
		default:
			return nil, fmt.Errorf("line %d: sample %s does not belong to family %s (%s)", n, name, family, kind)
		}
		labels, err := parseLabels(labelText)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		value, err := parseValue(valueText)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		le, hasLE := labels["le"]
		delete(labels, "le")
		key := canonical(labels)
		if name == family+"_bucket" {
			if !hasLE {
				return nil, fmt.Errorf("line %d: bucket without le", n)
			}
			bound, err := parseValue(le)
			if err != nil {
				return nil, fmt.Errorf("line %d: le: %w", n, err)
			}
			b := buckets[family+key]
			if b == nil {
				b = &bucketState{le: math.Inf(-1)}
				buckets[family+key] = b
			}
			if bound <= b.le || value < b.count {
				return nil, fmt.Errorf("line %d: buckets not increasing and cumulative", n)
			}
			b.le, b.count = bound, value
			key = canonical(labels) + `,le=` + le
		} else if hasLE {
			return nil, fmt.Errorf("line %d: le label outside a bucket", n)
		}
		if name == family+"_count" {
			b := buckets[family+canonical(labels)]
			if b == nil || !math.IsInf(b.le, 1) || b.count != value {
				return nil, fmt.Errorf("line %d: _count %v does not match a +Inf bucket", n, value)
			}
		}
		if e.samples[name] == nil {
			e.samples[name] = map[string]float64{}
		}
		if _, dup := e.samples[name][key]; dup {
			return nil, fmt.Errorf("line %d: series %s%s repeated", n, name, key)
		}
		e.samples[name][key] = value
	}
	return e, nil
}

func parseValue(s string) (float64, error) {
	switch s {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	if strings.ContainsAny(s, "iInN") { // refuse Go-only spellings such as "Inf"
		return 0, fmt.Errorf("value %q", s)
	}
	return strconv.ParseFloat(s, 64)
}

// parseLabels parses `{a="x",b="y"}` strictly: label names valid and not repeated,
// values quoted with only \\, \" and \n escapes.
func parseLabels(s string) (map[string]string, error) {
	labels := map[string]string{}
	if s == "" {
		return labels, nil
	}
	rest := s[1 : len(s)-1]
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			return nil, fmt.Errorf("label without '=' in %s", s)
		}
		name := rest[:eq]
		if !labelNameRE.MatchString(name) {
			return nil, fmt.Errorf("bad label name %q", name)
		}
		if _, dup := labels[name]; dup {
			return nil, fmt.Errorf("label %s repeated", name)
		}
		rest = rest[eq+1:]
		if !strings.HasPrefix(rest, `"`) {
			return nil, fmt.Errorf("label %s value not quoted", name)
		}
		var value strings.Builder
		i := 1
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' {
				i++
				if i == len(rest) {
					return nil, fmt.Errorf("label %s: dangling escape", name)
				}
				switch rest[i] {
				case '\\':
					value.WriteByte('\\')
				case '"':
					value.WriteByte('"')
				case 'n':
					value.WriteByte('\n')
				default:
					return nil, fmt.Errorf("label %s: bad escape \\%c", name, rest[i])
				}
				continue
			}
			if rest[i] == '\n' {
				return nil, fmt.Errorf("label %s: raw newline", name)
			}
			value.WriteByte(rest[i])
		}
		if i == len(rest) {
			return nil, fmt.Errorf("label %s: unterminated value", name)
		}
		labels[name] = value.String()
		rest = rest[i+1:]
		if rest != "" {
			if rest[0] != ',' || len(rest) == 1 {
				return nil, fmt.Errorf("labels %s: want ',' between labels", s)
			}
			rest = rest[1:]
		}
	}
	return labels, nil
}

func checkEscapes(s string, quotes bool) error {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		i++
		if i == len(s) || !(s[i] == '\\' || s[i] == 'n' || (quotes && s[i] == '"')) {
			return fmt.Errorf("bad escape in %q", s)
		}
	}
	return nil
}

func canonical(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, labels[k])
	}
	return b.String()
}

// The validator must itself refuse broken expositions, or the tests above prove nothing.
func TestValidatorRefusesMistakes(t *testing.T) {
	const head = "# HELP a_total A.\n# TYPE a_total counter\n"
	const hist = "# HELP h H.\n# TYPE h histogram\n"
	for name, text := range map[string]string{
		"no trailing newline":  head + "a_total 1",
		"sample of no family":  "a_total 1\n",
		"foreign sample":       head + "b_total 1\n",
		"TYPE before HELP":     "# TYPE a_total counter\n# HELP a_total A.\na_total 1\n",
		"unknown type":         "# HELP a A.\n# TYPE a countr\na 1\n",
		"family twice":         head + "a_total 1\n" + head,
		"families unsorted":    "# HELP b B.\n# TYPE b gauge\n# HELP a A.\n# TYPE a gauge\n",
		"bad value":            head + "a_total one\n",
		"Go spelling of Inf":   head + "a_total Inf\n",
		"unquoted label":       head + "a_total{k=v} 1\n",
		"bad escape":           head + `a_total{k="\t"} 1` + "\n",
		"unterminated label":   head + `a_total{k="v} 1` + "\n",
		"repeated label":       head + `a_total{k="v",k="w"} 1` + "\n",
		"bad label name":       head + `a_total{1k="v"} 1` + "\n",
		"repeated series":      head + "a_total 1\na_total 2\n",
		"bucket without le":    hist + "h_bucket 1\n",
		"buckets decreasing":   hist + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\n",
		"count without +Inf":   hist + "h_bucket{le=\"1\"} 2\nh_count 2\n",
		"count differs":        hist + "h_bucket{le=\"+Inf\"} 2\nh_count 3\n",
		"plain histogram name": hist + "h 1\n",
		"invalid UTF-8":        head + "a_total{k=\"\xff\"} 1\n",
		"bad HELP escape":      "# HELP a A \\t.\n# TYPE a gauge\n",
	} {
		if _, err := validateExposition(text); err == nil {
			t.Errorf("%s: validator accepted\n%s", name, text)
		}
	}
}
