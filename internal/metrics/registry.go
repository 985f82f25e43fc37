// Package metrics is a small Prometheus registry: counters, gauges and histograms
// with labels, written in the text exposition format 0.0.4. It exists so Ream can
// expose request latency, sync runs and the mail queue (SPEC §9) without the weight
// of the Prometheus client library. Finding a series takes a read lock and no
// allocation, updating it is atomic; scrapes take a snapshot.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ContentType is the media type of WriteText's output.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// family is one metric name with its HELP and TYPE and its samples.
type family interface {
	describe() *desc
	writeSamples(w *bufio.Writer)
}

type desc struct {
	name, help, kind string
	labelNames       []string
}

func (d *desc) describe() *desc { return d }

// Registry holds metric families and writes them for Prometheus. It is safe for
// concurrent use.
type Registry struct {
	mu       sync.RWMutex
	families []family       // sorted by name
	names    map[string]int // every sample name taken, to refuse clashes
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{names: map[string]int{}}
}

// register adds f. Metric names are constants in the code, so a bad or duplicate
// name is a programming error caught at start-up; it panics, as regexp.MustCompile
// does.
func (r *Registry) register(f family) {
	d := f.describe()
	d.help = strings.ToValidUTF8(d.help, "\uFFFD")
	if !metricNameRE.MatchString(d.name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", d.name))
	}
	for _, l := range d.labelNames {
		if !labelNameRE.MatchString(l) || strings.HasPrefix(l, "__") || (d.kind == "histogram" && l == "le") {
			panic(fmt.Sprintf("metrics: %s: invalid label name %q", d.name, l))
		}
	}
	if len(d.labelNames) != len(uniq(d.labelNames)) {
		panic(fmt.Sprintf("metrics: %s: repeated label name in %v", d.name, d.labelNames))
	}
	sampleNames := []string{d.name}
	if d.kind == "histogram" {
		sampleNames = append(sampleNames, d.name+"_bucket", d.name+"_sum", d.name+"_count")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range sampleNames {
		if _, taken := r.names[n]; taken {
			panic(fmt.Sprintf("metrics: %s: sample name %q already registered", d.name, n))
		}
	}
	for _, n := range sampleNames {
		r.names[n] = 1
	}
	i, _ := slices.BinarySearchFunc(r.families, d.name, func(f family, name string) int {
		return strings.Compare(f.describe().name, name)
	})
	r.families = slices.Insert(r.families, i, f)
}

func uniq(s []string) []string {
	u := slices.Clone(s)
	slices.Sort(u)
	return slices.Compact(u)
}

// WriteText writes every family in the Prometheus text format 0.0.4, families sorted
// by name and series by label values.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.RLock()
	families := slices.Clone(r.families)
	r.mu.RUnlock()
	bw := bufio.NewWriter(w)
	for _, f := range families {
		d := f.describe()
		bw.WriteString("# HELP " + d.name + " " + helpEscaper.Replace(d.help) + "\n")
		bw.WriteString("# TYPE " + d.name + " " + d.kind + "\n")
		f.writeSamples(bw)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("metrics: unable to write the exposition: %w", err)
	}
	return nil
}

// Handler serves the registry to a Prometheus scraper.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "metrics: only GET and HEAD are allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", ContentType)
		if req.Method == http.MethodHead {
			return
		}
		// A failed write means the scraper went away; there is nobody to tell.
		_ = r.WriteText(w)
	})
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// writeSample writes `name{labels,extra} value`. extraName/extraValue carry a
// histogram's le label.
func writeSample(w *bufio.Writer, name string, labelNames, labelValues []string, extraName, extraValue string, v float64) {
	w.WriteString(name)
	if len(labelNames) > 0 || extraName != "" {
		w.WriteByte('{')
		for i, l := range labelNames {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(l + `="` + labelEscaper.Replace(labelValues[i]) + `"`)
		}
		if extraName != "" {
			if len(labelNames) > 0 {
				w.WriteByte(',')
			}
			w.WriteString(extraName + `="` + extraValue + `"`)
		}
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(formatFloat(v))
	w.WriteByte('\n')
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
