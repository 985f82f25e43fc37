package metrics

import (
	"runtime/metrics"
)

// Bucket bounds, in seconds, of Ream's histograms.
var (
	// RequestBuckets span a card lookup (a millisecond) to a slow report page.
	RequestBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	// SyncBuckets span a small text-file sync to a directory sync of a million accounts.
	SyncBuckets = []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}
)

// Default is the registry `ream serve` exposes at /metrics, with Ream's metrics.
var Default = NewRegistry()

// Ream's metrics, declared once so every package reports under the same names.
var (
	// HTTPRequestDuration is labelled with the route pattern (never the raw path,
	// which would make a series per user), the method and the status code.
	HTTPRequestDuration = Default.NewHistogram("ream_http_request_duration_seconds",
		"Time to answer HTTP requests, by route pattern, method and status code.",
		RequestBuckets, "route", "method", "code")
	SyncRuns = Default.NewCounter("ream_sync_runs_total",
		"Sync runs finished, by kind of sync and status.", "kind", "status")
	SyncDuration = Default.NewHistogram("ream_sync_duration_seconds",
		"Duration of sync runs, by kind of sync.", SyncBuckets, "kind")
	SyncItems = Default.NewCounter("ream_sync_items_total",
		"Records handled by sync runs, by kind of sync and outcome.", "kind", "outcome")
	LoginFailures = Default.NewCounter("ream_login_failures_total",
		"Failed and refused logins, by area (admin, user) and reason (wrong-password, throttled-…).", "area", "reason")
	// MailQueue reports nothing until the mail component calls MailQueue.Set.
	MailQueue = Default.NewGaugeFunc("ream_mail_queue",
		"Messages in the outgoing mail queue, by state.", []string{"state"}, nil)
	BuildInfo = Default.NewGaugeFunc("ream_build_info",
		"Always 1; the version label names the running build of Ream.", []string{"version"}, nil)
)

// SetBuildInfo records the running version in ream_build_info.
func SetBuildInfo(version string) {
	BuildInfo.Set(func() []LabeledValue {
		return []LabeledValue{{LabelValues: []string{version}, Value: 1}}
	})
}

func init() {
	RegisterRuntimeMetrics(Default)
}

// RegisterRuntimeMetrics adds gauges of the Go runtime to r: goroutines, live heap
// and all memory the runtime holds (the figure behind SPEC §11's idle memory).
func RegisterRuntimeMetrics(r *Registry) {
	for _, m := range []struct{ name, help, sample string }{
		{"go_goroutines", "Goroutines that currently exist.", "/sched/goroutines:goroutines"},
		{"go_heap_objects_bytes", "Memory occupied by live and not yet swept heap objects.", "/memory/classes/heap/objects:bytes"},
		{"go_memory_total_bytes", "All memory mapped by the Go runtime.", "/memory/classes/total:bytes"},
	} {
		r.NewGaugeFunc(m.name, m.help, nil, runtimeSample(m.sample))
	}
}

func runtimeSample(name string) func() []LabeledValue {
	return func() []LabeledValue {
		s := []metrics.Sample{{Name: name}}
		metrics.Read(s)
		var v float64
		switch s[0].Value.Kind() {
		case metrics.KindUint64:
			v = float64(s[0].Value.Uint64())
		case metrics.KindFloat64:
			v = s[0].Value.Float64()
		default:
			// Not supported by this Go version: report nothing rather than a 0 that
			// looks like a measurement.
			return nil
		}
		return []LabeledValue{{Value: v}}
	}
}
