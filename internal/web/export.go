package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/csvexport"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// CSV exports of the admin lists (SPEC §10): each takes the list page's
// search (?q=) and streams every match, a page of rows at a time.
func init() {
	addFeature(func(s *Server) {
		s.Handle("GET /admin/export/users.csv", Admin(model.RightUsersView), s.exportUsers)
		// A scoped admin exports the accounts of her scope.
		s.Handle("GET /admin/export/accounts.csv", Admin(model.RightAccountsView), s.exportAccounts)
		s.Handle("GET /admin/export/audit.csv", Admin(model.RightLogs), s.exportAuditLog)
	})
}

// exportPageSize is how many rows an export reads at a time, so an export of
// every user never holds them all in memory.
const exportPageSize = 1000

// csvExport describes one export; the type parameter is the row's model type.
type csvExport[T any] struct {
	what   string // what is exported, for the audit log ("users")
	file   string // the file name's stem, dated when sent ("ream-users")
	header []string
	// page reads the rows from offset on, and the total matching.
	page func(ctx context.Context, offset int) (rows []T, total int, err error)
	// seen reports a row already written: rows shift between pages when
	// others are added meanwhile, and a duplicate would be a wrong file.
	seen  func(row T) bool
	cells func(row T) []string
}

// serve answers the request with the CSV file. The first page is read and
// the export audited before anything is sent, so a failure then is an
// ordinary error page; a failure once the file is under way aborts the
// response, so the download is seen to fail instead of looking complete.
func (e *csvExport[T]) serve(s *Server, w http.ResponseWriter, r *http.Request, search string) error {
	ctx := r.Context()
	rows, total, err := e.page(ctx, 0)
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("%d %s", total, e.what)
	if search != "" {
		detail += fmt.Sprintf(" matching %q", search)
	}
	a := s.Actor(r)
	if err := s.store.Audit(ctx, a.Stamp(model.AuditEntry{Action: "export",
		Target: e.what, Detail: "exported as CSV: " + detail})); err != nil {
		return err
	}
	name := e.file + "-" + time.Now().Format("2006-01-02") + ".csv"
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	if err := e.write(ctx, csvexport.NewWriter(w), rows); err != nil {
		s.log.ErrorContext(ctx, "web: CSV export failed part way", "export", e.what, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// write writes the header and every row, reading page after page until one
// comes back short.
func (e *csvExport[T]) write(ctx context.Context, cw *csvexport.Writer, rows []T) error {
	if err := cw.Write(e.header); err != nil {
		return err
	}
	offset := 0
	for {
		for _, row := range rows {
			if e.seen(row) {
				continue
			}
			if err := cw.Write(e.cells(row)); err != nil {
				return err
			}
		}
		if err := cw.Flush(); err != nil {
			return err
		}
		if len(rows) < exportPageSize {
			return nil
		}
		offset += len(rows)
		var err error
		if rows, _, err = e.page(ctx, offset); err != nil {
			return err
		}
	}
}

// exportSearch is the list pages' search parameter, bounded as they bound it.
func exportSearch(r *http.Request) string {
	_, q := pageParams(r)
	return q
}

func (s *Server) exportUsers(w http.ResponseWriter, r *http.Request) error {
	q := exportSearch(r)
	last := "" // users come in username order (byte order, as Go compares strings)
	// Card numbers are credentials at a copier: without the cards right
	// the file says only whether one is set.
	showCards := s.Actor(r).Holds(model.RightUsersCards)
	card := func(n string) string {
		if showCards || n == "" {
			return n
		}
		return "(set)"
	}
	e := &csvExport[*model.User]{
		what: "users",
		file: "ream-users",
		header: []string{"username", "full name", "email", "department", "office", "primary card",
			"secondary card", "balance", "restricted", "internal", "source", "created"},
		page: func(ctx context.Context, offset int) ([]*model.User, int, error) {
			return s.store.ListUsers(ctx, store.UserFilter{Search: q, Offset: offset, Limit: exportPageSize})
		},
		seen: func(u *model.User) bool {
			if last != "" && u.Username <= last {
				return true
			}
			last = u.Username
			return false
		},
		cells: func(u *model.User) []string {
			return []string{u.Username, u.FullName, u.Email, u.Department, u.Office, card(u.PrimaryCard),
				card(u.SecondaryCard), u.Balance.String(), yesNoCell(u.Restricted), yesNoCell(u.Internal),
				u.SourceID, timeCell(u.CreatedAt)}
		},
	}
	return e.serve(s, w, r, q)
}

func (s *Server) exportAccounts(w http.ResponseWriter, r *http.Request) error {
	q := exportSearch(r)
	scope, err := s.accountScope(r)
	if err != nil {
		return err
	}
	// The account order (parent, then sub-accounts) has no simple "after"
	// test, so the IDs written are kept; accounts are far fewer than users.
	written := map[int64]bool{}
	e := &csvExport[*model.Account]{
		what: "shared accounts",
		file: "ream-shared-accounts",
		header: []string{"account", "id", "enabled", "PIN set", "balance", "overdraft", "restricted",
			"access users", "access groups", "invoice option", "comment option", "notes", "source"},
		page: func(ctx context.Context, offset int) ([]*model.Account, int, error) {
			return s.store.ListAccounts(ctx, store.AccountFilter{Search: q, Scope: scope, Offset: offset, Limit: exportPageSize})
		},
		seen: func(a *model.Account) bool {
			if written[a.ID] {
				return true
			}
			written[a.ID] = true
			return false
		},
		cells: func(a *model.Account) []string {
			return []string{a.FullName(), strconv.FormatInt(a.ID, 10), yesNoCell(a.Enabled), yesNoCell(a.PINHash != ""),
				a.Balance.String(), a.Overdraft.String(), yesNoCell(a.Restricted),
				strings.Join(a.AccessUsers, "|"), strings.Join(a.AccessGroups, "|"),
				a.InvoiceOption, a.CommentOption, a.Notes, a.SourceID}
		},
	}
	return e.serve(s, w, r, q)
}

func (s *Server) exportAuditLog(w http.ResponseWriter, r *http.Request) error {
	q := exportSearch(r)
	var last int64 // entries come newest first, so later pages hold smaller IDs
	e := &csvExport[model.AuditEntry]{
		what:   "audit log entries",
		file:   "ream-audit-log",
		header: []string{"when", "who", "from", "action", "target", "detail"},
		page: func(ctx context.Context, offset int) ([]model.AuditEntry, int, error) {
			return s.store.AuditLog(ctx, q, offset, exportPageSize)
		},
		seen: func(a model.AuditEntry) bool {
			if last != 0 && a.ID >= last {
				return true
			}
			last = a.ID
			return false
		},
		cells: func(a model.AuditEntry) []string {
			return []string{timeCell(a.CreatedAt), a.ActorLabel(), a.Address, a.Action, a.Target, a.Detail}
		},
	}
	return e.serve(s, w, r, q)
}

// yesNoCell writes a flag as the list pages show it.
func yesNoCell(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// timeCell writes a time in the server's zone in a form spreadsheets read as a date and time.
func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
