package directory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// LDAPSource reads users and groups from an LDAP directory and checks
// passwords against it. It is safe for concurrent use.
type LDAPSource struct {
	cfg         LDAPConfig
	servers     []server // tried in order
	cardRegex   *regexp.Regexp
	userFilter  string
	userSearch  searchRequest
	groupSearch searchRequest
}

var (
	_ Source        = (*LDAPSource)(nil)
	_ Authenticator = (*LDAPSource)(nil)
)

// server is one directory server of the URL setting.
type server struct {
	url string
	tls *tls.Config
}

// NewLDAPSource validates cfg, fills its defaults and loads the CA file.
func NewLDAPSource(cfg LDAPConfig) (*LDAPSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.GroupBaseDN == "" {
		cfg.GroupBaseDN = cfg.BaseDN
	}
	s := &LDAPSource{cfg: cfg, userFilter: parenthesize(cfg.UserFilter)}
	if cfg.CardRegex != "" {
		s.cardRegex = regexp.MustCompile(cfg.CardRegex) // Validate compiled it already
	}
	var pool *x509.CertPool
	if cfg.CACertFile != "" {
		var err error
		if pool, err = loadCACertFile(cfg.CACertFile); err != nil {
			return nil, err
		}
	}
	urls, _ := ParseURLs(cfg.URL) // Validate parsed them already
	for _, raw := range urls {
		u, _ := url.Parse(raw)
		s.servers = append(s.servers, server{url: raw, tls: &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12,
			InsecureSkipVerify: cfg.InsecureSkipVerify, RootCAs: pool}})
	}
	a := cfg.Attr
	userFilter, err := encodeFilter(s.userFilter)
	if err != nil {
		return nil, fmt.Errorf("directory: UserFilter %q: %w", cfg.UserFilter, err)
	}
	s.userSearch = searchRequest{
		base:     cfg.BaseDN,
		filter:   userFilter,
		pageSize: cfg.PageSize,
		attrs: nonEmpty(a.Username, a.FullName, a.Email, a.Department, a.Office,
			a.PrimaryCard, a.SecondaryCard, a.OtherEmails, a.HomeFolder, a.AccountControl, a.AccountExpires),
	}
	if cfg.GroupFilter != "" {
		groupFilter, err := encodeFilter(parenthesize(cfg.GroupFilter))
		if err != nil {
			return nil, fmt.Errorf("directory: GroupFilter %q: %w", cfg.GroupFilter, err)
		}
		s.groupSearch = searchRequest{
			base:     cfg.GroupBaseDN,
			filter:   groupFilter,
			pageSize: cfg.PageSize,
			attrs:    nonEmpty(a.GroupName, a.GroupMember, a.GroupMemberUID),
		}
	}
	return s, nil
}

// CheckCACertFile reports whether path is a readable PEM file holding at
// least one certificate, for the user-sync.ldap.ca-cert-file setting.
func CheckCACertFile(path string) error {
	_, err := loadCACertFile(path)
	return err
}

func loadCACertFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("directory: CACertFile: unable to read: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("directory: CACertFile %s: holds no PEM certificate", path)
	}
	return pool, nil
}

// encodeFilter compiles an LDAP filter to its BER form.
func encodeFilter(filter string) ([]byte, error) {
	p, err := ldap.CompileFilter(filter)
	if err != nil {
		return nil, err
	}
	return p.Bytes(), nil
}

func nonEmpty(names ...string) []string {
	var out []string
	for _, n := range names {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// Name identifies the source.
func (s *LDAPSource) Name() string { return "ldap" }

// Read reads every user under BaseDN that matches UserFilter and, when a
// GroupFilter is set, every group under GroupBaseDN. All searches are paged.
// Any failure — a lost connection, a search error, a cancelled context —
// returns an error and no result.
func (s *LDAPSource) Read(ctx context.Context, opts ReadOptions, progress func(n int)) (*Result, error) {
	return s.ReadPages(ctx, opts, progress, nil)
}

// ReadPages is Read that also hands each page of users to page as soon as
// the page is read, so that a caller can act on them while later pages are
// still coming. Every user handed to page is in the result, in the same
// order; a user whose group membership is written in an unusual form may
// be left out of the pages and appear in the result only. An error from
// page stops the read with that error. page may be nil.
func (s *LDAPSource) ReadPages(ctx context.Context, opts ReadOptions, progress func(n int), page func([]UserRecord) error) (*Result, error) {
	if len(opts.Groups) > 0 && s.cfg.GroupFilter == "" {
		return nil, errors.New("directory: members of chosen groups were asked for but GroupFilter is not set")
	}
	conn, answered, err := s.connect(ctx, true)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// A cancelled context closes the connection, which ends a search that
	// is waiting on the server.
	stop := context.AfterFunc(ctx, func() { conn.conn.Close() })
	defer stop()

	res, err := s.read(ctx, conn, opts, progress, page)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("directory: read of %s stopped: %w", answered, ctxErr)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (server %s)", err, answered)
	}
	res.Server, res.BoundAs, res.BaseDN = answered, s.cfg.BindDN, s.cfg.BaseDN
	return res, nil
}

// read reads the groups first, with their member DNs as written, so that
// each page of users can be narrowed to the chosen groups as it arrives and
// each user entry names its own groups' member DN at once: a DN becomes a
// username without a second pass over the users.
func (s *LDAPSource) read(ctx context.Context, conn *wireConn, opts ReadOptions, progress func(n int), page func([]UserRecord) error) (*Result, error) {
	res := &Result{}
	m := s.newEntryMapper()
	groups := &rawGroups{dnIndex: map[string]int32{}}
	if s.cfg.GroupFilter != "" {
		if err := s.readGroups(ctx, conn, m, groups); err != nil {
			return nil, fmt.Errorf("directory: unable to read groups under %q: %w", s.cfg.GroupBaseDN, err)
		}
		if s.cfg.NestedGroups {
			n := groups.expandNested()
			res.Nesting = &Nesting{Depth: n.depth, Cycle: n.cycle, Truncated: n.truncated}
		}
	}
	groups.dnUser = make([]string, len(groups.dns))
	memberOf, uidGroups := groups.memberOf()
	keep := newPageFilter(groups, opts)
	// The member DNs tell how many users to expect when groups are read:
	// the users then go into one slice of that size. Otherwise they are
	// kept page by page and joined once at the end; appending 100,000
	// records to one growing slice copies them over and over.
	expect := len(groups.dns)
	byUsername := make(map[string]bool, expect)
	var pages [][]UserRecord // finished pages, when no number is expected
	cur := make([]UserRecord, 0, max(int(s.cfg.PageSize), expect, 1))
	handed, read := 0, 0    // users of cur handed to page; users read
	var memberIndex []int32 // per user of the page: its DN's index among member DNs, or -1
	// Users of the page whose multi-valued attributes the server cut into
	// ranges: the rest is asked for once the page is in (the connection
	// is busy until then).
	type rangedUser struct {
		at      int // index in cur
		dn      string
		partial []partialRange
	}
	var rangedUsers []rangedUser
	entry := func(dn, attrs string) error {
		u, skip, err := m.user(dn, attrs)
		if err != nil {
			return err
		}
		var partial []partialRange
		for _, p := range m.partial {
			if p.slot == slotOtherEmails { // the one multi-valued user field
				partial = append(partial, p)
			}
		}
		if skip == nil && byUsername[u.Username] {
			skip = &LineError{DN: dn, Field: s.cfg.Attr.Username, Reason: fmt.Sprintf("%q is a duplicate of another entry", u.Username)}
		}
		if skip != nil {
			res.Skipped = append(res.Skipped, *skip)
			return nil
		}
		byUsername[u.Username] = true
		i := int32(-1)
		if len(groups.dns) > 0 {
			if j, ok := groups.dnIndex[strings.ToLower(dn)]; ok {
				groups.dnUser[j], i = u.Username, j
				u.Groups = memberOf[j]
			}
		}
		if byUID := uidGroups[u.Username]; len(byUID) > 0 {
			u.Groups = slices.Clip(u.Groups) // shared: appending copies
			for _, name := range byUID {
				if !slices.Contains(u.Groups, name) {
					u.Groups = append(u.Groups, name)
				}
			}
		}
		memberIndex = append(memberIndex, i)
		if len(partial) > 0 {
			rangedUsers = append(rangedUsers, rangedUser{at: len(cur), dn: dn, partial: partial})
		}
		cur = append(cur, u)
		read++
		return nil
	}
	pageDone := func() error {
		for _, ru := range rangedUsers {
			var more []string
			err := s.fetchRanges(ctx, conn, m, ru.dn, ru.partial, func(_ int, v string) {
				if v = strings.TrimSpace(v); v != "" {
					more = append(more, v)
				}
			})
			if err != nil {
				return err
			}
			if u := &cur[ru.at]; len(more) > 0 {
				u.OtherEmails = strings.Join(append(nonEmpty(u.OtherEmails), more...), ",")
			}
		}
		rangedUsers = rangedUsers[:0]
		users := cur[handed:len(cur):len(cur)]
		handed = len(cur)
		if expect == 0 && len(cur) > 0 {
			pages = append(pages, cur)
			cur, handed = make([]UserRecord, 0, cap(cur)), 0
		}
		index := memberIndex
		memberIndex = memberIndex[:0]
		if progress != nil {
			progress(read)
		}
		if page == nil || len(users) == 0 {
			return nil
		}
		// The page is handed over as it is when every user on it stays:
		// the read never writes it again (filterUsers makes a new list).
		kept := users
		for k, u := range users {
			if !keep.keeps(u, index[k]) {
				kept = nil
				break
			}
		}
		if kept == nil {
			for k, u := range users {
				if keep.keeps(u, index[k]) {
					kept = append(kept, u)
				}
			}
		}
		if len(kept) == 0 {
			return nil
		}
		return page(kept)
	}
	if err := s.pagedSearch(ctx, conn, s.userSearch, entry, pageDone); err != nil {
		return nil, fmt.Errorf("directory: unable to read users under %q: %w", s.cfg.BaseDN, err)
	}
	if expect == 0 {
		res.Users = slices.Concat(pages...)
		pages = nil
	} else {
		res.Users = cur
	}
	if s.cfg.GroupFilter != "" {
		res.Groups = groups.resolve(res.Users)
		res.Skipped = append(res.Skipped, groups.skipped...)
	}
	filterUsers(res, opts)
	return res, nil
}

// rawGroups are the groups as read, before member DNs become usernames.
// Groups with the same name (in different branches) are merged.
type rawGroups struct {
	list    []rawGroup
	skipped []LineError
	// Every member DN once: dnIndex maps the lower-cased DN to its index
	// in dns (the DN as first written) and dnUser (the username of the
	// user entry with that DN, filled while users are read).
	dnIndex map[string]int32
	dns     []string
	dnUser  []string
}

type rawGroup struct {
	name    string
	dns     []string    // the entries merged into this group
	members []memberRef // in the order the entries listed them
}

// memberRef is one member value: a member DN (an index into the DNs) or
// a memberUid username.
type memberRef struct {
	dn  int32 // -1 for a memberUid
	uid string
}

// memberOf returns, by member DN index, the names of the groups listing
// that DN, and by username the names of the groups listing it as a
// memberUid. Each group is named once per member; the lists are shared.
func (g *rawGroups) memberOf() (byDN [][]string, byUID map[string][]string) {
	byDN = make([][]string, len(g.dns))
	for _, rg := range g.list {
		for _, ref := range rg.members {
			if ref.dn >= 0 {
				if l := byDN[ref.dn]; len(l) == 0 || l[len(l)-1] != rg.name {
					byDN[ref.dn] = append(l, rg.name)
				}
				continue
			}
			username, reason := normalizeUsername(ref.uid)
			if reason != "" {
				continue
			}
			if byUID == nil {
				byUID = make(map[string][]string)
			}
			if l := byUID[username]; len(l) == 0 || l[len(l)-1] != rg.name {
				byUID[username] = append(l, rg.name)
			}
		}
	}
	return byDN, byUID
}

// readGroups reads every group with its member values into g.
func (s *LDAPSource) readGroups(ctx context.Context, conn *wireConn, m *entryMapper, g *rawGroups) error {
	index := make(map[string]int)
	dns := 0 // member DN values, indexed once every group is read
	type rangedGroup struct {
		group   int
		dn      string
		partial []partialRange
	}
	var ranged []rangedGroup
	entry := func(dn, attrs string) error {
		v, err := m.values(attrs)
		if err != nil {
			return err
		}
		name := strings.TrimSpace(v[slotGroupName].first())
		if name == "" {
			g.skipped = append(g.skipped, LineError{DN: dn, Field: s.cfg.Attr.GroupName, Reason: "is empty"})
			return nil
		}
		key := strings.ToLower(name)
		i, ok := index[key]
		if !ok {
			i = len(g.list)
			index[key] = i
			g.list = append(g.list, rawGroup{name: name})
		}
		rg := &g.list[i]
		rg.dns = append(rg.dns, dn)
		if err := v[slotGroupMember].each(func(dn string) {
			rg.members = append(rg.members, memberRef{dn: unindexedDN, uid: dn})
			dns++
		}); err != nil {
			return err
		}
		if len(m.partial) > 0 {
			ranged = append(ranged, rangedGroup{group: i, dn: dn, partial: slices.Clone(m.partial)})
		}
		return v[slotGroupMemberUID].each(func(uid string) { rg.members = append(rg.members, memberRef{dn: -1, uid: uid}) })
	}
	if err := s.pagedSearch(ctx, conn, s.groupSearch, entry, func() error { return nil }); err != nil {
		return err
	}
	// The rest of the members of groups the server cut short, asked for
	// once the paged search is over (one operation at a time).
	for _, r := range ranged {
		rg := &g.list[r.group]
		err := s.fetchRanges(ctx, conn, m, r.dn, r.partial, func(slot int, value string) {
			switch slot {
			case slotGroupMember:
				rg.members = append(rg.members, memberRef{dn: unindexedDN, uid: value})
				dns++
			case slotGroupMemberUID:
				rg.members = append(rg.members, memberRef{dn: -1, uid: value})
			}
		})
		if err != nil {
			return err
		}
	}
	// The DN index is built once the number of member values is known: a
	// map grown value by value to 100,000 DNs rehashes again and again.
	g.dnIndex = make(map[string]int32, dns)
	for i := range g.list {
		for k := range g.list[i].members {
			ref := &g.list[i].members[k]
			if ref.dn != unindexedDN {
				continue
			}
			lower := strings.ToLower(ref.uid)
			j, ok := g.dnIndex[lower]
			if !ok {
				j = int32(len(g.dns))
				g.dnIndex[lower] = j
				g.dns = append(g.dns, ref.uid)
			}
			ref.dn, ref.uid = j, ""
		}
	}
	return nil
}

// unindexedDN marks a member DN, in memberRef.uid, not given its index yet.
const unindexedDN = -2

// resolve turns the groups' members into usernames, each once per group.
// Directories write the same DN with different case and spacing, so a
// member DN that matched no user entry as written is looked up again in
// its normalized form among users (every user read, before filtering).
func (g *rawGroups) resolve(users []UserRecord) []GroupRecord {
	var normalized map[string]string
	for i, username := range g.dnUser {
		if username != "" {
			continue
		}
		if normalized == nil {
			normalized = make(map[string]string, len(users))
			for _, u := range users {
				if n, ok := normalizeDN(strings.ToLower(u.DN)); ok {
					normalized[n] = u.Username
				}
			}
		}
		if n, ok := normalizeDN(g.dns[i]); ok {
			g.dnUser[i] = normalized[n]
		}
	}
	groups := make([]GroupRecord, len(g.list))
	for i, rg := range g.list {
		groups[i].Name = rg.name
		seen := make(map[string]bool, len(rg.members))
		for _, ref := range rg.members {
			var username string
			if ref.dn >= 0 {
				username = g.dnUser[ref.dn]
			} else {
				username, _ = normalizeUsername(ref.uid)
			}
			if username == "" || seen[username] {
				continue
			}
			seen[username] = true
			groups[i].Members = append(groups[i].Members, username)
		}
	}
	return groups
}

// pageFilter decides, while users are still being read, which of them the
// result will keep: filterUsers decides for good once every user is known.
type pageFilter struct {
	opts       ReadOptions
	chosen     bool            // only members of chosen groups are kept
	chosenDN   []bool          // by member DN index: a member of a chosen group
	usernames  map[string]bool // memberUid values of the chosen groups
	rawDNs     []string        // member DNs of the chosen groups
	normalized map[string]bool // built on the first DN not found as written
}

func newPageFilter(groups *rawGroups, opts ReadOptions) *pageFilter {
	f := &pageFilter{opts: opts, chosen: len(opts.Groups) > 0}
	if !f.chosen {
		return f
	}
	wanted := make(map[string]bool, len(opts.Groups))
	for _, g := range opts.Groups {
		wanted[strings.ToLower(strings.TrimSpace(g))] = true
	}
	f.chosenDN, f.usernames = make([]bool, len(groups.dns)), make(map[string]bool)
	for _, g := range groups.list {
		if !wanted[strings.ToLower(g.name)] {
			continue
		}
		for _, ref := range g.members {
			if ref.dn >= 0 {
				if !f.chosenDN[ref.dn] {
					f.chosenDN[ref.dn] = true
					f.rawDNs = append(f.rawDNs, groups.dns[ref.dn])
				}
			} else if u, reason := normalizeUsername(ref.uid); reason == "" {
				f.usernames[u] = true
			}
		}
	}
	return f
}

// keeps reports whether the result will surely keep u; memberIndex is the
// index of u's DN among the member DNs, or -1.
func (f *pageFilter) keeps(u UserRecord, memberIndex int32) bool {
	if u.Disabled && !f.opts.IncludeDisabled {
		return false
	}
	if !f.chosen {
		return true
	}
	if f.usernames[u.Username] || (memberIndex >= 0 && f.chosenDN[memberIndex]) {
		return true
	}
	if len(f.rawDNs) == 0 {
		return false
	}
	if f.normalized == nil {
		f.normalized = make(map[string]bool, len(f.rawDNs))
		for _, dn := range f.rawDNs {
			if n, ok := normalizeDN(dn); ok {
				f.normalized[n] = true
			}
		}
	}
	n, ok := normalizeDN(u.DN)
	return ok && f.normalized[n]
}

// pagedSearch runs a paged subtree search. Entries are handed to entry as
// they arrive, so only one raw entry is held at a time.
func (s *LDAPSource) pagedSearch(ctx context.Context, conn *wireConn, req searchRequest, entry func(dn, attrs string) error, pageDone func() error) error {
	var cookie []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		next, err := conn.searchPage(req, cookie, entry)
		if err != nil {
			return classify(err)
		}
		if err := pageDone(); err != nil {
			return err
		}
		if len(next) == 0 {
			return nil
		}
		cookie = next
	}
}

// Authenticate finds the user's entry with the service account and binds as
// that entry with password on a connection of its own.
func (s *LDAPSource) Authenticate(ctx context.Context, username, password string) (*UserRecord, error) {
	if password == "" {
		return nil, ErrInvalidCredentials
	}
	if s.cfg.Preset == PresetActiveDirectory {
		// A down-level logon name, DOMAIN\user, is the sAMAccountName
		// under this source's base; the bind checks the password as ever.
		if domain, user, ok := strings.Cut(username, `\`); ok && domain != "" && user != "" {
			username = user
		}
	}
	name, reason := normalizeUsername(username)
	if reason != "" {
		return nil, ErrInvalidCredentials
	}
	user, err := s.findUser(ctx, s.loginFilter(name))
	if err != nil {
		return nil, err
	}
	conn, _, err := s.connect(ctx, false)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.conn.Close() })
	defer stop()
	if err := conn.bind(user.DN, password); err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			return nil, ErrInvalidCredentials
		}
		return nil, fmt.Errorf("directory: unable to check the password of %q: %w", name, classify(err))
	}
	return user, nil
}

// loginFilter is the filter that finds the entry of a login name: its
// username attribute, or on Active Directory, for a name with an @, its
// userPrincipalName too (a UPN need not be sAMAccountName@domain). The name
// is escaped, so no character in it can change the meaning of the filter.
func (s *LDAPSource) loginFilter(name string) loginName {
	byName := "(" + s.cfg.Attr.Username + "=" + ldap.EscapeFilter(name) + ")"
	if s.cfg.Preset == PresetActiveDirectory && strings.Contains(name, "@") {
		byName = "(|" + byName + "(userPrincipalName=" + ldap.EscapeFilter(name) + "))"
	}
	return loginName{name: name, filter: "(&" + s.userFilter + byName + ")"}
}

// loginName is a name typed at login and the filter that finds its entry.
type loginName struct{ name, filter string }

// findUser looks up the one user entry a login name belongs to; when two
// entries answer to it, neither is trusted.
func (s *LDAPSource) findUser(ctx context.Context, login loginName) (*UserRecord, error) {
	username := login.name
	filter, err := encodeFilter(login.filter)
	if err != nil {
		return nil, fmt.Errorf("directory: unable to build the filter to look up %q: %w", username, err)
	}
	conn, _, err := s.connect(ctx, true)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.conn.Close() })
	defer stop()
	req := s.userSearch
	req.filter, req.sizeLimit, req.pageSize = filter, 2, 0
	m := s.newEntryMapper()
	var found []UserRecord
	_, err = conn.searchPage(req, nil, func(dn, attrs string) error {
		u, skip, err := m.user(dn, attrs)
		if err == nil && skip == nil {
			found = append(found, u)
		}
		return err
	})
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, ErrInvalidCredentials // two entries answer to this name: trust neither
	}
	if err != nil {
		return nil, fmt.Errorf("directory: unable to look up %q: %w", username, classify(err))
	}
	if len(found) != 1 {
		return nil, ErrInvalidCredentials
	}
	return &found[0], nil
}

// connect dials the directory, starts TLS when configured and, when bind is
// true, binds as the service account (or stays anonymous without BindDN).
// The servers of the URL setting are tried in order: one that cannot be
// reached, or that says it is unavailable or busy, hands over to the next.
// It returns the URL of the server that answered.
func (s *LDAPSource) connect(ctx context.Context, bind bool) (*wireConn, string, error) {
	var failures []string
	var last error
	for _, srv := range s.servers {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		conn, err := s.connectTo(ctx, srv, bind)
		if err == nil {
			return conn, srv.url, nil
		}
		if !errors.Is(err, ErrUnavailable) {
			return nil, "", err
		}
		failures, last = append(failures, err.Error()), err
	}
	if len(failures) == 1 {
		return nil, "", last
	}
	return nil, "", fmt.Errorf("%w: no directory server answered: %s", ErrUnavailable, strings.Join(failures, "; "))
}

func (s *LDAPSource) connectTo(ctx context.Context, srv server, bind bool) (*wireConn, error) {
	conn, err := dialWire(ctx, srv.url, srv.tls, s.cfg.StartTLS, s.cfg.Timeout)
	if err != nil {
		return nil, fmt.Errorf("directory: unable to connect to %s: %w", srv.url, classify(err))
	}
	if bind && s.cfg.BindDN != "" {
		if err := conn.bind(s.cfg.BindDN, s.cfg.BindPassword); err != nil {
			conn.Close()
			if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
				return nil, fmt.Errorf("directory: the service account %q was refused by %s: wrong BindDN or BindPassword: %w", s.cfg.BindDN, srv.url, err)
			}
			return nil, fmt.Errorf("directory: unable to bind as %q at %s: %w", s.cfg.BindDN, srv.url, classify(err))
		}
	}
	return conn, nil
}

// classify marks the errors of a directory that went away with ErrUnavailable.
func classify(err error) error {
	if ldap.IsErrorAnyOf(err, ldap.ErrorNetwork, ldap.LDAPResultUnavailable, ldap.LDAPResultBusy) ||
		errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// Value slots of an entry, in the order of the attribute map.
const (
	slotUsername = iota
	slotFullName
	slotEmail
	slotDepartment
	slotOffice
	slotPrimaryCard
	slotSecondaryCard
	slotOtherEmails
	slotHomeFolder
	slotAccountControl
	slotAccountExpires
	slotGroupName
	slotGroupMember
	slotGroupMemberUID
	slotCount
)

// entryMapper sorts an entry's attributes into slots. It remembers the
// attribute names as the server spells them, so that most lookups are one
// map access without case folding. One Read owns one mapper.
type entryMapper struct {
	src    *LDAPSource
	now    time.Time        // accountExpires is compared with the start of the read
	byName map[string][]int // server spelling → slots
	// partial lists the attributes of the last entry that the server cut
	// short (ranged values); values resets it.
	partial []partialRange
}

func (s *LDAPSource) newEntryMapper() *entryMapper {
	return &entryMapper{src: s, byName: make(map[string][]int), now: time.Now()}
}

func (m *entryMapper) slotsOf(name string) []int {
	if slots, ok := m.byName[name]; ok {
		return slots
	}
	var slots []int
	for i, a := range m.src.cfg.Attr.fields() {
		if a.value != "" && strings.EqualFold(a.value, name) {
			slots = append(slots, i)
		}
	}
	m.byName[name] = slots
	return slots
}

// values sorts an encoded attribute list (PartialAttributeList) into slots.
func (m *entryMapper) values(attrs string) (*[slotCount]valueSet, error) {
	var v [slotCount]valueSet
	m.partial = m.partial[:0]
	list := berString{attrs}
	for !list.empty() {
		name, set, err := nextAttribute(&list)
		if err != nil {
			return nil, err
		}
		slots := m.slotsOf(name)
		if len(slots) == 0 && strings.Contains(name, ";") {
			base, low, high, ranged, err := rangeOption(name)
			if err != nil {
				return nil, err
			}
			if ranged {
				slots = m.slotsOf(base)
				if len(slots) > 0 && (low != 0 || high >= 0) {
					if low != 0 {
						return nil, fmt.Errorf("attribute %q: the first range must start at 0", name)
					}
					for _, slot := range slots {
						m.partial = append(m.partial, partialRange{slot: slot, attr: base, next: high + 1})
					}
				}
			}
		}
		for _, slot := range slots {
			v[slot] = valueSet(set)
		}
	}
	return &v, nil
}

// nextAttribute reads one PartialAttribute (type and SET OF values) off an
// encoded attribute list.
func nextAttribute(list *berString) (name, set string, err error) {
	attr, err := list.expect(tagSequence)
	if err != nil {
		return "", "", err
	}
	ar := berString{attr}
	if name, err = ar.expect(tagOctetString); err != nil {
		return "", "", err
	}
	if set, err = ar.expect(tagSet); err != nil {
		return "", "", err
	}
	return name, set, nil
}

// user maps a user entry, or says why the entry is skipped. The error is
// for an entry the server encoded wrongly, which fails the read.
func (m *entryMapper) user(dn, attrs string) (UserRecord, *LineError, error) {
	v, err := m.values(attrs)
	if err != nil {
		return UserRecord{}, nil, err
	}
	username, reason := normalizeUsername(v[slotUsername].first())
	if reason != "" {
		return UserRecord{}, &LineError{DN: dn, Field: m.src.cfg.Attr.Username, Reason: reason}, nil
	}
	otherEmails, err := v[slotOtherEmails].all()
	if err != nil {
		return UserRecord{}, nil, err
	}
	u := UserRecord{
		Username:      username,
		FullName:      strings.TrimSpace(v[slotFullName].first()),
		Email:         strings.TrimSpace(v[slotEmail].first()),
		Department:    strings.TrimSpace(v[slotDepartment].first()),
		Office:        strings.TrimSpace(v[slotOffice].first()),
		PrimaryCard:   m.src.card(v[slotPrimaryCard].first()),
		SecondaryCard: m.src.card(v[slotSecondaryCard].first()),
		OtherEmails:   strings.Join(otherEmails, ","),
		HomeFolder:    strings.TrimSpace(v[slotHomeFolder].first()),
		DN:            dn,
	}
	if uac := v[slotAccountControl].first(); uac != "" {
		flags, err := strconv.ParseInt(strings.TrimSpace(uac), 10, 64)
		if err != nil {
			return UserRecord{}, &LineError{DN: dn, Field: m.src.cfg.Attr.AccountControl, Reason: fmt.Sprintf("%q is not a number", uac)}, nil
		}
		if flags&2 != 0 {
			u.Disabled, u.DisabledWhy = true, "userAccountControl marks it disabled"
		}
	}
	if raw := strings.TrimSpace(v[slotAccountExpires].first()); raw != "" && !u.Disabled {
		expires, err := ParseAccountExpires(raw)
		if err != nil {
			return UserRecord{}, &LineError{DN: dn, Field: m.src.cfg.Attr.AccountExpires, Reason: err.Error()}, nil
		}
		if !expires.IsZero() && !expires.After(m.now) {
			u.Disabled, u.DisabledWhy = true, "accountExpires: expired on "+expires.UTC().Format("2006-01-02 15:04 MST")
		}
	}
	return u, nil, nil
}

// ParseAccountExpires reads Active Directory's accountExpires: the zero
// time for never (0 or 9223372036854775807), else the moment it expires.
func ParseAccountExpires(v string) (time.Time, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("%q is not a number of 100 ns steps since 1601", v)
	}
	if n == 0 || n == math.MaxInt64 {
		return time.Time{}, nil
	}
	// 11644473600 seconds lie between 1601-01-01 and 1970-01-01.
	const epochDiff = 11644473600
	return time.Unix(n/1e7-epochDiff, n%1e7*100).UTC(), nil
}

// valueSet is the encoded SET OF values of one attribute.
type valueSet string

// first returns the first value, or "" when there is none or it is malformed.
func (v valueSet) first() string {
	r := berString{string(v)}
	value, err := r.expect(tagOctetString)
	if err != nil {
		return ""
	}
	return value
}

func (v valueSet) each(fn func(string)) error {
	r := berString{string(v)}
	for !r.empty() {
		value, err := r.expect(tagOctetString)
		if err != nil {
			return err
		}
		fn(value)
	}
	return nil
}

func (v valueSet) all() ([]string, error) {
	var values []string
	err := v.each(func(s string) { values = append(values, s) })
	return values, err
}

// card applies CardRegex to a card attribute value.
func (s *LDAPSource) card(v string) string { return ExtractCard(s.cardRegex, v) }

// ExtractCard is the site's card regular expression (user-sync.ldap.card-regex)
// applied to a card number as a directory or a card reader gives it: the
// first group of the first match, or the whole match when the expression
// has no group; "" when it does not match. A nil re only trims spaces.
// The portal's card registration passes numbers through it too, so that a
// number is stored the same way whoever brings it.
func ExtractCard(re *regexp.Regexp, v string) string {
	v = strings.TrimSpace(v)
	if re == nil || v == "" {
		return v
	}
	match := re.FindStringSubmatch(v)
	switch {
	case match == nil:
		return ""
	case len(match) > 1:
		return match[1]
	default:
		return match[0]
	}
}

func normalizeDN(dn string) (string, bool) {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return "", false
	}
	return strings.ToLower(parsed.String()), true
}

// inChainRule is Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: a filter
// (memberOf:1.2.840.113556.1.4.1941:=G) matches the members of G, of the
// groups in G, and so on, evaluated by the domain controller.
const inChainRule = "1.2.840.113556.1.4.1941"

// GroupChecker answers whether one directory entry belongs to one of some
// groups, nested members included, without reading every group.
type GroupChecker interface {
	MemberOfAny(ctx context.Context, dn string, groups []string) (bool, error)
}

// ErrNoInChain is MemberOfAny's answer for a directory that cannot check
// nested membership with one search (not Active Directory, or nested
// groups turned off).
var ErrNoInChain = errors.New("directory: nested group membership can be checked in one search only on Active Directory")

// MemberOfAny reports whether the entry dn is a member of any of the named
// groups (by the group name attribute, under the group base), directly or
// through nested groups, with the in-chain matching rule. It is how a new
// user's first login is checked against "import only members of these
// groups" before any sync has read the groups.
func (s *LDAPSource) MemberOfAny(ctx context.Context, dn string, groups []string) (bool, error) {
	if s.cfg.Preset != PresetActiveDirectory || !s.cfg.NestedGroups || s.cfg.GroupFilter == "" {
		return false, ErrNoInChain
	}
	var names strings.Builder
	for _, g := range groups {
		if g = strings.TrimSpace(g); g != "" {
			names.WriteString("(" + s.cfg.Attr.GroupName + "=" + ldap.EscapeFilter(g) + ")")
		}
	}
	if names.Len() == 0 {
		return false, nil
	}
	groupFilter, err := encodeFilter("(&" + parenthesize(s.cfg.GroupFilter) + "(|" + names.String() + "))")
	if err != nil {
		return false, fmt.Errorf("directory: unable to build the filter of groups %q: %w", groups, err)
	}
	conn, _, err := s.connect(ctx, true)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.conn.Close() })
	defer stop()
	var chain strings.Builder
	_, err = conn.searchPage(searchRequest{base: s.cfg.GroupBaseDN, filter: groupFilter, attrs: []string{"1.1"}, sizeLimit: 1000}, nil,
		func(groupDN, _ string) error {
			chain.WriteString("(memberOf:" + inChainRule + ":=" + ldap.EscapeFilter(groupDN) + ")")
			return nil
		})
	if err != nil {
		return false, fmt.Errorf("directory: unable to find groups %q: %w", groups, classify(err))
	}
	if chain.Len() == 0 {
		return false, nil
	}
	memberFilter, err := encodeFilter("(|" + chain.String() + ")")
	if err != nil {
		return false, fmt.Errorf("directory: unable to build the in-chain filter: %w", err)
	}
	found := false
	_, err = conn.searchPage(searchRequest{base: dn, filter: memberFilter, attrs: []string{"1.1"}, baseScope: true}, nil,
		func(string, string) error { found = true; return nil })
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return false, fmt.Errorf("directory: unable to check the groups of %q: %w", dn, classify(err))
	}
	return found, nil
}
