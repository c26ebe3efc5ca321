package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/web/internal/tmplrt"
)

// portView is the port page's view model: the dossier with its prose
// rendered in the page's language.
type portView struct {
	D         *dossier.Dossier
	PortStr   string
	RangeLine string
	Status    []statusView
	RowsText  string
	NoRows    string
	Ghost     string
	Services  []serviceView
	Threats   []intelView
	Relevance []string // how much the threats weigh, as info says it
	Uses      []intelView
	Checks    []checkView
	Context   []string
	Position  string
	Ephemeral string
	Strip     template.HTML
	RangeHref string
	RangeName string
	Prev      *neighbourView
	Next      *neighbourView
	SameLabel string
	Same      []neighbourView
	Local     *localView
	Fleet     *fleetPortView // for a logged-in admin only; never cached or exported
	Feedback  bool
	Thanks    bool
}

type statusView struct{ Proto, Code, Label string }

type fieldView struct {
	Label, Value string
	En           bool // the value is English text from the registry
}

type serviceView struct {
	Name, Port, Proto, Description string
	// Fields are the row's filled fields; Missing names the empty ones of
	// assignee, contact and reference in one line ("no assignee, contact
	// or reference"). Other empty fields are common and say nothing.
	Fields  []fieldView
	Missing string
	Notes   []int
	Unauth  string
}

type intelView struct {
	ID, Name, Facts, Aliases string
	Description              string
	DescEn                   bool
	Registry                 string // generated from the registry, in the page's language
	Legit                    string
	LegitEn                  bool
	Confidence               string
	Notes                    []int
}

type checkView struct{ ID, Label, Cmd string }

type neighbourView struct {
	Port int
	Name string
	Href string
}

type localView struct {
	Rows  []localRow
	None  string
	Err   string
	Range string
}

func (s *Site) portHref(l i18n.Lang, p int) string {
	return prefix(l) + "/ports/" + strconv.Itoa(p) + s.ext()
}

// ext is what links to pages end with: "" on the served site, whose URLs
// have no extension, and ".html" in an export, whose files have one, so
// that a plain static file server finds the file a link names.
func (s *Site) ext() string {
	if s.opt.Static {
		return ".html"
	}
	return ""
}

// rangePage is the canonical listing page that holds port p: pages start at
// the range's low end and step by rangePageSize, and run to the range's end.
func rangePage(p int) (low, high int) {
	r := ports.RangeOf(p)
	return r.Low + (p-r.Low)/rangePageSize*rangePageSize, r.High
}

func (s *Site) rangeHref(l i18n.Lang, low, high int) string {
	return prefix(l) + "/ports/" + strconv.Itoa(low) + "-" + strconv.Itoa(high) + s.ext()
}

// portView builds the view of port p in l; local is nil without local mode.
func (s *Site) portView(l i18n.Lang, d *dossier.Dossier, local *localResult) *portView {
	T := func(key string, args ...any) string { return i18n.T(l, key, args...) }
	p := d.Port
	v := &portView{D: d, PortStr: strconv.Itoa(p), Feedback: !s.opt.Static}
	v.RangeName = T("range." + d.Range.Name)
	v.RangeLine = T("range.line", v.RangeName, strconv.Itoa(d.Range.Low), strconv.Itoa(d.Range.High), d.Range.Size)
	for _, pr := range ports.Protos {
		st := d.Status[pr.String()]
		v.Status = append(v.Status, statusView{Proto: pr.String(), Code: st, Label: T("status." + st)})
	}
	switch {
	case len(d.Services) == 0 && d.Range.Name == ports.Dynamic.Name:
		v.NoRows = T("what.dynamic")
	case len(d.Services) == 0:
		v.NoRows = T("what.norows")
	default:
		v.RowsText = T("what.rows", len(d.Services))
	}
	if d.Ghost {
		v.Ghost = T("what.ghost")
	}
	for _, sv := range d.Services {
		x := serviceView{Name: sv.Name, Port: sv.Port, Proto: sv.Protocol, Description: sv.Description,
			Notes: sv.Footnotes, Unauth: sv.UnauthorizedUse}
		if x.Name == "" {
			x.Name = "(" + T("web.kind."+sv.Kind) + ")"
		}
		if strings.EqualFold(strings.TrimSpace(x.Description), x.Name) {
			x.Description = "" // says the name again
		}
		if x.Proto == "" {
			x.Proto = T("web.proto.any")
		}
		var missing []string
		for _, f := range []struct {
			key, val string
			en, say  bool
		}{
			{"field.assignee", sv.Assignee, true, true}, {"field.contact", sv.Contact, true, true},
			{"field.registered", sv.Registered, false, false}, {"field.modified", sv.Modified, false, false},
			{"field.reference", sv.Reference, true, true}, {"field.code", sv.ServiceCode, true, false},
			{"field.unauth", sv.UnauthorizedUse, true, false}, {"field.notes", strings.Join(strings.Fields(sv.Notes), " "), true, false},
		} {
			switch {
			case f.val != "":
				x.Fields = append(x.Fields, fieldView{Label: T(f.key), Value: f.val, En: f.en})
			case f.say:
				missing = append(missing, T(f.key))
			}
		}
		if len(missing) > 0 {
			x.Missing = T("field.missing", orList(l, missing))
		}
		v.Services = append(v.Services, x)
	}
	v.Threats = s.intelViews(l, d.Threats)
	v.Relevance = d.Relevance.Sentences(l)
	v.Uses = s.intelViews(l, d.Uses)
	v.Checks = []checkView{
		{"cmd-linux", T("check.linux"), d.Check.Linux},
		{"cmd-macos", T("check.macos"), d.Check.MacOS},
		{"cmd-windows", T("check.windows"), d.Check.Windows},
		{"cmd-porthole", T("check.porthole"), d.Check.Porthole},
	}
	if d.Range.Name == ports.Dynamic.Name {
		v.Context = append(v.Context, T("context.dynamic", d.Range.Size))
	} else {
		v.Context = append(v.Context, T("context.assigned", d.Context.Assigned, d.Context.Size, v.RangeName, i18n.Percent(d.Context.Percent)))
	}
	v.Position = T("context.position", v.PortStr, d.Context.Position, d.Range.Size)
	if e := d.Ephemeral; e != nil {
		key := "context.ephemeral.out"
		if e.Inside {
			key = "context.ephemeral.in"
		}
		v.Ephemeral = T(key, strconv.Itoa(e.Low), strconv.Itoa(e.High), v.PortStr)
	}
	v.Strip = s.strip(l, d)
	lo, hi := rangePage(p)
	v.RangeHref = s.rangeHref(l, lo, hi)
	if n := d.Neighbours.Prev; n != nil {
		v.Prev = &neighbourView{Port: n.Port, Name: n.Name, Href: s.portHref(l, n.Port)}
	}
	if n := d.Neighbours.Next; n != nil {
		v.Next = &neighbourView{Port: n.Port, Name: n.Name, Href: s.portHref(l, n.Port)}
	}
	if len(d.Neighbours.SameService) > 0 {
		v.SameLabel = T("neighbours.same", d.Verdict.Name)
		for _, o := range d.Neighbours.SameService {
			v.Same = append(v.Same, neighbourView{Port: o, Href: s.portHref(l, o)})
		}
	}
	if local != nil {
		lv := &localView{Rows: local.Rows}
		if local.Err != "" {
			lv.Err = T("here.error", local.Err)
		} else if len(local.Rows) == 0 {
			lv.None = T("here.none", v.PortStr)
		}
		v.Local = lv
	}
	return v
}

// orList joins items with "or" in l: "a", "a or b", "a, b or c".
func orList(l i18n.Lang, items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return i18n.T(l, "list.or", strings.Join(items[:len(items)-1], ", "), items[len(items)-1])
}

func (s *Site) intelViews(l i18n.Lang, in []dossier.Intel) []intelView {
	var out []intelView
	for _, v := range dossier.IntelViews(l, in) {
		out = append(out, intelView{ID: v.ID, Name: v.Name, Facts: strings.Join(v.Facts, " · "), Aliases: v.Aliases,
			Description: v.Description, DescEn: v.DescEn, Registry: v.Legit.Registry, Legit: v.Legit.Note,
			LegitEn: v.Legit.NoteEn, Confidence: v.Confidence, Notes: v.Footnotes})
	}
	return out
}

// portDescription is the port page's meta description: the verdict (the
// page title), the TCP and UDP status and what the page holds, all
// generated.
func portDescription(l i18n.Lang, d *dossier.Dossier, title string) string {
	tcp, udp := d.Status[ports.TCP.String()], d.Status[ports.UDP.String()]
	st := i18n.T(l, "web.desc.both", i18n.T(l, "status."+tcp))
	if tcp != udp {
		st = i18n.T(l, "web.desc.each", i18n.T(l, "status."+tcp), i18n.T(l, "status."+udp))
	}
	return i18n.T(l, "web.desc.port", title, st, strconv.Itoa(d.Port))
}

//go:generate go run gen.go

// renderPortPage renders templates/port.html with the layout, by the code
// generated from them.
func (s *Site) renderPortPage(pd *pageData) ([]byte, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	w := tmplrt.New(buf)
	renderPortPage(w, pd)
	if err := w.Err(); err != nil {
		return nil, fmt.Errorf("port page: %w", err)
	}
	return bytes.Clone(buf.Bytes()), nil
}

// renderPort renders the page of port p. thanks shows the feedback
// acknowledgement.
func (s *Site) renderPort(ctx context.Context, l i18n.Lang, p int, thanks bool) (*entry, error) {
	return s.renderPortWith(ctx, l, p, thanks, nil)
}

// portKey is the page cache key of port p's page in l, and in local mode
// what listens on p now (nil otherwise), which the key includes.
func (s *Site) portKey(ctx context.Context, l i18n.Lang, p int, thanks bool) (string, *localResult) {
	key := string(l) + "/ports/" + strconv.Itoa(p)
	if thanks {
		key += "?thanks"
	}
	var local *localResult
	if s.local != nil {
		local = s.local.get(ctx, p, p)
		key += "#" + local.fp
	}
	return key, local
}

// CachedPage is a page in the site's page cache, as Cached finds it. Two
// CachedPage values are equal when they are the same cache entry.
type CachedPage struct{ e *entry }

// Slot is storage attached to the page for whoever serves it from outside
// the Site: porthole serve's fast front keeps its pre-serialised responses
// there (internal/webfast), so they live and die with the cached page.
func (p CachedPage) Slot() *atomic.Value { return &p.e.attached }

// Bodies are the page's bytes, plain and gzip-compressed (nil when
// compression does not pay). They never change; a copy of a response can
// point into them instead of holding its own.
func (p CachedPage) Bodies() (plain, gz []byte) { return p.e.body, p.e.gz }

// Cached returns the cached page that a GET or HEAD of path (no query) is
// answered from when the request has no cookie, no credentials and nothing
// else that servePort looks at, or false: for any path other than a port
// page's canonical one ("/ports/80", "/ko/ports/80"), and for a page not in
// the cache (yet, or any more). The cache never changes an entry, it
// replaces it (a new render, or in local mode a change of what listens on
// the port, which is part of the key), so the same CachedPage means the
// same response.
func (s *Site) Cached(path string) (CachedPage, bool) {
	if s.opt.Static {
		return CachedPage{}, false
	}
	for _, l := range i18n.Langs {
		rest, ok := strings.CutPrefix(path, prefix(l)+"/ports/")
		if !ok {
			continue
		}
		p, canon, ok := parsePortNum(rest)
		if !ok || canon != rest {
			return CachedPage{}, false
		}
		key, _ := s.portKey(context.Background(), l, p, false)
		if e := s.cache.get(key); e != nil && e.etag != "" {
			return CachedPage{e}, true
		}
		return CachedPage{}, false
	}
	return CachedPage{}, false
}

// renderPortWith renders the page of port p with the fleet section fv; a
// page with one is for one request and is neither cached nor given a
// validator.
func (s *Site) renderPortWith(ctx context.Context, l i18n.Lang, p int, thanks bool, fv *fleetPortView) (*entry, error) {
	key, local := s.portKey(ctx, l, p, thanks)
	if fv == nil {
		if e := s.cache.get(key); e != nil {
			return e, nil
		}
	}
	d := dossier.Build(p, s.sources())
	v := s.portView(l, d, local)
	v.Thanks = thanks
	v.Fleet = fv
	pd := s.newPage(l, "/ports/"+v.PortStr, dossier.Title(d, l))
	pd.Description = portDescription(l, d, pd.Title)
	pd.P = v
	b, err := s.renderPortPage(pd)
	if err != nil {
		return nil, err
	}
	e := &entry{key: key, body: b}
	if !s.opt.Static && fv == nil {
		// An export needs no validator.
		e.etag = etagOf(b)
		s.cache.put(e)
	}
	return e, nil
}
