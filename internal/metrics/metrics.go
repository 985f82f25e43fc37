// Package metrics declares Ream's Prometheus metrics, once, on one registry
// that `ream serve` exposes at /metrics. It uses Prometheus' own client
// library (registry, promhttp, the Go runtime and process collectors), so
// the exposition is what every Prometheus dashboard expects.
//
// Labels take values from small fixed sets only: route patterns (never raw
// paths), sync kinds, statuses, API method names from the command table.
package metrics

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// Bucket bounds, in seconds, of Ream's histograms.
var (
	// RequestBuckets span a card lookup (a millisecond) to a slow report page.
	RequestBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	// SyncBuckets span a small text-file sync to a directory sync of a million accounts.
	SyncBuckets = []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}
)

// Registry holds every metric /metrics shows: Ream's below, and the Go
// runtime (go_*) and process (process_*) collectors.
var Registry = prometheus.NewRegistry()

// Ream's metrics.
var (
	// HTTPRequestDuration is labelled with the route pattern, the method and
	// the status code.
	HTTPRequestDuration = newHistogram("ream_http_request_duration_seconds",
		"Time to answer HTTP requests, by route pattern, method and status code.",
		RequestBuckets, "route", "method", "code")
	SyncRuns = newCounter("ream_sync_runs_total",
		"Sync and import runs finished, by kind of sync and status (ok, warnings, failed, interrupted, …).", "kind", "status")
	SyncDuration = newHistogram("ream_sync_duration_seconds",
		"Duration of sync runs, by kind of sync.", SyncBuckets, "kind")
	SyncItems = newCounter("ream_sync_items_total",
		"Records handled by sync runs, by kind of sync and outcome.", "kind", "outcome")
	LoginFailures = newCounter("ream_login_failures_total",
		"Failed and refused logins, by area (admin, user) and reason (wrong-password, throttled-…).", "area", "reason")
	APICalls = newCounter("ream_api_calls_total",
		`XML-RPC API calls answered, by method and fault ("none" for a success).`, "method", "fault")
	CardLookups = newCounter("ream_card_lookups_total",
		`Card/ID number lookups, by where the answer came from ("cache" or "database").`, "answer")
	MailDeliveries = newCounter("ream_mail_deliveries_total",
		"Attempts to deliver queued e-mail, by result (sent, retried, failed).", "result")
	BuildInfo = newGauge("ream_build_info",
		"Always 1; the version label names the running build of Ream.", "version")

	// MailQueue reports nothing until the mail worker calls MailQueue.Set.
	MailQueue = newFuncGauge("ream_mail_queue",
		"Messages in the outgoing mail queue (the outbox), by state.", "state")
	// SyncLastSuccess reports nothing until the server calls SyncLastSuccess.Set.
	SyncLastSuccess = newLastSuccess()
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
}

// Handler writes the registry for Prometheus.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{})
}

// SetBuildInfo records the running version in ream_build_info.
func SetBuildInfo(version string) {
	BuildInfo.Reset()
	BuildInfo.WithLabelValues(version).Set(1)
}

func newCounter(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	Registry.MustRegister(c)
	return c
}

func newGauge(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	Registry.MustRegister(g)
	return g
}

func newHistogram(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	Registry.MustRegister(h)
	return h
}

// LabeledValue is one sample of a FuncGauge.
type LabeledValue struct {
	LabelValues []string
	Value       float64
}

// FuncGauge is a gauge whose samples are computed at scrape time by a
// function its owner sets (and unsets when it stops). The function must be
// quick: it runs on every scrape.
type FuncGauge struct {
	desc *prometheus.Desc
	fn   atomic.Pointer[func() []LabeledValue]
}

func newFuncGauge(name, help string, labels ...string) *FuncGauge {
	g := &FuncGauge{desc: prometheus.NewDesc(name, help, labels, nil)}
	Registry.MustRegister(g)
	return g
}

// Set makes fn the source of the gauge's samples; nil reports none.
func (g *FuncGauge) Set(fn func() []LabeledValue) {
	if fn == nil {
		g.fn.Store(nil)
		return
	}
	g.fn.Store(&fn)
}

// Describe implements prometheus.Collector.
func (g *FuncGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

// Collect implements prometheus.Collector.
func (g *FuncGauge) Collect(ch chan<- prometheus.Metric) {
	fn := g.fn.Load()
	if fn == nil {
		return
	}
	seen := map[string]bool{}
	for _, v := range (*fn)() {
		key := labelKey(v.LabelValues)
		if seen[key] {
			continue // a duplicate series would fail the whole scrape
		}
		seen[key] = true
		if m, err := prometheus.NewConstMetric(g.desc, prometheus.GaugeValue, v.Value, v.LabelValues...); err == nil {
			ch <- m
		}
	}
}

func labelKey(values []string) string {
	key := ""
	for _, v := range values {
		key += v + "\xff"
	}
	return key
}

// LastSuccess reports, per kind of sync, when its last successful run
// finished, as ream_sync_last_success_timestamp_seconds (the Prometheus
// idiom: alert on time() - it) and as ream_sync_seconds_since_last_success
// (the same, ready to read). The times come from a function the server
// sets, which reads the sync-run records, so every server of a site
// reports the site's last runs, not only its own.
type LastSuccess struct {
	at, age *prometheus.Desc
	fn      atomic.Pointer[func() map[string]time.Time]
	now     func() time.Time
}

func newLastSuccess() *LastSuccess {
	l := &LastSuccess{
		at: prometheus.NewDesc("ream_sync_last_success_timestamp_seconds",
			"When the last successful run of each kind of sync finished, in seconds since the Unix epoch.", []string{"kind"}, nil),
		age: prometheus.NewDesc("ream_sync_seconds_since_last_success",
			"Seconds since the last successful run of each kind of sync finished.", []string{"kind"}, nil),
		now: time.Now,
	}
	Registry.MustRegister(l)
	return l
}

// Set makes fn the source of the last successful runs; nil reports none.
func (l *LastSuccess) Set(fn func() map[string]time.Time) {
	if fn == nil {
		l.fn.Store(nil)
		return
	}
	l.fn.Store(&fn)
}

// Describe implements prometheus.Collector.
func (l *LastSuccess) Describe(ch chan<- *prometheus.Desc) { ch <- l.at; ch <- l.age }

// Collect implements prometheus.Collector.
func (l *LastSuccess) Collect(ch chan<- prometheus.Metric) {
	fn := l.fn.Load()
	if fn == nil {
		return
	}
	now := l.now()
	for kind, at := range (*fn)() {
		ch <- prometheus.MustNewConstMetric(l.at, prometheus.GaugeValue, float64(at.UnixMilli())/1000, kind)
		ch <- prometheus.MustNewConstMetric(l.age, prometheus.GaugeValue, now.Sub(at).Seconds(), kind)
	}
}

// Value reads a counter or gauge's current value, for tests and for
// code that reports what it counted.
func Value(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return 0
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	}
	return 0
}
