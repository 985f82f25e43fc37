package metrics

import "bufio"

// Counter is a value that only goes up, such as runs or items processed.
type Counter struct {
	desc
	series seriesSet[CounterSeries]
}

// CounterSeries is one labelled series of a Counter; keep it to skip the lookup on
// a hot path.
type CounterSeries struct{ v atomicFloat }

// NewCounter registers a counter with the given label names.
func (r *Registry) NewCounter(name, help string, labelNames ...string) *Counter {
	c := &Counter{desc: desc{name: name, help: help, kind: "counter", labelNames: labelNames}}
	c.series.labelNames = labelNames
	r.register(c)
	return c
}

// With returns the series for the label values, in the order of the label names.
func (c *Counter) With(labelValues ...string) *CounterSeries { return c.series.get(labelValues) }

// Inc adds one to the series with the label values.
func (c *Counter) Inc(labelValues ...string) { c.With(labelValues...).Add(1) }

// Add adds delta to the series with the label values.
func (c *Counter) Add(delta float64, labelValues ...string) { c.With(labelValues...).Add(delta) }

// Inc adds one.
func (s *CounterSeries) Inc() { s.v.add(1) }

// Add adds delta; a negative or NaN delta is ignored, since a counter never goes down.
func (s *CounterSeries) Add(delta float64) {
	if delta > 0 {
		s.v.add(delta)
	}
}

// Value returns the current count.
func (s *CounterSeries) Value() float64 { return s.v.load() }

func (c *Counter) writeSamples(w *bufio.Writer) {
	for _, l := range c.series.sorted() {
		writeSample(w, c.name, c.labelNames, l.labelValues, "", "", l.series.Value())
	}
}
