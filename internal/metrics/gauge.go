package metrics

import (
	"bufio"
	"sync/atomic"
)

// Gauge is a value that goes up and down.
type Gauge struct {
	desc
	series seriesSet[GaugeSeries]
}

// GaugeSeries is one labelled series of a Gauge.
type GaugeSeries struct{ v atomicFloat }

// NewGauge registers a gauge with the given label names.
func (r *Registry) NewGauge(name, help string, labelNames ...string) *Gauge {
	g := &Gauge{desc: desc{name: name, help: help, kind: "gauge", labelNames: labelNames}}
	g.series.labelNames = labelNames
	r.register(g)
	return g
}

// With returns the series for the label values, in the order of the label names.
func (g *Gauge) With(labelValues ...string) *GaugeSeries { return g.series.get(labelValues) }

// Set sets the series with the label values to v.
func (g *Gauge) Set(v float64, labelValues ...string) { g.With(labelValues...).Set(v) }

// Set sets the gauge.
func (s *GaugeSeries) Set(v float64) { s.v.store(v) }

// Add adds delta, which may be negative.
func (s *GaugeSeries) Add(delta float64) { s.v.add(delta) }

// Inc adds one.
func (s *GaugeSeries) Inc() { s.v.add(1) }

// Dec subtracts one.
func (s *GaugeSeries) Dec() { s.v.add(-1) }

// Value returns the current value.
func (s *GaugeSeries) Value() float64 { return s.v.load() }

func (g *Gauge) writeSamples(w *bufio.Writer) {
	for _, l := range g.series.sorted() {
		writeSample(w, g.name, g.labelNames, l.labelValues, "", "", l.series.Value())
	}
}

// LabeledValue is one sample reported by a GaugeFunc: label values in the order of
// the label names, and the value.
type LabeledValue struct {
	LabelValues []string
	Value       float64
}

// GaugeFunc is a gauge computed at scrape time, for values another component
// already knows, such as the length of the mail queue.
type GaugeFunc struct {
	desc
	fn atomic.Pointer[func() []LabeledValue]
}

// NewGaugeFunc registers a gauge whose samples fn returns at each scrape. fn may be
// nil until the component that knows the values calls Set.
func (r *Registry) NewGaugeFunc(name, help string, labelNames []string, fn func() []LabeledValue) *GaugeFunc {
	g := &GaugeFunc{desc: desc{name: name, help: help, kind: "gauge", labelNames: labelNames}}
	g.Set(fn)
	r.register(g)
	return g
}

// Set replaces the function called at scrape time; nil reports no samples.
func (g *GaugeFunc) Set(fn func() []LabeledValue) {
	g.fn.Store(&fn)
}

func (g *GaugeFunc) writeSamples(w *bufio.Writer) {
	fn := *g.fn.Load()
	if fn == nil {
		return
	}
	// Normalise through a seriesSet so the output is sorted, free of duplicate
	// series and has the right number of valid label values whatever fn returns.
	set := seriesSet[float64]{labelNames: g.labelNames}
	for _, s := range fn() {
		values := set.fix(s.LabelValues)
		if key := string(appendKey(nil, values)); set.m[key] == nil {
			set.add(key, values).series = s.Value
		}
	}
	for _, l := range set.sorted() {
		writeSample(w, g.name, g.labelNames, l.labelValues, "", "", l.series)
	}
}
