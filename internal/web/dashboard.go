package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

type dashboardData struct {
	Users, InternalUsers, Groups, Accounts int
	AccountHistory                         bool // the chart shows the site's accounts (not for a scoped admin)
	Runs                                   []*model.SyncRun
	Chart                                  template.HTML
	ChartFrom, ChartTo                     string
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var d dashboardData
	var err error
	if d.Users, err = s.store.CountUsers(ctx); err != nil {
		return err
	}
	if d.InternalUsers, err = s.store.CountInternalUsers(ctx); err != nil {
		return err
	}
	if d.Groups, err = s.store.CountGroups(ctx); err != nil {
		return err
	}
	scope, err := s.accountScope(r)
	if err != nil {
		return err
	}
	d.AccountHistory = scope == nil
	if scope != nil {
		// A scoped admin counts only the accounts in scope.
		if _, d.Accounts, err = s.store.ListAccounts(ctx, store.AccountFilter{Scope: scope, Limit: 1}); err != nil {
			return err
		}
	} else if d.Accounts, err = s.store.CountAccounts(ctx); err != nil {
		return err
	}
	if d.Runs, _, err = s.store.ListSyncRuns(ctx, "", 0, 10); err != nil {
		return err
	}
	days, err := s.store.DailyCounts(ctx, 90)
	if err != nil {
		return err
	}
	// Today's figures are always the last point, so the chart is never empty.
	today := time.Now().Format("2006-01-02")
	if n := len(days); n > 0 && days[n-1].Day == today {
		days = days[:n-1]
	}
	days = append(days, store.DailyCount{Day: today, Users: d.Users, Accounts: d.Accounts})
	// The site's account history is not a scoped admin's to see.
	d.Chart = countsChart(days, d.AccountHistory)
	d.ChartFrom, d.ChartTo = days[0].Day, days[len(days)-1].Day
	return s.Render(w, r, http.StatusOK, "dashboard.html", "Dashboard", d)
}

// countsChart draws accounts and users per day as an inline SVG, made on the
// server so the dashboard needs no script. Only numbers go into the markup.
func countsChart(days []store.DailyCount, accounts bool) template.HTML {
	const width, height, pad = 600.0, 160.0, 24.0
	top := 1
	for _, d := range days {
		top = max(top, d.Users)
		if accounts {
			top = max(top, d.Accounts)
		}
	}
	x := func(i int) float64 {
		if len(days) == 1 {
			return width - pad
		}
		return pad + float64(i)*(width-2*pad)/float64(len(days)-1)
	}
	y := func(v int) float64 { return height - pad - float64(v)*(height-2*pad)/float64(top) }
	line := func(get func(store.DailyCount) int) string {
		var b strings.Builder
		for i, d := range days {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(i), y(get(d)))
		}
		return strings.TrimSpace(b.String())
	}
	var b strings.Builder
	title := "Users over time"
	if accounts {
		title = "Accounts and users over time"
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="chart-title"><title id="chart-title">%s</title>`, width, height, title)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#767676" stroke-width="1"/>`, pad, height-pad, width-pad, height-pad)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="11" fill="#333">%d</text>`, 2.0, pad-6, top)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="11" fill="#333">0</text>`, 2.0, height-pad+4)
	type series struct {
		color string
		get   func(store.DailyCount) int
	}
	lines := []series{{"#b3541e", func(d store.DailyCount) int { return d.Users }}}
	if accounts {
		lines = append([]series{{"#1f5fa8", func(d store.DailyCount) int { return d.Accounts }}}, lines...)
	}
	for _, series := range lines {
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, series.color, line(series.get))
		last := days[len(days)-1]
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, x(len(days)-1), y(series.get(last)), series.color)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // numbers and constants only: safe
}
