package metrics

import (
	"bufio"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync/atomic"
)

// Histogram counts observations, such as request durations, in fixed buckets.
type Histogram struct {
	desc
	upperBounds []float64 // without +Inf
	series      seriesSet[HistogramSeries]
}

// HistogramSeries is one labelled series of a Histogram.
type HistogramSeries struct {
	upperBounds []float64
	// counts[i] holds observations in bucket i alone (not cumulative); the last is +Inf.
	counts []atomic.Uint64
	sum    atomicFloat
}

// NewHistogram registers a histogram with the given bucket upper bounds (strictly
// increasing; a trailing +Inf is implied) and label names.
func (r *Registry) NewHistogram(name, help string, buckets []float64, labelNames ...string) *Histogram {
	bounds := slices.Clone(buckets)
	if n := len(bounds); n > 0 && math.IsInf(bounds[n-1], 1) {
		bounds = bounds[:n-1]
	}
	for i, b := range bounds {
		if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b <= bounds[i-1]) {
			panic(fmt.Sprintf("metrics: %s: buckets %v are not strictly increasing finite numbers", name, buckets))
		}
	}
	h := &Histogram{desc: desc{name: name, help: help, kind: "histogram", labelNames: labelNames}, upperBounds: bounds}
	h.series.labelNames = labelNames
	h.series.init = func(s *HistogramSeries) {
		s.upperBounds = bounds
		s.counts = make([]atomic.Uint64, len(bounds)+1)
	}
	r.register(h)
	return h
}

// With returns the series for the label values, in the order of the label names.
func (h *Histogram) With(labelValues ...string) *HistogramSeries {
	return h.series.get(labelValues)
}

// Observe records v in the series with the label values.
func (h *Histogram) Observe(v float64, labelValues ...string) {
	h.With(labelValues...).Observe(v)
}

// Observe records v.
func (s *HistogramSeries) Observe(v float64) {
	// Buckets are inclusive upper bounds (le); NaN lands in +Inf, as in Prometheus.
	s.counts[sort.SearchFloat64s(s.upperBounds, v)].Add(1)
	s.sum.add(v)
}

func (h *Histogram) writeSamples(w *bufio.Writer) {
	for _, l := range h.series.sorted() {
		s := &l.series
		var cumulative uint64
		for i, b := range h.upperBounds {
			cumulative += s.counts[i].Load()
			writeSample(w, h.name+"_bucket", h.labelNames, l.labelValues, "le", formatFloat(b), float64(cumulative))
		}
		// _count is derived from the buckets so a scrape during updates stays
		// self-consistent: count equals the +Inf bucket.
		cumulative += s.counts[len(h.upperBounds)].Load()
		writeSample(w, h.name+"_bucket", h.labelNames, l.labelValues, "le", "+Inf", float64(cumulative))
		writeSample(w, h.name+"_sum", h.labelNames, l.labelValues, "", "", s.sum.load())
		writeSample(w, h.name+"_count", h.labelNames, l.labelValues, "", "", float64(cumulative))
	}
}
