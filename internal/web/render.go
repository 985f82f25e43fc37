package web

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/settings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageSet holds every page template, each parsed once with the layout.
type pageSet struct {
	byName map[string]*template.Template
}

var templateFuncs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04")
	},
	"datePtr": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04")
	},
	"pathEscape": url.PathEscape,
	"yesNo": func(b bool) string {
		if b {
			return "Yes"
		}
		return "No"
	},
	"join":  strings.Join,
	"lines": func(s []string) string { return strings.Join(s, "\n") },
}

func parsePages() (*pageSet, error) {
	// The layout and the partials (files named _*.html) are shared by every page.
	layout, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("web: unable to parse the layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: unable to list templates: %w", err)
	}
	ps := &pageSet{byName: map[string]*template.Template{}}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, name)
		if err != nil {
			return nil, fmt.Errorf("web: unable to parse template %s: %w", base, err)
		}
		ps.byName[base] = t
	}
	return ps, nil
}

// Flash is a one-time message shown after a redirect.
type Flash struct {
	Kind string // "ok" or "error"
	Msg  string
}

// Page is what every template receives.
type Page struct {
	Title    string
	Area     string // "admin", "user" or "" (login and public pages)
	Path     string
	Session  *Session
	CSRF     string
	Flash    *Flash
	Nav      []NavSection
	SubNav   []NavLink
	Currency string
	Data     any
}

// Can reports whether the page's admin session holds every one of rights,
// so that a page shows only the buttons the person may use.
func (p *Page) Can(rights ...string) bool {
	if p.Session == nil || p.Session.Kind != kindAdmin {
		return false
	}
	if p.Session.BuiltIn {
		return true
	}
	for _, r := range rights {
		if !p.Session.Rights[model.AdminRight(r)] {
			return false
		}
	}
	return true
}

// Money formats an amount with the configured currency symbol.
func (p *Page) Money(a money.Amount) string {
	s := a.String()
	if strings.HasPrefix(s, "-") {
		return "-" + p.Currency + s[1:]
	}
	return p.Currency + s
}

// Render writes a page template inside the layout. The page is rendered
// into a buffer first, so a template failure never sends half a page.
func (s *Server) Render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) error {
	t, ok := s.pages.byName[name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	p := &Page{Title: title, Path: r.URL.Path, Data: data, Currency: s.settings.Get(r.Context(), settings.CurrencySymbol)}
	switch {
	case inArea(r.URL.Path, "/admin"):
		p.Area = kindAdmin
	case inArea(r.URL.Path, "/user"):
		p.Area = kindUser
	}
	if se := SessionOf(r); se != nil {
		p.Session, p.CSRF = se, se.CSRF
		if se.Kind == kindAdmin {
			p.Nav, p.SubNav = s.navFor(r.URL.Path, se)
		} else {
			p.Nav = portalNav(r.URL.Path)
		}
	}
	p.Flash = takeFlash(w, r)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return fmt.Errorf("web: unable to render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

const flashCookie = "ream_flash"

// Redirect answers a POST with a redirect (303) to target and a flash
// message for the next page; kind is "ok" or "error".
func (s *Server) Redirect(w http.ResponseWriter, r *http.Request, target, kind, msg string) error {
	if msg != "" {
		v := base64.RawURLEncoding.EncodeToString([]byte(kind + "\n" + msg))
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: v, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookie(r.TLS != nil)})
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// takeFlash reads and clears the flash message.
func takeFlash(w http.ResponseWriter, r *http.Request) *Flash {
	c, err := r.Cookie(flashCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil
	}
	kind, msg, ok := strings.Cut(string(b), "\n")
	if !ok || (kind != "ok" && kind != "error") || len(msg) > 1000 {
		return nil
	}
	return &Flash{Kind: kind, Msg: msg}
}

// NavSection is one tab of the admin top navigation (SPEC §8).
type NavSection struct {
	Label, Path string
	// Also are further areas of the section: pages kept out of Path's
	// namespace so that no user, group or account name is shadowed.
	Also    []string
	Current bool
}

// NavLink is an entry in a section's sub-navigation.
type NavLink struct {
	Section string // "Users", "Groups", "Accounts", "Options", "Logs"
	Label   string
	Path    string
	Order   int
	Current bool
}

// navSections are the admin tabs, in SPEC §8's order.
var navSections = []NavSection{
	{Label: "Dashboard", Path: "/admin/"},
	{Label: "Users", Path: "/admin/users", Also: []string{"/admin/internal-users", "/admin/export/users.csv"}},
	{Label: "Groups", Path: "/admin/groups"},
	{Label: "Accounts", Path: "/admin/accounts", Also: []string{"/admin/export/accounts.csv"}},
	{Label: "Options", Path: "/admin/options"},
	{Label: "Logs", Path: "/admin/logs"},
}

// baseNav is the sub-navigation of the pages in this file set; features add theirs with AddNav.
var baseNav = []NavLink{
	{Section: "Users", Label: "User List", Path: "/admin/users", Order: 10},
	{Section: "Users", Label: "Create internal user", Path: "/admin/internal-users/new", Order: 20},
	{Section: "Groups", Label: "Group List", Path: "/admin/groups", Order: 10},
	{Section: "Accounts", Label: "Account List", Path: "/admin/accounts", Order: 10},
	{Section: "Accounts", Label: "Create account", Path: "/admin/accounts/new", Order: 20},
	{Section: "Accounts", Label: "Deleted accounts", Path: "/admin/accounts/deleted", Order: 90},
	{Section: "Options", Label: "General", Path: "/admin/options", Order: 10},
	{Section: "Logs", Label: "Audit log", Path: "/admin/logs", Order: 10},
	{Section: "Logs", Label: "Sync runs", Path: "/admin/logs/sync-runs", Order: 20},
}

// AddNav adds a sub-navigation link under one of the admin tabs.
func (s *Server) AddNav(l NavLink) {
	s.navMu.Lock()
	defer s.navMu.Unlock()
	s.nav = append(s.nav, l)
	sort.SliceStable(s.nav, func(i, j int) bool { return s.nav[i].Order < s.nav[j].Order })
}

// mayOpen reports whether an admin session may open the page at path,
// by the rights its GET route declares.
func (s *Server) mayOpen(se *Session, path string) bool {
	pattern := "GET " + path
	if path == "/admin/" {
		pattern = "GET /admin/{$}"
	}
	acc, ok := s.access[pattern]
	return ok && acc.allows(se)
}

// navFor returns the tabs the session may use with the current one marked,
// and its sub-navigation: only the pages the session's rights open.
func (s *Server) navFor(p string, se *Session) ([]NavSection, []NavLink) {
	tabs := make([]NavSection, len(navSections))
	copy(tabs, navSections)
	current := 0
	for i, t := range tabs {
		if i > 0 && inArea(p, strings.TrimSuffix(t.Path, "/")) {
			current = i
		}
		for _, also := range t.Also {
			if inArea(p, also) {
				current = i
			}
		}
	}
	tabs[current].Current = true
	s.navMu.Lock()
	defer s.navMu.Unlock()
	var sub []NavLink
	best := -1
	for _, l := range s.nav {
		if l.Section != tabs[current].Label {
			continue
		}
		if inArea(p, l.Path) && (best < 0 || len(l.Path) > len(sub[best].Path)) {
			best = len(sub)
		}
		sub = append(sub, l)
	}
	if best >= 0 {
		sub[best].Current = true
	}
	var shown []NavLink
	for _, l := range sub {
		if s.mayOpen(se, l.Path) {
			shown = append(shown, l)
		}
	}
	var open []NavSection
	for _, t := range tabs {
		if s.mayOpen(se, t.Path) {
			open = append(open, t)
			continue
		}
		// A tab whose first page is closed leads to the first one that is open.
		for _, l := range s.nav {
			if l.Section == t.Label && s.mayOpen(se, l.Path) {
				t.Path = l.Path
				open = append(open, t)
				break
			}
		}
	}
	return open, shown
}

// portalNav is the user portal's navigation.
func portalNav(p string) []NavSection {
	tabs := []NavSection{{Label: "Summary", Path: "/user/"}, {Label: "Change Details", Path: "/user/details"}}
	if inArea(p, "/user/details") {
		tabs[1].Current = true
	} else {
		tabs[0].Current = true
	}
	return tabs
}

// pager is the paging state of a list page.
type pager struct {
	Page, Pages, Total int
	Query              string
	PrevURL, NextURL   string
}

const pageSize = 50

// pageParams reads ?page= (1-based) and ?q= from a list request.
func pageParams(r *http.Request) (page int, q string) {
	page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	if page < 1 || page > 1_000_000 {
		page = 1
	}
	q = strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	return page, q
}

// newPager builds the links of a list page; total < 0 means unknown (hasMore decides Next).
func newPager(base string, page int, q string, total int, hasMore bool) pager {
	p := pager{Page: page, Total: total, Query: q}
	link := func(n int) string {
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		v.Set("page", strconv.Itoa(n))
		return base + "?" + v.Encode()
	}
	if total >= 0 {
		p.Pages = max(1, (total+pageSize-1)/pageSize)
		hasMore = page < p.Pages
	}
	if page > 1 {
		p.PrevURL = link(page - 1)
	}
	if hasMore {
		p.NextURL = link(page + 1)
	}
	return p
}
