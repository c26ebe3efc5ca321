package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/fleet/fleetapi"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/webguard"
)

// FleetOptions enable the fleet site (docs/fleet.md): /fleet, /fleet/hosts/{name},
// the login form at /fleet/login (and the Korean pages under /ko), and, for a
// logged-in admin, the "In your fleet" section of the port pages. A session
// cookie authorises these pages only, never the fleet API.
type FleetOptions struct {
	DB *fleetdb.DB
	// Admin checks the token typed into the login form; it should share its
	// throttle with the fleet API's, so that failed logins and failed bearer
	// tokens count together.
	Admin *webguard.BearerAuth
	// Sessions holds the logged-in sessions; nil makes a table with
	// webguard's defaults (12 hours) on Options.Now.
	Sessions *webguard.Sessions
	// TrustProxy takes the client address (for the throttle) from
	// X-Forwarded-For and TLS from X-Forwarded-Proto.
	TrustProxy bool
}

// Fleet page limits: the newest changes /fleet shows, and a host page's;
// the rows of any other table (a fleet of 10,000 hosts would otherwise send
// them all; the API lists everything).
const (
	fleetChanges     = 50
	fleetHostChanges = 100
	fleetRows        = 500
	// maxLoginForm bounds the login form's body: a token and a language.
	maxLoginForm = 4 << 10
	// fleetCC is the Cache-Control of every fleet page: only this browser,
	// and not even it, may store fleet data.
	fleetCC = "private, no-store"
)

// siteFleet is a Site's fleet part.
type siteFleet struct {
	FleetOptions
}

func newSiteFleet(o *FleetOptions, now func() time.Time) *siteFleet {
	if o == nil || o.DB == nil || o.Admin == nil {
		return nil
	}
	f := &siteFleet{FleetOptions: *o}
	if f.Sessions == nil {
		f.Sessions = webguard.NewSessions(0, 0, now)
	}
	return f
}

// authed reports whether r carries a live session cookie.
func (f *siteFleet) authed(r *http.Request) bool {
	_, ok := f.Sessions.FromRequest(r)
	return ok
}

// fleetRoutes adds the fleet pages to mux for the language prefix p.
func (s *Site) fleetRoutes(mux *http.ServeMux, l i18n.Lang) {
	p := prefix(l)
	mux.HandleFunc("GET "+p+"/fleet", s.lang(l, s.serveFleet))
	mux.HandleFunc("GET "+p+"/fleet/hosts/{name}", s.lang(l, s.serveFleetHost))
	mux.HandleFunc("GET "+p+"/fleet/login", s.lang(l, s.serveLogin))
	mux.HandleFunc("POST "+p+"/fleet/login", s.lang(l, s.postLogin))
	mux.HandleFunc("POST "+p+"/fleet/logout", s.lang(l, s.postLogout))
}

// fleetPageTime formats an instant of the inventory for a page: UTC, to the
// minute, the same in both languages; iso is for <time datetime>.
func fleetPageTime(t time.Time) (text, iso string) {
	if t.IsZero() {
		return "", ""
	}
	t = t.UTC()
	return t.Format("2006-01-02 15:04 UTC"), t.Format(time.RFC3339)
}

type fleetHostRow struct {
	Name, Href, Group string
	LastSeen, SeenISO string
	Listeners         int
	State, StateCode  string
}

type fleetListenerRow struct {
	Host, HostHref, State           string
	Proto, Addr, Port, PortHref     string
	NetNS, PID, Process, User       string
	Exe, Container, Since, SinceISO string
}

type fleetChangeRow struct {
	Time, ISO, Host, Href, Kind, What string
}

type fleetOutlierRow struct {
	Group, What, PortHref, Exe, Share string
	Hosts                             []fleetLink
}

type fleetLink struct{ Name, Href string }

type fleetFindingRow struct {
	Severity, SevLabel, Host, Href  string
	Rule, Where, Reason, Since, ISO string
}

// fleetPage is /fleet.
type fleetPage struct {
	Summary, StaleNote, OutliersIntro string
	Hosts                             []fleetHostRow
	Stale                             []fleetLink
	Changes                           []fleetChangeRow
	Outliers                          []fleetOutlierRow
	Findings                          []fleetFindingRow
	// HostsMore, StaleMore, FindingsMore say a list was cut at fleetRows.
	HostsMore, StaleMore, FindingsMore string
}

// fleetHostPage is /fleet/hosts/{name}.
type fleetHostPage struct {
	Facts     []fieldView
	State     string
	Summary   string
	Listeners []fleetListenerRow
	Findings  []fleetFindingRow
	Changes   []fleetChangeRow
	// ListenersMore, FindingsMore say a list was cut at fleetRows.
	ListenersMore, FindingsMore string
}

// fleetPortView is the port page's "In your fleet" section.
type fleetPortView struct {
	Sentence string
	Err      string
	Rows     []fleetListenerRow
	More     string // the rows were cut at fleetRows
}

// capped keeps the first fleetRows of rows and, when it cuts, returns the
// note that says so and which API path lists them all.
func capped[T any](l i18n.Lang, rows []T, api string) ([]T, string) {
	if len(rows) <= fleetRows {
		return rows, ""
	}
	return rows[:fleetRows], i18n.T(l, "web.fleet.more", fleetRows, len(rows), api)
}

// loginPage is /fleet/login.
type loginPage struct {
	Err, Intro, Action string
}

func (s *Site) fleetHostHref(l i18n.Lang, name string) string {
	return prefix(l) + "/fleet/hosts/" + name
}

// hostState is a host's state label and its code (for the chip's class).
func hostState(l i18n.Lang, h fleetdb.Host, now time.Time) (label, code string) {
	switch {
	case h.Revoked:
		code = "revoked"
	case h.LastSeen.IsZero():
		code = "new"
	case h.Stale(now):
		code = "stale"
	default:
		code = "ok"
	}
	return i18n.T(l, "web.fleet.state."+code), code
}

func (s *Site) listenerRow(l i18n.Lang, hl fleetdb.HostListener, state string) fleetListenerRow {
	r := fleetListenerRow{Host: hl.Host, HostHref: s.fleetHostHref(l, hl.Host), State: state,
		Proto: hl.Proto.String(), Addr: hl.Addr.String(), Port: strconv.Itoa(int(hl.Port)), PortHref: s.portHref(l, int(hl.Port)),
		NetNS: hl.NetNS, Process: hl.Process, User: hl.User, Exe: hl.Exe, Container: hl.Container}
	if hl.PID > 0 {
		r.PID = strconv.Itoa(hl.PID)
	}
	if r.User == "" && hl.UID >= 0 {
		r.User = strconv.Itoa(hl.UID)
	}
	r.Since, r.SinceISO = fleetPageTime(hl.Since)
	return r
}

func (s *Site) changeRow(l i18n.Lang, c fleetdb.Change) fleetChangeRow {
	r := fleetChangeRow{Host: c.Host, Href: s.fleetHostHref(l, c.Host), Kind: i18n.T(l, "web.fleet.kind."+string(c.Kind))}
	r.Time, r.ISO = fleetPageTime(c.Time)
	switch c.Kind {
	case fleetdb.Added, fleetdb.Removed, fleetdb.Changed:
		r.What = c.Listener.Key.String()
		if c.Listener.Process != "" {
			r.What += " " + c.Listener.Process
		}
		if c.Listener.Exe != "" {
			r.What += " (" + c.Listener.Exe + ")"
		}
	default:
		r.What = c.Detail
	}
	return r
}

func (s *Site) findingRow(l i18n.Lang, f fleetdb.HostFinding) fleetFindingRow {
	r := fleetFindingRow{Severity: f.Severity, SevLabel: i18n.T(l, "web.fleet.sev."+f.Severity), Host: f.Host,
		Href: s.fleetHostHref(l, f.Host), Rule: f.Rule, Reason: f.Reason}
	if f.Proto != 0 {
		r.Where = f.Key.String()
	}
	r.Since, r.ISO = fleetPageTime(f.Since)
	return r
}

// fleetError logs a failure of the inventory and answers 503.
func (s *Site) fleetError(w http.ResponseWriter, r *http.Request, err error) {
	s.opt.Log.Error("fleet page", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "5")
	webguard.Error(w, http.StatusServiceUnavailable)
}

// fleetHeaders are the headers of every fleet response: never stored, and
// not for search engines (the login page of a public site included).
func fleetHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", fleetCC)
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
}

// needSession sends a request without a session to the login page (303)
// and reports whether it had one.
func (s *Site) needSession(w http.ResponseWriter, r *http.Request, l i18n.Lang) bool {
	fleetHeaders(w)
	if s.fleet.authed(r) {
		return true
	}
	http.Redirect(w, r, prefix(l)+"/fleet/login", http.StatusSeeOther)
	return false
}

// writeFleet sends a rendered fleet page: private, never stored.
func (s *Site) writeFleet(w http.ResponseWriter, r *http.Request, status int, name string, pd *pageData) {
	b, err := s.tmpl.render(name, pd)
	if err != nil {
		s.respond(w, r, nil, err, "")
		return
	}
	writeBody(w, r, status, htmlType, fleetCC, &entry{body: b})
}

func (s *Site) serveFleet(w http.ResponseWriter, r *http.Request, l i18n.Lang) {
	if !s.needSession(w, r, l) {
		return
	}
	v, err := s.fleetPage(r.Context(), l)
	if err != nil {
		s.fleetError(w, r, err)
		return
	}
	pd := s.newPage(l, "/fleet", i18n.T(l, "web.fleet.title"))
	pd.P = v
	s.writeFleet(w, r, http.StatusOK, "fleet", pd)
}

func (s *Site) fleetPage(ctx context.Context, l i18n.Lang) (*fleetPage, error) {
	db := s.fleet.DB
	hs, err := db.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	v := &fleetPage{}
	stale := 0
	for _, h := range hs {
		row := fleetHostRow{Name: h.Name, Href: s.fleetHostHref(l, h.Name), Group: h.Group, Listeners: h.Listeners}
		if row.Group == "" {
			row.Group = i18n.T(l, "web.fleet.group.none")
		}
		row.LastSeen, row.SeenISO = fleetPageTime(h.LastSeen)
		if row.LastSeen == "" {
			row.LastSeen = i18n.T(l, "web.fleet.never")
		}
		row.State, row.StateCode = hostState(l, h, now)
		if row.StateCode == "stale" {
			stale++
			v.Stale = append(v.Stale, fleetLink{h.Name, row.Href})
		}
		v.Hosts = append(v.Hosts, row)
	}
	v.Summary = i18n.T(l, "web.fleet.summary", len(hs), stale)
	v.StaleNote = i18n.T(l, "web.fleet.stale.note", fleet.StaleAfter)
	v.OutliersIntro = i18n.T(l, "web.fleet.outliers.intro", i18n.Pct(l, fleetdb.OutlierShare*100), fleetdb.MinOutlierHosts)
	cs, err := db.Changes(ctx, "", 0, fleetChanges)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		v.Changes = append(v.Changes, s.changeRow(l, c))
	}
	outs, err := db.Outliers(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range outs {
		row := fleetOutlierRow{Group: o.Group, What: o.Proto.String() + "/" + strconv.Itoa(int(o.Port)),
			PortHref: s.portHref(l, int(o.Port)), Exe: o.Exe, Share: i18n.T(l, "web.fleet.outlier.share", len(o.Hosts), o.Of)}
		if row.Group == "" {
			row.Group = i18n.T(l, "web.fleet.group.none")
		}
		for _, h := range o.Hosts {
			row.Hosts = append(row.Hosts, fleetLink{h, s.fleetHostHref(l, h)})
		}
		v.Outliers = append(v.Outliers, row)
	}
	fs, err := db.Findings(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		v.Findings = append(v.Findings, s.findingRow(l, f))
	}
	v.Hosts, v.HostsMore = capped(l, v.Hosts, fleetapi.Prefix+"hosts")
	v.Stale, v.StaleMore = capped(l, v.Stale, fleetapi.Prefix+"hosts")
	v.Findings, v.FindingsMore = capped(l, v.Findings, fleetapi.Prefix+"findings")
	return v, nil
}

func (s *Site) serveFleetHost(w http.ResponseWriter, r *http.Request, l i18n.Lang) {
	if !s.needSession(w, r, l) {
		return
	}
	name := r.PathValue("name")
	if fleet.ValidName(name) != nil {
		// Not a host name: the page does not say what was asked for.
		s.notFound(w, r, l, "")
		return
	}
	v, title, err := s.fleetHostPage(r.Context(), l, name)
	switch {
	case errors.Is(err, fleetdb.ErrUnknownHost):
		s.notFound(w, r, l, "")
		return
	case err != nil:
		s.fleetError(w, r, err)
		return
	}
	pd := s.newPage(l, "/fleet/hosts/"+name, title)
	pd.P = v
	s.writeFleet(w, r, http.StatusOK, "fleethost", pd)
}

func (s *Site) fleetHostPage(ctx context.Context, l i18n.Lang, name string) (*fleetHostPage, string, error) {
	db := s.fleet.DB
	ls, err := db.HostListeners(ctx, name)
	if err != nil {
		return nil, "", err
	}
	hs, err := db.Hosts(ctx)
	if err != nil {
		return nil, "", err
	}
	var h fleetdb.Host
	found := false
	for _, x := range hs {
		if x.Name == name {
			h, found = x, true
		}
	}
	if !found {
		return nil, "", fleetdb.ErrUnknownHost
	}
	T := func(k string, args ...any) string { return i18n.T(l, k, args...) }
	v := &fleetHostPage{}
	state, _ := hostState(l, h, s.now())
	v.State = state
	seen, _ := fleetPageTime(h.LastSeen)
	if seen == "" {
		seen = T("web.fleet.never")
	}
	created, _ := fleetPageTime(h.Created)
	group := h.Group
	if group == "" {
		group = T("web.fleet.group.none")
	}
	v.Facts = []fieldView{
		{Label: T("web.fleet.col.state"), Value: state},
		{Label: T("web.fleet.col.group"), Value: group},
		{Label: T("web.fleet.col.lastseen"), Value: seen},
		{Label: T("web.fleet.field.created"), Value: created},
	}
	if h.Interval > 0 {
		v.Facts = append(v.Facts, fieldView{Label: T("web.fleet.field.interval"), Value: T("web.fleet.seconds", int(h.Interval/time.Second))})
	}
	v.Facts = append(v.Facts,
		fieldView{Label: T("web.fleet.field.reports"), Value: i18n.Num(l, int(h.Reports))},
		fieldView{Label: T("web.fleet.field.gaps"), Value: i18n.Num(l, int(h.Gaps))})
	v.Summary = T("web.local.count", len(ls))
	for _, hl := range ls {
		v.Listeners = append(v.Listeners, s.listenerRow(l, hl, ""))
	}
	fs, err := db.Findings(ctx, name)
	if err != nil {
		return nil, "", err
	}
	for _, f := range fs {
		v.Findings = append(v.Findings, s.findingRow(l, f))
	}
	cs, err := db.Changes(ctx, name, 0, fleetHostChanges)
	if err != nil {
		return nil, "", err
	}
	for _, c := range cs {
		v.Changes = append(v.Changes, s.changeRow(l, c))
	}
	v.Listeners, v.ListenersMore = capped(l, v.Listeners, fleetapi.Prefix+"hosts/"+name)
	v.Findings, v.FindingsMore = capped(l, v.Findings, fleetapi.Prefix+"findings?host="+name)
	return v, T("web.fleet.host.title", name), nil
}

// fleetPort is the "In your fleet" section of port p: the sentence is
// computed from the inventory (hosts with a listener on p, of all hosts).
func (s *Site) fleetPort(ctx context.Context, l i18n.Lang, p int) *fleetPortView {
	v := &fleetPortView{}
	ls, err := s.fleet.DB.Port(ctx, p)
	var hs []fleetdb.Host
	if err == nil {
		hs, err = s.fleet.DB.Hosts(ctx)
	}
	if err != nil {
		s.opt.Log.Error("fleet section of a port page", "port", p, "err", err)
		v.Err = i18n.T(l, "web.fleet.error")
		return v
	}
	now := s.now()
	states := make(map[string]string, len(hs))
	for _, h := range hs {
		if label, code := hostState(l, h, now); code != "ok" {
			states[h.Name] = label
		}
	}
	seen := map[string]bool{}
	for _, hl := range ls {
		seen[hl.Host] = true
		v.Rows = append(v.Rows, s.listenerRow(l, hl, states[hl.Host]))
	}
	port := strconv.Itoa(p)
	switch {
	case len(hs) == 0:
		v.Sentence = i18n.T(l, "web.fleet.port.empty")
	case len(seen) == 0:
		v.Sentence = i18n.T(l, "web.fleet.port.none", port, len(hs))
	default:
		v.Sentence = i18n.T(l, "web.fleet.port", port, len(seen), len(hs))
	}
	v.Rows, v.More = capped(l, v.Rows, fleetapi.Prefix+"ports/"+port)
	return v
}

func (s *Site) serveLogin(w http.ResponseWriter, r *http.Request, l i18n.Lang) {
	fleetHeaders(w)
	if s.fleet.authed(r) {
		http.Redirect(w, r, prefix(l)+"/fleet", http.StatusSeeOther)
		return
	}
	s.writeLogin(w, r, l, http.StatusOK, "")
}

func (s *Site) writeLogin(w http.ResponseWriter, r *http.Request, l i18n.Lang, status int, msg string) {
	pd := s.newPage(l, "/fleet/login", i18n.T(l, "web.fleet.login.title"))
	pd.P = &loginPage{Err: msg, Action: prefix(l) + "/fleet/login",
		Intro: i18n.T(l, "web.fleet.login.intro", int(s.fleet.Sessions.TTL()/time.Hour))}
	s.writeFleet(w, r, status, "fleetlogin", pd)
}

func (s *Site) postLogin(w http.ResponseWriter, r *http.Request, l i18n.Lang) {
	fleetHeaders(w)
	if !webguard.SameOrigin(r, s.fleet.TrustProxy) {
		webguard.Error(w, http.StatusForbidden)
		return
	}
	if r.ContentLength > maxLoginForm {
		webguard.Error(w, http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			webguard.Error(w, http.StatusRequestEntityTooLarge)
			return
		}
		webguard.Error(w, http.StatusBadRequest)
		return
	}
	client := webguard.ClientAddr(r, s.fleet.TrustProxy)
	res, wait := s.fleet.Admin.Check(strings.TrimSpace(r.PostForm.Get("token")), client)
	switch res {
	case webguard.Granted:
		id, exp := s.fleet.Sessions.Create()
		http.SetCookie(w, webguard.Cookie(id, exp.Sub(s.now()), webguard.IsTLS(r, s.fleet.TrustProxy)))
		s.opt.Log.Info("fleet login", "client", client.String())
		http.Redirect(w, r, prefix(l)+"/fleet", http.StatusSeeOther)
	case webguard.Throttled:
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		s.writeLogin(w, r, l, http.StatusTooManyRequests, i18n.T(l, "web.fleet.login.throttled", max(secs, 1)))
	default:
		s.opt.Log.Warn("fleet login with a wrong token", "client", client.String())
		s.writeLogin(w, r, l, http.StatusUnauthorized, i18n.T(l, "web.fleet.login.failed"))
	}
}

func (s *Site) postLogout(w http.ResponseWriter, r *http.Request, l i18n.Lang) {
	fleetHeaders(w)
	if !webguard.SameOrigin(r, s.fleet.TrustProxy) {
		webguard.Error(w, http.StatusForbidden)
		return
	}
	if id, ok := s.fleet.Sessions.FromRequest(r); ok {
		s.fleet.Sessions.Delete(id)
	}
	http.SetCookie(w, webguard.Cookie("", 0, webguard.IsTLS(r, s.fleet.TrustProxy)))
	http.Redirect(w, r, prefix(l)+"/fleet/login", http.StatusSeeOther)
}
