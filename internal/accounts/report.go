package accounts

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/accounts/source"
	"github.com/reamprint/ream/internal/model"
)

// Run statuses, as sync runs record them.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusRefused = "refused"
)

// Run kinds, as sync runs record them.
const (
	KindSync   = "accounts"
	KindImport = "account-import"
)

// Progress phases.
const (
	PhaseReading  = "reading"
	PhasePlanning = "planning"
	PhaseApplying = "applying"
)

// Progress is how far a long run is, for the web page and the CLI's bar.
type Progress struct {
	Phase string
	Done  int
	Total int // 0 when not known (reading)
}

// String says it in words, for task status lines.
func (p Progress) String() string {
	switch {
	case p.Phase == PhaseReading && p.Done == 0:
		return "Reading the source…"
	case p.Phase == PhaseReading:
		return fmt.Sprintf("Read %d lines…", p.Done)
	case p.Phase == PhasePlanning:
		return "Comparing with the current accounts…"
	case p.Total > 0:
		return fmt.Sprintf("Applied %d of %d changes…", p.Done, p.Total)
	}
	return "Applying…"
}

// Report is the outcome of a Test or a Run.
type Report struct {
	RunID    int64 // 0 for a test: tests record nothing
	Kind     string
	Source   string // what was read, in words
	Options  string
	Test     bool
	Status   string
	Message  string
	Plan     *Plan // nil when the source could not be read at all
	Started  time.Time
	Finished time.Time
}

// Counts are the run's totals.
func (r *Report) Counts() model.SyncCounts {
	if r.Plan == nil {
		return model.SyncCounts{}
	}
	c := r.Plan.Counts()
	if r.Status == StatusFailed {
		c.Errors = 1
	}
	return c
}

// reportListLimit caps each list in the text report: a first import of a
// million accounts must not store a 30 MB report. The JSON report is whole.
const reportListLimit = 2000

// Text is the readable report: what happened, the counts, then the lists.
func (r *Report) Text() string {
	var b strings.Builder
	title := "Shared account sync"
	if r.Kind == KindImport {
		title = "Shared account batch import"
	}
	if r.Test {
		title += " — test: nothing was changed"
	}
	b.WriteString(title + "\n")
	fmt.Fprintf(&b, "Source: %s\n", r.Source)
	if r.Options != "" {
		fmt.Fprintf(&b, "Options: %s\n", r.Options)
	}
	switch r.Status {
	case StatusOK:
		if r.Test {
			b.WriteString("Result: the source can be used; below is what a real run would do.\n")
		} else {
			b.WriteString("Result: done.\n")
		}
	case StatusRefused:
		fmt.Fprintf(&b, "Result: stopped before changing anything. %s\n", r.Message)
	default:
		fmt.Fprintf(&b, "Result: failed, nothing was changed. %s\n", r.Message)
	}
	if r.Plan == nil {
		return b.String()
	}
	p := r.Plan
	// Only a run that went through did anything; otherwise the lists say
	// what would have been done.
	done := !r.Test && r.Status == StatusOK
	if !done {
		fmt.Fprintf(&b, "\nRead: %d. To create: %d. To update: %d. Unchanged: %d. To delete: %d. Skipped lines: %d. Warnings: %d.\n",
			p.Read, len(p.Creates), len(p.Updates), len(p.Unchanged), len(p.Deletes), len(p.Skipped), len(p.Warnings))
	} else {
		fmt.Fprintf(&b, "\nRead: %d. Created: %d. Updated: %d. Unchanged: %d. Deleted: %d. Skipped lines: %d. Warnings: %d.\n",
			p.Read, len(p.Creates), len(p.Updates), len(p.Unchanged), len(p.Deletes), len(p.Skipped), len(p.Warnings))
	}
	created, updated, deleted := "To create", "To update", "To delete"
	if done {
		created, updated, deleted = "Created", "Updated", "Deleted"
	}
	writeItems(&b, created, p.Creates, func(it *Item) string {
		if it.Restored {
			return it.Name + " (restored, same id)"
		}
		return it.Name
	})
	writeItems(&b, updated, p.Updates, func(it *Item) string { return it.Name + ": " + it.Changed.String() })
	writeItems(&b, deleted, p.Deletes, func(it *Item) string { return it.Name })
	writeLineErrors(&b, "Skipped lines", p.Skipped)
	writeLineErrors(&b, "Warnings", p.Warnings)
	writeItems(&b, "Unchanged", p.Unchanged, func(it *Item) string { return it.Name })
	return b.String()
}

func writeItems(b *strings.Builder, title string, items []Item, text func(*Item) string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s (%d):\n", title, len(items))
	for i := range items[:min(len(items), reportListLimit)] {
		it := &items[i]
		if it.Line > 0 {
			fmt.Fprintf(b, "  line %d: %s\n", it.Line, text(it))
		} else {
			fmt.Fprintf(b, "  %s\n", text(it))
		}
	}
	if n := len(items) - reportListLimit; n > 0 {
		fmt.Fprintf(b, "  … and %d more (ream accounts sync --json lists them all)\n", n)
	}
}

func writeLineErrors(b *strings.Builder, title string, errs []source.LineError) {
	if len(errs) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s (%d):\n", title, len(errs))
	for _, e := range errs[:min(len(errs), reportListLimit)] {
		fmt.Fprintf(b, "  %s\n", e.Error())
	}
	if n := len(errs) - reportListLimit; n > 0 {
		fmt.Fprintf(b, "  … and %d more\n", n)
	}
}

// jsonItem and jsonReport are the report's JSON form (ream accounts sync --json).
type jsonItem struct {
	Line     int      `json:"line,omitempty"`
	Name     string   `json:"name"`
	Changed  []string `json:"changed,omitempty"`
	Restored bool     `json:"restored,omitempty"`
}

type jsonLineError struct {
	Line   int    `json:"line,omitempty"`
	Path   string `json:"path,omitempty"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

type jsonReport struct {
	RunID             int64            `json:"run_id,omitempty"`
	Kind              string           `json:"kind"`
	Source            string           `json:"source"`
	Options           string           `json:"options,omitempty"`
	Test              bool             `json:"test"`
	Status            string           `json:"status"`
	Message           string           `json:"message,omitempty"`
	Counts            model.SyncCounts `json:"counts"`
	DeleteLimit       int              `json:"delete_limit"`
	NeedsConfirmation bool             `json:"needs_confirmation,omitempty"`
	Created           []jsonItem       `json:"created"`
	Updated           []jsonItem       `json:"updated"`
	Unchanged         []jsonItem       `json:"unchanged"`
	Deleted           []jsonItem       `json:"deleted"`
	Skipped           []jsonLineError  `json:"skipped"`
	Warnings          []jsonLineError  `json:"warnings"`
	Started           time.Time        `json:"started"`
	Finished          time.Time        `json:"finished"`
}

// JSON is the whole report as JSON, every list complete.
func (r *Report) JSON() ([]byte, error) {
	out := jsonReport{RunID: r.RunID, Kind: r.Kind, Source: r.Source, Options: r.Options, Test: r.Test, Status: r.Status,
		Message: r.Message, Counts: r.Counts(), Started: r.Started, Finished: r.Finished,
		Created: []jsonItem{}, Updated: []jsonItem{}, Unchanged: []jsonItem{}, Deleted: []jsonItem{},
		Skipped: []jsonLineError{}, Warnings: []jsonLineError{}}
	if p := r.Plan; p != nil {
		out.DeleteLimit, out.NeedsConfirmation = p.DeleteLimit, p.NeedsConfirmation
		out.Created, out.Updated = jsonItems(p.Creates), jsonItems(p.Updates)
		out.Unchanged, out.Deleted = jsonItems(p.Unchanged), jsonItems(p.Deletes)
		out.Skipped, out.Warnings = jsonLineErrors(p.Skipped), jsonLineErrors(p.Warnings)
	}
	return json.MarshalIndent(out, "", "  ")
}

func jsonItems(items []Item) []jsonItem {
	out := make([]jsonItem, len(items))
	for i, it := range items {
		out[i] = jsonItem{Line: it.Line, Name: it.Name, Restored: it.Restored}
		if it.Changed != 0 {
			out[i].Changed = it.Changed.Names()
		}
	}
	return out
}

func jsonLineErrors(errs []source.LineError) []jsonLineError {
	out := make([]jsonLineError, len(errs))
	for i, e := range errs {
		out[i] = jsonLineError{Line: e.Line, Path: e.Path, Field: e.Field, Reason: e.Reason}
	}
	return out
}
