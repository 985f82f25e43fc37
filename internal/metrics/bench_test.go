package metrics

import "testing"

func BenchmarkCounterInc(b *testing.B) {
	c := NewRegistry().NewCounter("bench_total", "B.", "kind", "status")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc("shared-accounts", "succeeded")
		}
	})
}

func BenchmarkHistogramObserve(b *testing.B) {
	h := NewRegistry().NewHistogram("bench_seconds", "B.", RequestBuckets, "route", "method", "code")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Observe(0.004, "POST /rpc/api/xmlrpc", "POST", "200")
		}
	})
}
