package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/process"
)

// renderDossier prints a dossier as the model page's sections, in t's
// language. here, if not nil, prints the body of the "On this machine"
// section, which comes after "How to check", as on the web page.
func renderDossier(t *text, d *dossier.Dossier, here func(*text)) {
	l := t.lang
	T := func(key string, args ...any) string { return i18n.T(l, key, args...) }
	t.hang(0, 2, t.bold(process.Escape(dossier.Title(d, l))))

	t.blank()
	t.heading(T("section.what"))
	t.para(2, T("range.line", T("range."+d.Range.Name), strconv.Itoa(d.Range.Low), strconv.Itoa(d.Range.High), d.Range.Size))
	var st []string
	for _, p := range []string{"tcp", "udp", "sctp", "dccp"} {
		st = append(st, p+" "+T("status."+d.Status[p]))
	}
	t.para(2, T("what.status")+": "+strings.Join(st, " · "))
	switch {
	case len(d.Services) == 0 && d.Range.Name == "dynamic":
		t.para(2, T("what.dynamic"))
	case len(d.Services) == 0:
		t.para(2, T("what.norows"))
	default:
		t.para(2, T("what.rows", len(d.Services)))
		for _, s := range d.Services {
			renderService(t, s)
		}
	}
	if d.Ghost {
		t.para(2, T("what.ghost"))
	}

	t.blank()
	t.heading(T("section.threats"))
	if len(d.Threats) == 0 {
		t.para(2, T("threats.none"))
	}
	renderIntel(t, d.Threats)
	for _, s := range d.Relevance.Sentences(l) {
		t.para(2, s)
	}

	t.blank()
	t.heading(T("section.uses"))
	if len(d.Uses) == 0 {
		t.para(2, T("uses.none"))
	}
	renderIntel(t, d.Uses)

	t.blank()
	t.heading(T("section.check"))
	for _, c := range [][2]string{
		{T("check.linux"), d.Check.Linux}, {T("check.macos"), d.Check.MacOS},
		{T("check.windows"), d.Check.Windows}, {T("check.porthole"), d.Check.Porthole},
	} {
		t.line(fmt.Sprintf("  %-9s %s", c[0], c[1]))
	}
	if here != nil {
		t.blank()
		t.heading(T("section.here"))
		here(t)
	}

	t.blank()
	t.heading(T("section.context"))
	if d.Range.Name == "dynamic" {
		t.para(2, T("context.dynamic", d.Range.Size))
	} else {
		t.para(2, T("context.assigned", d.Context.Assigned, d.Context.Size, T("range."+d.Range.Name), i18n.Percent(d.Context.Percent)))
	}
	t.para(2, T("context.position", strconv.Itoa(d.Port), d.Context.Position, d.Range.Size))
	if e := d.Ephemeral; e != nil {
		key := "context.ephemeral.out"
		if e.Inside {
			key = "context.ephemeral.in"
		}
		t.para(2, T(key, strconv.Itoa(e.Low), strconv.Itoa(e.High), strconv.Itoa(d.Port)))
	}

	t.blank()
	t.heading(T("section.sources"))
	for _, f := range d.Footnotes {
		title := f.Title
		if f.Kind != "" {
			title += " (" + T("source.kind."+f.Kind) + ")"
		}
		t.hang(2, 7, fmt.Sprintf("%-4s %s", "["+strconv.Itoa(f.N)+"]", title))
		t.line("       " + t.dim(f.URL))
	}
	t.para(2, t.dim(T("web.registry", process.Escape(d.Registry))))
}

// maxNotes bounds a registry row's Assignment Notes in text (some run to
// twenty lines); --json carries them whole.
const maxNotes = 220

// renderService prints one registry row. Every column is registry data, so
// control characters in it (a hostile CSV's escape sequences) are escaped
// with process.Escape, as process names and command lines are.
func renderService(t *text, s dossier.Service) {
	l := t.lang
	for _, f := range []*string{&s.Name, &s.Port, &s.Protocol, &s.Assignee, &s.Contact,
		&s.Reference, &s.Registered, &s.Modified, &s.ServiceCode, &s.UnauthorizedUse} {
		*f = process.Escape(*f)
	}
	T := func(key string, args ...any) string { return i18n.T(l, key, args...) }
	name := s.Name
	if name == "" {
		name = "—"
	}
	proto := s.Protocol
	if proto == "" {
		proto = "—"
	}
	head := fmt.Sprintf("%s  %s/%s  %s", t.bold(name), s.Port, proto, process.Escape(dossier.FirstLine(s.Description)))
	t.hang(4, 6, head)
	if s.Name == "" {
		return
	}
	none := T("field.none")
	or := func(v string) string {
		if v == "" {
			return none
		}
		return v
	}
	fields := []string{
		T("field.assignee") + " " + or(s.Assignee),
		T("field.contact") + " " + or(s.Contact),
		T("field.reference") + " " + or(s.Reference) + notes(s.Footnotes),
	}
	if s.Registered != "" {
		fields = append(fields, T("field.registered")+" "+s.Registered)
	}
	if s.Modified != "" {
		fields = append(fields, T("field.modified")+" "+s.Modified)
	}
	if s.ServiceCode != "" {
		fields = append(fields, T("field.code")+" "+s.ServiceCode)
	}
	t.hang(6, 6, t.dim(strings.Join(fields, " · ")))
	if s.UnauthorizedUse != "" {
		t.hang(6, 6, T("what.unauth", s.UnauthorizedUse))
	}
	if s.Notes != "" {
		t.hang(6, 6, t.dim(T("field.notes")+": "+truncate(process.Escape(strings.Join(strings.Fields(s.Notes), " ")), maxNotes)))
	}
}

// renderIntel prints intel entries (a port's threats or its uses).
func renderIntel(t *text, list []dossier.Intel) {
	for _, v := range dossier.IntelViews(t.lang, list) {
		t.hang(2, 4, t.threatColor(v.Confidence, t.bold(v.Name))+" — "+strings.Join(v.Facts, ", ")+" "+notes(v.Footnotes))
		if v.Aliases != "" {
			t.hang(4, 4, t.dim(v.Aliases))
		}
		t.para(4, v.Description)
		if !v.Legit.Empty() {
			t.para(4, i18n.T(t.lang, "threats.legit", strings.TrimSpace(v.Legit.Registry+" "+v.Legit.Note)))
		}
	}
}

func notes(ns []int) string {
	var b strings.Builder
	for _, n := range ns {
		b.WriteString("[" + strconv.Itoa(n) + "]")
	}
	return b.String()
}
