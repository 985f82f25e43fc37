package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads the registry through Handler and parses what it wrote, so
// every test also checks that the exposition is valid.
func scrape(t *testing.T) (string, map[string]bool) {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body.String())
	}
	body := rec.Body.String()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("invalid exposition: %v\n%s", err, body)
	}
	names := map[string]bool{}
	for name := range families {
		names[name] = true
	}
	return body, names
}

func TestEveryReamMetricIsExposedWithTheRuntimeCollectors(t *testing.T) {
	SetBuildInfo("test-1.2.3")
	HTTPRequestDuration.WithLabelValues("GET /healthz", "GET", "200").Observe(0.002)
	SyncRuns.WithLabelValues("accounts", "ok").Inc()
	SyncDuration.WithLabelValues("accounts").Observe(3)
	SyncItems.WithLabelValues("accounts", "created").Add(5)
	LoginFailures.WithLabelValues("admin", "wrong-password").Inc()
	APICalls.WithLabelValues("api.getUserAccountBalance", "none").Inc()
	MailDeliveries.WithLabelValues("sent").Inc()
	CardLookups.WithLabelValues("cache").Inc()
	MailQueue.Set(func() []LabeledValue {
		return []LabeledValue{{LabelValues: []string{"queued"}, Value: 2}, {LabelValues: []string{"queued"}, Value: 9}}
	})
	defer MailQueue.Set(nil)
	body, names := scrape(t)
	for _, name := range []string{
		"ream_http_request_duration_seconds", "ream_sync_runs_total", "ream_sync_duration_seconds", "ream_sync_items_total",
		"ream_login_failures_total", "ream_api_calls_total", "ream_card_lookups_total", "ream_mail_deliveries_total", "ream_mail_queue", "ream_build_info",
		"go_goroutines", "go_memstats_heap_alloc_bytes", "go_gc_duration_seconds", "process_resident_memory_bytes", "process_open_fds",
	} {
		if !names[name] {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	for _, want := range []string{`ream_build_info{version="test-1.2.3"} 1`, `ream_mail_queue{state="queued"} 2`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks the line %q", want)
		}
	}
	if strings.Contains(body, `ream_mail_queue{state="queued"} 9`) {
		t.Errorf("a duplicate mail-queue sample was exposed")
	}
	if got := Value(SyncRuns.WithLabelValues("accounts", "ok")); got < 1 {
		t.Errorf("Value(ream_sync_runs_total) = %v", got)
	}
}

func TestFuncMetricsReportNothingUntilSet(t *testing.T) {
	MailQueue.Set(nil)
	SyncLastSuccess.Set(nil)
	body, _ := scrape(t)
	for _, name := range []string{"ream_mail_queue{", "ream_sync_last_success_timestamp_seconds{", "ream_sync_seconds_since_last_success{"} {
		if strings.Contains(body, name) {
			t.Errorf("%s reported with no source set", name)
		}
	}
}

func TestLastSuccessReportsTimestampAndAge(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	l := &LastSuccess{
		at:  prometheus.NewDesc("t_last_success_timestamp_seconds", "t", []string{"kind"}, nil),
		age: prometheus.NewDesc("t_seconds_since_last_success", "t", []string{"kind"}, nil),
		now: func() time.Time { return now },
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(l)
	l.Set(func() map[string]time.Time {
		return map[string]time.Time{"users": now.Add(-90 * time.Minute), "accounts": now.Add(-1500 * time.Millisecond)}
	})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			got[f.GetName()+" "+m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"t_seconds_since_last_success users":        5400,
		"t_seconds_since_last_success accounts":     1.5,
		"t_last_success_timestamp_seconds users":    float64(now.Add(-90 * time.Minute).Unix()),
		"t_last_success_timestamp_seconds accounts": float64(now.Add(-1500*time.Millisecond).UnixMilli()) / 1000,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func BenchmarkObserveRequest(b *testing.B) {
	for b.Loop() {
		HTTPRequestDuration.WithLabelValues("POST /rpc/api/xmlrpc", "POST", "200").Observe(0.001)
	}
}
