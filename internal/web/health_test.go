package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

func TestHealthAPI(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	if err := e.core.EnsureHealthAPIKey(ctx); err != nil {
		t.Fatal(err)
	}
	key := e.server.settings.Get(ctx, settings.HealthAPIKey)
	if len(key) < 32 {
		t.Fatalf("the key made on first start is %d characters", len(key))
	}
	// A second start keeps it.
	if err := e.core.EnsureHealthAPIKey(ctx); err != nil || e.server.settings.Get(ctx, settings.HealthAPIKey) != key {
		t.Fatalf("the key changed on a second start (%v)", err)
	}
	get := func(path, header string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.http.URL+path, nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s: not JSON: %v\n%s", path, err, b)
		}
		if strings.Contains(string(b), key) {
			t.Errorf("%s: the answer holds the key", path)
		}
		return resp.StatusCode, out
	}
	for _, c := range []struct{ path, header string }{
		{"/api/health", ""},
		{"/api/health", "wrong-key-wrong-key-wrong"},
		{"/api/health?Authorization=nope", ""},
		{"/api/health/database", ""},
	} {
		if code, _ := get(c.path, c.header); code != http.StatusUnauthorized {
			t.Errorf("%s with %q: %d, want 401", c.path, c.header, code)
		}
	}
	code, all := get("/api/health", key)
	if code != 200 || all["status"] != "OK" {
		t.Fatalf("health: %d %v", code, all)
	}
	for _, part := range []string{"applicationServer", "database", "sync", "mailOutbox"} {
		if m, _ := all[part].(map[string]any); m["status"] != "OK" {
			t.Errorf("%s: %v", part, all[part])
		}
	}
	if code, db := get("/api/health/database?Authorization="+url.QueryEscape(key), ""); code != 200 || db["database"] == nil || db["sync"] != nil {
		t.Errorf("/api/health/database: %d %v", code, db)
	}
	if code, _ := get("/api/health/printers", key); code != http.StatusNotFound {
		t.Errorf("unknown part: %d", code)
	}

	// A failed overnight sync and a failed mail show as warnings.
	run := &model.SyncRun{Kind: "accounts", Source: "file", StartedBy: "scheduler"}
	if err := e.store.StartSyncRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	run.Status, run.Message, run.Counts = "failed", "the source file is empty", model.SyncCounts{Read: 0}
	if err := e.store.FinishSyncRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := e.store.QueueMail(ctx, &store.OutboxMessage{Kind: "test", Recipient: "a@example.org", Subject: "s", Body: "b", MessageID: "<t1@ream>"}); err != nil {
		t.Fatal(err)
	}
	code, all = get("/api/health", "Bearer "+key)
	sync, _ := all["sync"].(map[string]any)
	runs, _ := sync["lastRuns"].([]any)
	if code != 200 || all["status"] != "WARNING" || sync["status"] != "WARNING" || len(runs) != 1 {
		t.Fatalf("after a failed sync: %d %v", code, all)
	}
	if r0, _ := runs[0].(map[string]any); r0["status"] != "failed" || r0["kind"] != "accounts" || r0["message"] != "the source file is empty" {
		t.Errorf("the failed run: %v", runs[0])
	}
	if mail, _ := all["mailOutbox"].(map[string]any); mail["queued"] != float64(1) {
		t.Errorf("mail outbox: %v", all["mailOutbox"])
	}
	// A later good run of the same kind clears the warning.
	ok := &model.SyncRun{Kind: "accounts", Source: "file", StartedBy: "scheduler"}
	if err := e.store.StartSyncRun(ctx, ok); err != nil {
		t.Fatal(err)
	}
	ok.Status = "ok"
	if err := e.store.FinishSyncRun(ctx, ok); err != nil {
		t.Fatal(err)
	}
	if _, all = get("/api/health/sync", key); all["status"] != "OK" {
		t.Errorf("after a good run: %v", all)
	}
}
