package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/search"
)

const (
	htmlType = "text/html; charset=utf-8"
	jsonType = "application/json; charset=utf-8"
	// Pages change when the registry is updated or the binary replaced; a
	// short lifetime plus the ETag keeps revalidation cheap.
	pageCC = "public, max-age=300"
	// Local pages show this machine and must not be stored by anyone else.
	localCacheControl = "private, no-cache"
)

// parsePortNum reads a canonical port number: digits only, no sign, 0–65535.
// canon is its canonical spelling ("80" for "080").
func parsePortNum(s string) (n int, canon string, ok bool) {
	// Leading zeros are read as the command line reads them (0080 is 80,
	// redirected to its canonical page); the bound keeps a path of a
	// million zeros from being read at all.
	if s == "" || len(s) > 64 {
		return 0, "", false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, "", false
		}
	}
	if t := strings.TrimLeft(s, "0"); len(t) < len(s) {
		s = cmp.Or(t, "0")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > ports.Max {
		return 0, "", false
	}
	return n, strconv.Itoa(n), true
}

func (s *Site) servePort(w http.ResponseWriter, r *http.Request, l i18n.Lang) {
	seg := r.PathValue("n")
	if a, b, isRange := strings.Cut(seg, "-"); isRange && a != "" {
		lo, ca, ok1 := parsePortNum(a)
		hi, cb, ok2 := parsePortNum(b)
		if !ok1 || !ok2 || lo > hi {
			s.notFound(w, r, l, seg)
			return
		}
		if ca+"-"+cb != seg {
			http.Redirect(w, r, s.rangeHref(l, lo, hi), http.StatusMovedPermanently)
			return
		}
		e, err := s.renderRange(l, lo, hi)
		s.respond(w, r, e, err, pageCC)
		return
	}
	p, canon, ok := parsePortNum(seg)
	if !ok {
		s.notFound(w, r, l, seg)
		return
	}
	if canon != seg {
		http.Redirect(w, r, s.portHref(l, p), http.StatusMovedPermanently)
		return
	}
	thanks := r.URL.RawQuery != "" && r.URL.Query().Get("thanks") == "1"
	if s.fleet != nil {
		// The page differs for a logged-in admin: a browser must not show
		// the public copy it stored once the admin has logged in.
		w.Header().Set("Vary", "Cookie")
		if s.fleet.authed(r) {
			// Rendered for this request only: never cached, no validator,
			// never stored.
			e, err := s.renderPortWith(r.Context(), l, p, thanks, s.fleetPort(r.Context(), l, p))
			s.respond(w, r, e, err, fleetCC)
			return
		}
	}
	e, err := s.renderPort(r.Context(), l, p, thanks)
	cc := pageCC
	if s.local != nil {
		cc = localCacheControl
	}
	s.respond(w, r, e, err, cc)
}

func (s *Site) respond(w http.ResponseWriter, r *http.Request, e *entry, err error, cc string) {
	if err != nil {
		s.opt.Log.Error("rendering page", "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	writeBody(w, r, http.StatusOK, htmlType, cc, e)
}

// rangeRow is one line of a range listing.
type rangeRow struct {
	Port, Href    string
	TCP, UDP      statusView
	Name, Desc    string
	Threats, Uses []string
	// Last and LastHref end a run of rows that say the same thing, shown
	// as one row; Same says how many ports it stands for.
	Last, LastHref, Same string
}

// sameAs reports whether two rows say the same apart from the port.
func (r *rangeRow) sameAs(o *rangeRow) bool {
	return r.TCP == o.TCP && r.UDP == o.UDP && r.Name == o.Name && r.Desc == o.Desc &&
		slices.Equal(r.Threats, o.Threats) && slices.Equal(r.Uses, o.Uses)
}

// minRun is the shortest run of identical rows a listing folds into one.
const minRun = 3

// foldRuns folds each run of at least minRun identical rows into its first
// row, which then names the run's last port and its length.
func foldRuns(l i18n.Lang, rows []rangeRow) []rangeRow {
	var out []rangeRow
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j].sameAs(&rows[i]) {
			j++
		}
		r := rows[i]
		if n := j - i; n >= minRun {
			r.Last, r.LastHref = rows[j-1].Port, rows[j-1].Href
			key := "web.range.same"
			if n == len(rows) {
				key = "web.range.sameall"
			}
			r.Same = i18n.T(l, key, n)
			out = append(out, r)
		} else {
			out = append(out, rows[i:j]...)
		}
		i = j
	}
	return out
}

type rangeView struct {
	Low, High   int
	Heading     string
	Showing     string
	Rows        []rangeRow
	Prev, Next  string
	RangeLabels []rangeLink
}

type rangeLink struct {
	Label, Href string
	Current     bool
}

// renderRange lists low..high, rangePageSize ports a page; the page links to
// the next page of the same span.
func (s *Site) renderRange(l i18n.Lang, low, high int) (*entry, error) {
	key := string(l) + "/ports/" + strconv.Itoa(low) + "-" + strconv.Itoa(high)
	if e := s.cache.get(key); e != nil {
		return e, nil
	}
	T := func(k string, args ...any) string { return i18n.T(l, k, args...) }
	end := min(high, low+rangePageSize-1)
	v := &rangeView{Low: low, High: high, Heading: T("title.range", strconv.Itoa(low), strconv.Itoa(high))}
	v.Showing = T("web.range.showing", strconv.Itoa(low), strconv.Itoa(end), high-low+1)
	for p := low; p <= end; p++ {
		row := rangeRow{Port: strconv.Itoa(p), Href: s.portHref(l, p)}
		for i, pr := range []ports.Proto{ports.TCP, ports.UDP} {
			st := string(s.opt.Registry.StatusOf(p, pr))
			sv := statusView{Proto: pr.String(), Code: st, Label: T("status." + st)}
			if i == 0 {
				row.TCP = sv
			} else {
				row.UDP = sv
			}
		}
		for _, r := range s.opt.Registry.Port(p) {
			if r.Name != "" {
				row.Name, row.Desc = r.Name, dossier.FirstLine(r.Description)
				break
			}
		}
		if s.opt.Intel != nil {
			for _, m := range s.opt.Intel.ForPort(p) {
				if m.Entry.IsThreat() {
					row.Threats = append(row.Threats, entryName(l, m.Entry))
				} else {
					row.Uses = append(row.Uses, entryName(l, m.Entry))
				}
			}
		}
		v.Rows = append(v.Rows, row)
	}
	v.Rows = foldRuns(l, v.Rows)
	if r := ports.RangeOf(low); high == r.High && low-rangePageSize >= r.Low {
		v.Prev = s.rangeHref(l, low-rangePageSize, high)
	}
	if end < high {
		v.Next = s.rangeHref(l, end+1, high)
	}
	for _, r := range ports.Ranges {
		v.RangeLabels = append(v.RangeLabels, rangeLink{Label: T("range."+r.Name) + " " + strconv.Itoa(r.Low) + "–" + strconv.Itoa(r.High),
			Href: s.rangeHref(l, r.Low, r.High), Current: r.Contains(low)})
	}
	pd := s.newPage(l, "/ports/"+strconv.Itoa(low)+"-"+strconv.Itoa(high), v.Heading)
	pd.Description = T("web.desc.range", v.Heading, v.Showing)
	pd.P = v
	b, err := s.tmpl.render("range", pd)
	if err != nil {
		return nil, err
	}
	e := &entry{key: key, body: b, etag: etagOf(b)}
	s.cache.put(e)
	return e, nil
}

// homeView is the home page: the ranges, notable ports and the map.
type homeView struct {
	Ranges      []rangeSummary
	Threats     []notable
	Uses        []notable
	Largest     []notable
	Notable     []notableSection
	Map         any
	Intro       string
	LocalHref   string
	ThreatCount string
	UseCount    string
}

type rangeSummary struct {
	Name, Label, Span, Size, Line, Href string
}

type notable struct {
	Port       int
	Href, Name string
	Note       string
}

func (s *Site) renderHome(l i18n.Lang) (*entry, error) {
	key := string(l) + "/"
	if e := s.cache.get(key); e != nil {
		return e, nil
	}
	T := func(k string, args ...any) string { return i18n.T(l, k, args...) }
	v := &homeView{Map: s.mapHTML(l), Intro: T("web.home.intro", s.stats.Rows)}
	for _, rs := range s.stats.Ranges {
		sum := rangeSummary{Name: rs.Name, Label: T("range." + rs.Name), Span: strconv.Itoa(rs.Low) + "–" + strconv.Itoa(rs.High),
			Size: T("web.home.size", rs.Size), Href: s.rangeHref(l, rs.Low, rs.High)}
		if rs.Name == ports.Dynamic.Name {
			sum.Line = T("context.dynamic", rs.Size)
		} else {
			sum.Line = T("web.home.assigned", rs.Assigned.Any, rs.Size, i18n.Percent(float64(int(float64(rs.Assigned.Any)*1000/float64(rs.Size)+0.5))/10), rs.Ghosts)
		}
		v.Ranges = append(v.Ranges, sum)
	}
	if s.opt.Intel != nil {
		v.Threats, v.Uses = s.notableIntel(l)
		v.Notable = s.notableSections(l)
		v.ThreatCount = T("web.home.threatports", len(s.threatPorts))
		v.UseCount = T("web.home.useports", len(s.usePorts))
	}
	v.Largest = s.largest(l, 8)
	if s.opt.Local {
		v.LocalHref = prefix(l) + "/local"
	}
	pd := s.newPage(l, "/", T("web.home.title"))
	pd.BigSearch = true
	pd.Description = T("web.home.tagline")
	pd.P = v
	b, err := s.tmpl.render("home", pd)
	if err != nil {
		return nil, err
	}
	e := &entry{key: key, body: b, etag: etagOf(b)}
	s.cache.put(e)
	return e, nil
}

// notableIntel picks the ports of high-confidence threats and uses, one line
// per port, by port.
func (s *Site) notableIntel(l i18n.Lang) (threats, uses []notable) {
	seen := map[[2]int]bool{}
	for _, e := range s.opt.Intel.Entries() {
		if e.Confidence != intel.High || e.IsNote() {
			continue // a note names no use of its own
		}
		for _, r := range e.Ports {
			if r.Low != r.High {
				continue
			}
			c := 0
			if e.IsThreat() {
				c = 1
			}
			if seen[[2]int{c, r.Low}] {
				continue
			}
			seen[[2]int{c, r.Low}] = true
			n := notable{Port: r.Low, Href: s.portHref(l, r.Low), Name: entryName(l, &e), Note: i18n.T(l, "web.kindname."+string(e.Kind))}
			if e.IsThreat() {
				threats = append(threats, n)
			} else {
				uses = append(uses, n)
			}
		}
	}
	byPort := func(a, b notable) int { return cmp.Compare(a.Port, b.Port) }
	slices.SortFunc(threats, byPort)
	slices.SortFunc(uses, byPort)
	return limit(threats, 24), limit(uses, 24)
}

func limit(n []notable, k int) []notable {
	if len(n) > k {
		return n[:k]
	}
	return n
}

// largest finds the services whose registry rows span the most port
// numbers.
func (s *Site) largest(l i18n.Lang, k int) []notable {
	type span struct {
		name      string
		low, high int
	}
	var spans []span
	seen := map[string]bool{}
	x := s.opt.Registry
	for i := 0; i < x.Len(); i++ {
		r := x.Row(i)
		if r.Name == "" || !r.Range || seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		spans = append(spans, span{r.Name, r.Low, r.High})
	}
	slices.SortStableFunc(spans, func(a, b span) int {
		if c := cmp.Compare(b.high-b.low, a.high-a.low); c != 0 {
			return c
		}
		return cmp.Compare(a.low, b.low)
	})
	var out []notable
	for _, sp := range spans[:min(k, len(spans))] {
		out = append(out, notable{Port: sp.low, Href: s.portHref(l, sp.low), Name: sp.name,
			Note: i18n.T(l, "web.home.spans", strconv.Itoa(sp.low), strconv.Itoa(sp.high), sp.high-sp.low+1)})
	}
	return out
}

func (s *Site) serveHome(w http.ResponseWriter, r *http.Request, l i18n.Lang) {
	e, err := s.renderHome(l)
	s.respond(w, r, e, err, pageCC)
}

// searchView is the search page.
type searchView struct {
	Q       string
	Summary string
	Hits    []hitView
	More    string
}

type hitView struct {
	Name, Ports, Href, Protocols, Desc, Source string
	DescEn, Threat                             bool
}

const maxWebHits = 100

// entryName is an intel entry's name in l: its Korean name on Korean pages
// when it has one.
func entryName(l i18n.Lang, e *intel.Entry) string {
	if l == i18n.KO && e.NameKO != "" {
		return e.NameKO
	}
	return e.Name
}

// hitName is a hit's name in l: an intel entry's Korean name on Korean
// pages, and the "(reserved)" that search gives a registry row without a
// name translated.

func hitName(l i18n.Lang, h search.Hit) string {
	if l == i18n.KO && h.NameKO != "" {
		return h.NameKO
	}
	name := h.Name
	if k, ok := strings.CutPrefix(name, "("); ok && strings.HasSuffix(k, ")") {
		return "(" + i18n.T(l, "web.kind."+strings.TrimSuffix(k, ")")) + ")"
	}
	return name
}

// maxQuery bounds a search query, in bytes.
const maxQuery = 200

// cleanQuery is the search page's query: invalid UTF-8 replaced by U+FFFD
// (it is shown back on the page), surrounding space trimmed, and cut to
// maxQuery bytes on a character boundary.
func cleanQuery(q string) string {
	q = strings.TrimSpace(strings.ToValidUTF8(q, "\uFFFD"))
	if len(q) <= maxQuery {
		return q
	}
	cut := maxQuery
	for cut > 0 && !utf8.RuneStart(q[cut]) {
		cut--
	}
	return strings.TrimSpace(q[:cut])
}

func (s *Site) serveSearch(w http.ResponseWriter, r *http.Request, l i18n.Lang) {
	q := cleanQuery(r.URL.Query().Get("q"))
	// A port number is a page of its own.
	if spec, err := ports.ParseSpec(q); err == nil && !spec.IsService() && spec.Low == spec.High {
		http.Redirect(w, r, s.portHref(l, spec.Low), http.StatusFound)
		return
	}
	T := func(k string, args ...any) string { return i18n.T(l, k, args...) }
	v := &searchView{Q: q}
	title := T("web.search.title")
	var hits []search.Hit
	if q != "" {
		hits = search.Find(s.opt.Registry, s.opt.Intel, q)
		title = T("web.search.titleq", q)
		v.Summary = T("web.search.count", len(hits), q)
		if len(hits) == 0 {
			v.Summary = T("web.search.none", q)
		}
	} else {
		v.Summary = T("web.search.empty")
	}
	for i, h := range hits {
		if i == maxWebHits {
			v.More = T("web.search.more", len(hits)-maxWebHits)
			break
		}
		hv := hitView{Name: hitName(l, h), Ports: h.Ports, Protocols: strings.Join(h.Protocols, ", "), Desc: dossier.FirstLine(h.Description),
			DescEn: l != i18n.EN, Threat: h.Source == "intel" && h.Kind != "" && intel.Kind(h.Kind).Category() == intel.Threat}
		if h.Source == "intel" {
			hv.Source = T("web.kindname." + h.Kind)
		}
		if h.Ports != "-" {
			hv.Href = s.portHref(l, h.Port)
		}
		v.Hits = append(v.Hits, hv)
	}
	pd := s.newPage(l, "/search", title)
	pd.BigSearch = true
	pd.Query = q
	pd.Description = T("web.home.tagline")
	pd.P = v
	b, err := s.tmpl.render("search", pd)
	if err != nil {
		s.respond(w, r, nil, err, "")
		return
	}
	writeBody(w, r, http.StatusOK, htmlType, "no-cache", &entry{body: b, etag: etagOf(b)})
}

// statsView is the statistics page.
type statsView struct {
	Intro    string
	Ranges   []statsRange
	Protos   []statsProto
	Chart    any
	Intel    []string
	RowsLine string
}

type statsRange struct {
	Label, Span, Size                   string
	TCP, UDP, SCTP, DCCP, Any           string
	Reserved, Unassigned, Ghosts, Share string
}

type statsProto struct {
	Proto, Rows string
	Assigned    []string
}

func (s *Site) renderStats(l i18n.Lang) (*entry, error) {
	key := string(l) + "/stats"
	if e := s.cache.get(key); e != nil {
		return e, nil
	}
	T := func(k string, args ...any) string { return i18n.T(l, k, args...) }
	N := func(n int) string { return i18n.Num(l, n) }
	st := s.stats
	v := &statsView{Intro: T("web.stats.intro", st.Rows, st.NameOnly, st.RangeRows)}
	for _, r := range st.Ranges {
		v.Ranges = append(v.Ranges, statsRange{Label: T("range." + r.Name), Span: strconv.Itoa(r.Low) + "–" + strconv.Itoa(r.High),
			Size: N(r.Size), TCP: N(r.Assigned.TCP), UDP: N(r.Assigned.UDP), SCTP: N(r.Assigned.SCTP), DCCP: N(r.Assigned.DCCP),
			Any: N(r.Assigned.Any), Reserved: N(r.Reserved.TCP), Unassigned: N(r.Unassigned.TCP), Ghosts: N(r.Ghosts),
			Share: i18n.Pct(l, float64(int(float64(r.Assigned.Any)*1000/float64(r.Size)+0.5))/10)})
	}
	for _, p := range ports.Protos {
		sp := statsProto{Proto: p.String(), Rows: N(st.ByProtocol.Get(p))}
		for _, r := range st.Ranges {
			sp.Assigned = append(sp.Assigned, N(r.Assigned.Get(p)))
		}
		v.Protos = append(v.Protos, sp)
	}
	v.RowsLine = T("web.stats.noproto", N(st.ByProtocol.Any))
	v.Chart = s.statsChart(l)
	if s.opt.Intel != nil {
		v.Intel = []string{
			T("web.stats.intel", len(s.opt.Intel.Entries())),
			T("web.home.threatports", len(s.threatPorts)),
			T("web.home.useports", len(s.usePorts)),
		}
	}
	pd := s.newPage(l, "/stats", T("web.stats.title"))
	pd.Description = v.Intro
	pd.P = v
	b, err := s.tmpl.render("stats", pd)
	if err != nil {
		return nil, err
	}
	e := &entry{key: key, body: b, etag: etagOf(b)}
	s.cache.put(e)
	return e, nil
}

func (s *Site) serveStats(w http.ResponseWriter, r *http.Request, l i18n.Lang) {
	e, err := s.renderStats(l)
	s.respond(w, r, e, err, pageCC)
}

type localPage struct {
	Rows    []localRow
	Summary string
	Err     string
}

func (s *Site) serveLocal(w http.ResponseWriter, r *http.Request, l i18n.Lang) {
	if s.local == nil {
		s.notFound(w, r, l, "")
		return
	}
	res := s.local.get(r.Context(), AllPorts, AllPorts)
	v := &localPage{Rows: res.Rows, Summary: i18n.T(l, "web.local.count", len(res.Rows))}
	if res.Err != "" {
		v.Err = i18n.T(l, "here.error", res.Err)
	}
	pd := s.newPage(l, "/local", i18n.T(l, "web.local.title"))
	pd.P = v
	b, err := s.tmpl.render("local", pd)
	if err != nil {
		s.respond(w, r, nil, err, "")
		return
	}
	writeBody(w, r, http.StatusOK, htmlType, localCacheControl, &entry{body: b, etag: etagOf(b)})
}

// notFoundView is the 404 page: what was wrong, and where to go instead.
type notFoundView struct {
	Message string
	Q       string
	Hits    []hitView
}

func (s *Site) serveNotFound(w http.ResponseWriter, r *http.Request, l i18n.Lang) {
	s.notFound(w, r, l, "")
}

// notFound answers 404 with the search box; seg is the bad port segment, if
// any, which is also searched for.
func (s *Site) notFound(w http.ResponseWriter, r *http.Request, l i18n.Lang, seg string) {
	T := func(k string, args ...any) string { return i18n.T(l, k, args...) }
	v := &notFoundView{Message: T("web.404.page")}
	if seg != "" {
		v.Message = T("web.404.port", seg)
		if n, err := strconv.Atoi(seg); err == nil && (n < 0 || n > ports.Max) {
			v.Message = T("web.404.range", seg)
		} else if err != nil && len(seg) <= 64 {
			v.Q = seg
			for i, h := range search.Find(s.opt.Registry, s.opt.Intel, seg) {
				if i == 10 {
					break
				}
				hv := hitView{Name: hitName(l, h), Ports: h.Ports, Desc: dossier.FirstLine(h.Description), DescEn: l != i18n.EN}
				if h.Ports != "-" {
					hv.Href = s.portHref(l, h.Port)
				}
				v.Hits = append(v.Hits, hv)
			}
		}
	}
	b, err := s.renderNotFound(l, v)
	if err != nil {
		s.respond(w, r, nil, err, "")
		return
	}
	writeBody(w, r, http.StatusNotFound, htmlType, "no-cache", &entry{body: b})
}

// notFoundPage is the plain 404 page, for the static export.
func (s *Site) notFoundPage(l i18n.Lang, _ string) ([]byte, error) {
	return s.renderNotFound(l, &notFoundView{Message: i18n.T(l, "web.404.page")})
}

func (s *Site) renderNotFound(l i18n.Lang, v *notFoundView) ([]byte, error) {
	pd := s.newPage(l, "/", i18n.T(l, "web.404.title"))
	pd.BigSearch = true
	pd.Query = v.Q
	pd.P = v
	return s.tmpl.render("notfound", pd)
}

// serveAPIPort is /api/v1/ports/{n}: the dossier exactly as `porthole info
// --json` prints one element.
func (s *Site) serveAPIPort(w http.ResponseWriter, r *http.Request) {
	p, canon, ok := parsePortNum(r.PathValue("n"))
	if !ok {
		apiError(w, http.StatusNotFound, "not a port number: "+r.PathValue("n")+" (ports are 0-65535)")
		return
	}
	if canon != r.PathValue("n") {
		http.Redirect(w, r, "/api/v1/ports/"+canon, http.StatusMovedPermanently)
		return
	}
	key := "api/ports/" + canon
	e := s.cache.get(key)
	if e == nil || s.opt.Local {
		b, err := marshalJSON(dossier.Build(p, s.sources()))
		if err != nil {
			apiError(w, http.StatusInternalServerError, "internal error")
			return
		}
		e = &entry{key: key, body: b, etag: etagOf(b)}
		s.cache.put(e)
	}
	writeBody(w, r, http.StatusOK, jsonType, pageCC, e)
}

// marshalJSON encodes v as `porthole info --json` does: indented, no HTML
// escaping, with a final newline.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func apiError(w http.ResponseWriter, status int, msg string) {
	b, _ := marshalJSON(map[string]string{"error": msg})
	w.Header().Set("Content-Type", jsonType)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Site) serveAPISearch(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		apiError(w, http.StatusBadRequest, "missing q")
		return
	}
	if len(q) > maxQuery {
		apiError(w, http.StatusBadRequest, "q is longer than 200 bytes")
		return
	}
	if !utf8.ValidString(q) {
		apiError(w, http.StatusBadRequest, "q is not valid UTF-8")
		return
	}
	n := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 0 {
			apiError(w, http.StatusBadRequest, "limit must be 0 (all) or more")
			return
		}
		n = k
	}
	hits := search.Find(s.opt.Registry, s.opt.Intel, q)
	if hits == nil {
		hits = []search.Hit{}
	}
	if n > 0 && len(hits) > n {
		hits = hits[:n]
	}
	b, err := marshalJSON(hits)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "internal error")
		return
	}
	writeBody(w, r, http.StatusOK, jsonType, "public, max-age=300", &entry{body: b, etag: etagOf(b)})
}
