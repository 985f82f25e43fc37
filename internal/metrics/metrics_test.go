package metrics

import (
	"bytes"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func scrape(t testing.TB, r *Registry) (string, *exposition) {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	e, err := validateExposition(b.String())
	if err != nil {
		t.Fatalf("invalid exposition: %v\n%s", err, b.String())
	}
	return b.String(), e
}

func TestWriteTextExactOutput(t *testing.T) {
	r := NewRegistry()
	runs := r.NewCounter("test_runs_total", "Runs.\nSecond line with a \\.", "kind", "status")
	queue := r.NewGauge("test_queue", "Queue length.")
	lat := r.NewHistogram("test_latency_seconds", "Latency.", []float64{0.1, 1}, "route")
	r.NewGaugeFunc("test_func", "Computed.", []string{"state"}, func() []LabeledValue {
		return []LabeledValue{
			{LabelValues: []string{"sent"}, Value: 3},
			{LabelValues: []string{"failed"}, Value: 1},
			{LabelValues: []string{"sent"}, Value: 99}, // a duplicate is dropped
		}
	})

	runs.Inc("users", "ok")
	runs.Add(2, "accounts", "ok")
	runs.Inc("accounts", `say "hi"`+"\n"+`c:\x`)
	runs.Add(-5, "users", "ok") // ignored: counters never go down
	queue.With().Set(7)
	queue.With().Dec()
	lat.Observe(0.1, "/a")  // on the bound: le is inclusive
	lat.Observe(0.5, "/a")  //
	lat.Observe(30, "/a")   // +Inf only
	lat.Observe(0.05, "/b") //

	want := `# HELP test_func Computed.
# TYPE test_func gauge
test_func{state="failed"} 1
test_func{state="sent"} 3
# HELP test_latency_seconds Latency.
# TYPE test_latency_seconds histogram
test_latency_seconds_bucket{route="/a",le="0.1"} 1
test_latency_seconds_bucket{route="/a",le="1"} 2
test_latency_seconds_bucket{route="/a",le="+Inf"} 3
test_latency_seconds_sum{route="/a"} 30.6
test_latency_seconds_count{route="/a"} 3
test_latency_seconds_bucket{route="/b",le="0.1"} 1
test_latency_seconds_bucket{route="/b",le="1"} 1
test_latency_seconds_bucket{route="/b",le="+Inf"} 1
test_latency_seconds_sum{route="/b"} 0.05
test_latency_seconds_count{route="/b"} 1
# HELP test_queue Queue length.
# TYPE test_queue gauge
test_queue 6
# HELP test_runs_total Runs.\nSecond line with a \\.
# TYPE test_runs_total counter
test_runs_total{kind="accounts",status="ok"} 2
test_runs_total{kind="accounts",status="say \"hi\"\nc:\\x"} 1
test_runs_total{kind="users",status="ok"} 1
`
	got, e := scrape(t, r)
	if got != want {
		t.Fatalf("exposition:\n%s\nwant:\n%s", got, want)
	}
	if v := e.samples["test_runs_total"][`kind="accounts",status="say \"hi\"\nc:\\x",`]; v != 1 {
		t.Errorf("escaped label did not round-trip through the validator: %v", e.samples["test_runs_total"])
	}
}

func TestLabelMistakesDoNotPanic(t *testing.T) {
	r := NewRegistry()
	c := r.NewCounter("test_total", "T.", "a", "b")
	c.Inc("only-one")
	c.Inc("x", "y", "extra")
	c.Inc("bad\xffutf8", "ok")
	h := r.NewHistogram("test_seconds", "T.", []float64{1}, "route")
	h.Observe(math.NaN())
	_, e := scrape(t, r)
	for key, want := range map[string]float64{
		`a="only-one",b="",`:            1,
		`a="x",b="y",`:                  1,
		"a=\"bad\ufffdutf8\",b=\"ok\",": 1,
	} {
		if got, ok := e.samples["test_total"][key]; !ok || got != want {
			t.Errorf("series %s = %v (present %v), want %v; have %v", key, got, ok, want, e.samples["test_total"])
		}
	}
	if got := e.samples["test_seconds_bucket"][`route="",,le=+Inf`]; got != 1 {
		t.Errorf("NaN observation not counted in +Inf: %v", e.samples["test_seconds_bucket"])
	}
}

func TestRegistrationMistakesPanic(t *testing.T) {
	for name, register := range map[string]func(r *Registry){
		"invalid name":       func(r *Registry) { r.NewCounter("bad-name", "x") },
		"invalid label":      func(r *Registry) { r.NewCounter("ok_total", "x", "bad-label") },
		"reserved label":     func(r *Registry) { r.NewGauge("ok", "x", "__name") },
		"repeated label":     func(r *Registry) { r.NewGauge("ok", "x", "a", "a") },
		"le on a histogram":  func(r *Registry) { r.NewHistogram("ok", "x", []float64{1}, "le") },
		"unsorted buckets":   func(r *Registry) { r.NewHistogram("ok", "x", []float64{1, 0.5}) },
		"NaN bucket":         func(r *Registry) { r.NewHistogram("ok", "x", []float64{math.NaN()}) },
		"duplicate":          func(r *Registry) { r.NewGauge("same", "x"); r.NewCounter("same", "y") },
		"clash with _count":  func(r *Registry) { r.NewHistogram("h", "x", nil); r.NewCounter("h_count", "y") },
		"clash with _bucket": func(r *Registry) { r.NewGauge("h_bucket", "y"); r.NewHistogram("h", "x", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("registration did not panic")
				}
			}()
			register(NewRegistry())
		})
	}
}

func TestConcurrentUpdatesCountedExactly(t *testing.T) {
	r := NewRegistry()
	c := r.NewCounter("test_total", "T.", "kind")
	g := r.NewGauge("test_gauge", "T.")
	h := r.NewHistogram("test_seconds", "T.", []float64{0.5}, "route")
	const workers, perWorker = 16, 5000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			kind := []string{"a", "b"}[w%2]
			cached := c.With(kind)
			for i := range perWorker {
				c.Inc(kind)
				cached.Add(0.5)
				g.With().Inc()
				h.Observe(float64(i%2), "/x") // half in le=0.5, half only in +Inf
			}
		})
	}
	// Scrapes while updating must stay valid.
	for range 20 {
		scrape(t, r)
	}
	wg.Wait()
	_, e := scrape(t, r)
	half := float64(workers / 2 * perWorker)
	for key, want := range map[string]float64{`kind="a",`: half * 1.5, `kind="b",`: half * 1.5} {
		if got := e.samples["test_total"][key]; got != want {
			t.Errorf("counter %s = %v, want %v", key, got, want)
		}
	}
	total := float64(workers * perWorker)
	if got := e.samples["test_gauge"][""]; got != total {
		t.Errorf("gauge = %v, want %v", got, total)
	}
	if got := e.samples["test_seconds_count"][`route="/x",`]; got != total {
		t.Errorf("histogram count = %v, want %v", got, total)
	}
	if got := e.samples["test_seconds_bucket"][`route="/x",,le=0.5`]; got != total/2 {
		t.Errorf("histogram le=0.5 = %v, want %v (%v)", got, total/2, e.samples["test_seconds_bucket"])
	}
	if got := e.samples["test_seconds_sum"][`route="/x",`]; got != total/2 {
		t.Errorf("histogram sum = %v, want %v", got, total/2)
	}
}

func TestDefaultRegistry(t *testing.T) {
	SetBuildInfo("1.2.3")
	MailQueue.Set(func() []LabeledValue {
		return []LabeledValue{{LabelValues: []string{"pending"}, Value: 2}, {LabelValues: []string{"failed"}, Value: 0}}
	})
	defer MailQueue.Set(nil)
	HTTPRequestDuration.Observe(0.003, "GET /rpc/api/xmlrpc", "POST", "200")
	SyncRuns.Inc("shared-accounts", "succeeded")
	SyncDuration.Observe(2.5, "shared-accounts")
	SyncItems.Add(100, "shared-accounts", "created")

	_, e := scrape(t, Default)
	for family, kind := range map[string]string{
		"ream_http_request_duration_seconds": "histogram",
		"ream_sync_runs_total":               "counter",
		"ream_sync_duration_seconds":         "histogram",
		"ream_sync_items_total":              "counter",
		"ream_mail_queue":                    "gauge",
		"ream_build_info":                    "gauge",
		"go_goroutines":                      "gauge",
		"go_heap_objects_bytes":              "gauge",
		"go_memory_total_bytes":              "gauge",
	} {
		if e.types[family] != kind {
			t.Errorf("family %s has type %q, want %s", family, e.types[family], kind)
		}
	}
	checks := map[string]map[string]float64{
		"ream_build_info":                           {`version="1.2.3",`: 1},
		"ream_mail_queue":                           {`state="pending",`: 2, `state="failed",`: 0},
		"ream_sync_items_total":                     {`kind="shared-accounts",outcome="created",`: 100},
		"ream_http_request_duration_seconds_bucket": {`code="200",method="POST",route="GET /rpc/api/xmlrpc",,le=0.005`: 1},
	}
	for name, series := range checks {
		for key, want := range series {
			if got, ok := e.samples[name][key]; !ok || got != want {
				t.Errorf("%s{%s} = %v (present %v), want %v", name, key, got, ok, want)
			}
		}
	}
	if e.samples["go_goroutines"][""] < 1 || e.samples["go_heap_objects_bytes"][""] <= 0 || e.samples["go_memory_total_bytes"][""] <= 0 {
		t.Errorf("runtime gauges look empty: %v %v %v", e.samples["go_goroutines"], e.samples["go_heap_objects_bytes"], e.samples["go_memory_total_bytes"])
	}
}

func TestHandler(t *testing.T) {
	r := NewRegistry()
	r.NewCounter("test_total", "T.").Inc()
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ContentType {
		t.Fatalf("GET = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, err := validateExposition(body.String()); err != nil || !strings.Contains(body.String(), "test_total 1\n") {
		t.Fatalf("body invalid (%v):\n%s", err, body.String())
	}

	post, err := http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", post.StatusCode)
	}
}

// Whatever callers put in label values and HELP text, the exposition stays valid.
func FuzzExpositionEscaping(f *testing.F) {
	for _, s := range []string{"", `"`, `\`, "\n", "\xff", `a\"b`, "}", `} 1`, "=,"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, help, value string) {
		r := NewRegistry()
		c := r.NewCounter("fuzz_total", help, "v")
		c.Inc(value)
		r.NewGaugeFunc("fuzz_func", help, []string{"v"}, func() []LabeledValue {
			return []LabeledValue{{LabelValues: []string{value}, Value: 1}}
		})
		_, e := scrape(t, r)
		if len(e.samples["fuzz_total"]) != 1 || len(e.samples["fuzz_func"]) != 1 {
			t.Fatalf("samples lost: %v", e.samples)
		}
	})
}
