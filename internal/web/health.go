package web

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

// The health API (PaperCut's /api/health): JSON for monitoring tools, with
// the key of the health.api.key setting given as an Authorization header or
// an ?Authorization= parameter, as PaperCut takes it. Beside the
// application server and the database it reports the last sync runs and
// the mail outbox, so that a failed overnight sync shows.

// Health statuses, PaperCut's words.
const (
	healthOK      = "OK"
	healthWarning = "WARNING"
	healthError   = "ERROR"
)

// healthRuns is how many of the newest sync runs the answer lists.
const healthRuns = 10

// healthParts are the sub-paths: /api/health/<part> answers that part alone.
var healthParts = []string{"application-server", "database", "sync", "mail-outbox"}

func init() {
	addFeature(func(s *Server) {
		s.Handle("GET /api/health", Public, s.health)
		s.Handle("GET /api/health/{part}", Public, s.health)
	})
}

type healthRun struct {
	ID         int64            `json:"id"`
	Kind       string           `json:"kind"`
	Source     string           `json:"source"`
	Test       bool             `json:"test"`
	Status     string           `json:"status"`
	Message    string           `json:"message"`
	StartedAt  time.Time        `json:"startedAt"`
	FinishedAt *time.Time       `json:"finishedAt"`
	Counts     model.SyncCounts `json:"counts"`
}

func (s *Server) healthKeyOK(r *http.Request) bool {
	key := s.settings.Get(r.Context(), settings.HealthAPIKey)
	given := r.Header.Get("Authorization")
	if given == "" {
		given = r.URL.Query().Get("Authorization")
	}
	given = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(given), "Bearer "))
	return key != "" && given != "" && subtle.ConstantTimeCompare([]byte(key), []byte(given)) == 1
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !s.healthKeyOK(r) {
		w.WriteHeader(http.StatusUnauthorized)
		return json.NewEncoder(w).Encode(map[string]string{"status": healthError,
			"message": "the health API needs the key of health.api.key (server-command get-config health.api.key) as the Authorization header or ?Authorization="})
	}
	part := r.PathValue("part")
	known := part == ""
	for _, p := range healthParts {
		known = known || p == part
	}
	if !known {
		w.WriteHeader(http.StatusNotFound)
		return json.NewEncoder(w).Encode(map[string]string{"status": healthError,
			"message": "no such health report; use /api/health or /api/health/ followed by one of " + strings.Join(healthParts, ", ")})
	}
	ctx := r.Context()
	out := map[string]any{}
	overall := healthOK
	worse := func(st string) {
		if st == healthError || (st == healthWarning && overall == healthOK) {
			overall = st
		}
	}
	want := func(p string) bool { return part == "" || part == p }

	dbStatus, dbMessage := healthOK, ""
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "web: health: database unreachable", "err", err)
		dbStatus, dbMessage = healthError, "the database does not answer"
	}
	worse(dbStatus)
	if want("application-server") {
		out["applicationServer"] = map[string]any{"status": healthOK, "systemInfo": map[string]any{
			"name": "Ream", "version": s.version, "uptimeSeconds": int64(time.Since(s.started).Seconds())}}
	}
	if want("database") {
		db := map[string]any{"status": dbStatus, "type": s.store.Flavor().String()}
		if dbMessage != "" {
			db["message"] = dbMessage
		}
		out["database"] = db
	}
	if want("sync") && dbStatus == healthOK {
		sync, st, err := s.healthSync(r)
		if err != nil {
			return err
		}
		worse(st)
		out["sync"] = sync
	}
	if want("mail-outbox") && dbStatus == healthOK {
		counts, err := s.store.OutboxCounts(ctx)
		if err != nil {
			return err
		}
		st := healthOK
		if counts[store.MailFailed] > 0 {
			st = healthWarning
		}
		worse(st)
		out["mailOutbox"] = map[string]any{"status": st, "queued": counts[store.MailQueued], "failed": counts[store.MailFailed]}
	}
	out["status"] = overall
	if overall == healthError {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	return json.NewEncoder(w).Encode(out)
}

// healthSync lists the newest runs; the status is WARNING when the newest
// real (not test) run of some kind failed or was refused.
func (s *Server) healthSync(r *http.Request) (map[string]any, string, error) {
	runs, _, err := s.store.ListSyncRuns(r.Context(), "", 0, healthRuns)
	if err != nil {
		return nil, "", err
	}
	list := make([]healthRun, 0, len(runs))
	newest := map[string]bool{}
	status := healthOK
	var failed []string
	for _, run := range runs {
		list = append(list, healthRun{ID: run.ID, Kind: run.Kind, Source: run.Source, Test: run.Test, Status: run.Status,
			Message: run.Message, StartedAt: run.StartedAt, FinishedAt: run.FinishedAt, Counts: run.Counts})
		if run.Test || run.Status == "running" || newest[run.Kind] {
			continue
		}
		newest[run.Kind] = true
		if run.Status == "failed" || run.Status == "refused" {
			status = healthWarning
			failed = append(failed, run.Kind)
		}
	}
	sync := map[string]any{"status": status, "lastRuns": list}
	if len(failed) > 0 {
		sync["message"] = "the last run failed or was refused: " + strings.Join(failed, ", ")
	}
	return sync, status, nil
}
