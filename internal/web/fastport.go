package web

import (
	"bytes"
	"strconv"
	"strings"
	"sync"

	"github.com/porthole/porthole/internal/i18n"
)

// The port page is rendered 131,072 times by an export and is the page a
// server is asked for most, and html/template spends most of its time
// calling escaper functions through reflection. So the port page (without
// the local section) is written by hand here, escaping as html/template
// does, and templates/port.html stays the readable reference:
// TestFastPortMatchesTemplate holds the two to identical output.

// htmlEsc escapes text and attribute values with html/template's table.
// It is made on first use (a package-level replacer is built at every start).
func htmlEsc() *strings.Replacer {
	htmlEscOnce.Do(func() {
		htmlEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")
	})
	return htmlEscaper
}

var (
	htmlEscOnce sync.Once
	htmlEscaper *strings.Replacer
)

type hw struct{ *bytes.Buffer }

func (w hw) s(v string) { w.WriteString(v) }
func (w hw) e(v string) { _, _ = htmlEsc().WriteString(w.Buffer, v) }
func (w hw) i(n int)    { w.WriteString(strconv.Itoa(n)) }

// u writes a URL into an attribute as html/template does: characters
// outside RFC 3986 are percent-encoded, then the result is HTML-escaped.
// Only http(s) and relative URLs reach it (intel sources are validated).
func (w hw) u(v string) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("!#$&*+,/:;=?@[]-._~%", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)>>4, 16)+strconv.FormatUint(uint64(c)&15, 16)))
		}
	}
	w.e(b.String())
}

// chrome is the layout around a page's content for one language, split
// where the page's title, description and path go.
type chrome struct {
	parts []string // text between the markers
	marks []byte   // which value follows each part: 't' title, 'd' description, 'p' path
}

const (
	markTitle = "@@TITLE@@"
	markDesc  = "@@DESC@@"
	markPath  = "@@PATH@@"
	markBody  = "@@BODY@@"
)

var (
	chromeMu sync.Mutex
	chromes  map[string][2]*chrome // made on first use
)

// portChrome renders the layout once per language and site mode with
// markers in place of the variable parts.
func (s *Site) portChrome(l i18n.Lang) ([2]*chrome, error) {
	key := string(l) + strconv.FormatBool(s.opt.Static) + strconv.FormatBool(s.opt.Local) + s.opt.Registry.Version() + " " + s.opt.BaseURL
	chromeMu.Lock()
	defer chromeMu.Unlock()
	if c, ok := chromes[key]; ok {
		return c, nil
	}
	pd := s.newPage(l, markPath, markTitle)
	pd.Description = markDesc
	b, err := s.tmpl.render("marker", pd)
	if err != nil {
		return [2]*chrome{}, err
	}
	head, tail, _ := strings.Cut(string(b), markBody)
	c := [2]*chrome{splitChrome(head), splitChrome(tail)}
	if chromes == nil {
		chromes = map[string][2]*chrome{}
	}
	chromes[key] = c
	return c, nil
}

func splitChrome(s string) *chrome {
	c := &chrome{}
	for {
		i, m := -1, byte(0)
		for _, mk := range []struct {
			s string
			m byte
		}{{markTitle, 't'}, {markDesc, 'd'}, {markPath, 'p'}} {
			if j := strings.Index(s, mk.s); j >= 0 && (i < 0 || j < i) {
				i, m = j, mk.m
			}
		}
		if i < 0 {
			c.parts = append(c.parts, s)
			return c
		}
		c.parts = append(c.parts, s[:i])
		c.marks = append(c.marks, m)
		s = s[i+len(map[byte]string{'t': markTitle, 'd': markDesc, 'p': markPath}[m]):]
	}
}

func (c *chrome) write(w hw, title, desc, path string) {
	for i, p := range c.parts {
		w.s(p)
		if i < len(c.marks) {
			switch c.marks[i] {
			case 't':
				w.e(title)
			case 'd':
				w.e(desc)
			case 'p':
				w.s(path) // a path of digits, dashes and slashes
			}
		}
	}
}

// fastPort renders what templates/port.html renders for a page without a
// local section.
func (s *Site) fastPort(pd *pageData, v *portView) ([]byte, error) {
	ch, err := s.portChrome(pd.Lang)
	if err != nil {
		return nil, err
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	w := hw{buf}
	ch[0].write(w, pd.Title, pd.Description, pd.Path)
	l, S := pd.Lang, pd.S
	notEN := l != i18n.EN
	lang := func() {
		if notEN {
			w.s(` lang="en"`)
		}
	}
	fn := func(n int) {
		w.s(`<a class="fn" href="#fn-`)
		w.i(n)
		w.s(`" aria-label="`)
		w.e(i18n.T(l, "web.footnote", n))
		w.s(`">[`)
		w.i(n)
		w.s(`]</a>`)
	}
	w.s("\n<nav class=\"crumbs\" aria-label=\"")
	w.e(S["web_crumbs"])
	w.s(`"><ol><li><a href="`)
	w.s(pd.Prefix)
	w.s(`/">`)
	w.e(S["web_ports"])
	w.s(`</a></li><li aria-current="page">`)
	w.e(i18n.T(l, "web.port", v.PortStr))
	w.s("</li></ol></nav>\n<h1>")
	w.e(pd.Title)
	w.s("</h1>\n<ul class=\"chips\" aria-label=\"")
	w.e(S["what_status"])
	w.s(`">`)
	for _, st := range v.Status {
		w.s(`<li class="chip st-`)
		w.e(st.Code)
		w.s(`"><span class="proto">`)
		w.e(st.Proto)
		w.s(`</span> `)
		w.e(st.Label)
		w.s(`</li>`)
	}
	if v.D.Ghost {
		w.s(`<li class="chip ghost">`)
		w.e(S["web_badge_ghost"])
		w.s(`</li>`)
	}
	if len(v.D.Threats) > 0 {
		w.s(`<li class="chip threat">`)
		w.e(i18n.T(l, "web.badge.threats", len(v.D.Threats)))
		w.s(`</li>`)
	}
	w.s("</ul>\n<nav class=\"toc\" aria-label=\"")
	w.e(S["web_toc"])
	w.s("\"><ul>\n")
	for _, t := range [][2]string{{"what", "section_what"}, {"threats", "section_threats"}, {"uses", "section_uses"}, {"check", "section_check"}} {
		w.s(`<li><a href="#` + t[0] + `">`)
		w.e(S[t[1]])
		w.s("</a></li>\n")
	}
	w.s("\n")
	for _, t := range [][2]string{{"context", "section_context"}, {"neighbours", "web_section_neighbours"}, {"sources", "section_sources"}} {
		w.s(`<li><a href="#` + t[0] + `">`)
		w.e(S[t[1]])
		w.s("</a></li>\n")
	}
	w.s("</ul></nav>\n\n<section id=\"what\" aria-labelledby=\"what-h\">\n<h2 id=\"what-h\">")
	w.e(S["section_what"])
	w.s("</h2>\n<p>")
	w.e(v.RangeLine)
	w.s("</p>\n")
	if v.NoRows != "" {
		w.s("<p>")
		w.e(v.NoRows)
		w.s("</p>")
	} else {
		w.s("<p>")
		w.e(v.RowsText)
		w.s("</p>\n")
		for _, sv := range v.Services {
			w.s("<article class=\"row\">\n<h3><span class=\"name\">")
			w.e(sv.Name)
			w.s(`</span> <span class="where">`)
			w.e(sv.Port)
			w.s("/")
			w.e(sv.Proto)
			w.s("</span></h3>\n")
			if sv.Description != "" {
				w.s(`<p class="desc"`)
				lang()
				w.s(">")
				w.e(sv.Description)
				w.s("</p>")
			}
			w.s("\n")
			if len(sv.Fields) > 0 {
				w.s(`<dl class="fields">`)
				for _, f := range sv.Fields {
					w.s("<div><dt>")
					w.e(f.Label)
					w.s("</dt><dd")
					if f.En && notEN {
						w.s(` lang="en"`)
					}
					w.s(">")
					w.e(f.Value)
					w.s("</dd></div>")
				}
				w.s("</dl>")
			}
			w.s("\n")
			if sv.Missing != "" {
				w.s(`<p class="missing">`)
				w.e(sv.Missing)
				w.s("</p>")
			}
			w.s("\n")
			if len(sv.Notes) > 0 {
				w.s(`<p class="refs">`)
				for _, n := range sv.Notes {
					fn(n)
				}
				w.s("</p>")
			}
			w.s("\n</article>")
		}
	}
	w.s("\n")
	if v.Ghost != "" {
		w.s(`<p class="note ghost">`)
		w.e(v.Ghost)
		w.s("</p>")
	}
	w.s("\n</section>\n\n")
	for _, sec := range []struct {
		id    string
		items []intelView
		none  string
	}{{"threats", v.Threats, "threats_none"}, {"uses", v.Uses, "uses_none"}} {
		w.s(`<section id="` + sec.id + `" aria-labelledby="` + sec.id + "-h\">\n<h2 id=\"" + sec.id + `-h">`)
		w.e(S["section_"+sec.id])
		w.s("</h2>\n")
		if len(sec.items) == 0 {
			w.s("<p>")
			w.e(S[sec.none])
			w.s("</p>")
		} else {
			w.s(`<ol class="intel">`)
			for _, x := range sec.items {
				w.s(`<li class="conf-`)
				w.e(x.Confidence)
				w.s("\">\n<h3>")
				w.e(x.Name)
				w.s("</h3>\n<p class=\"facts\">")
				w.e(x.Facts)
				for _, n := range x.Notes {
					w.s(" ")
					fn(n)
				}
				w.s("</p>\n")
				if x.Aliases != "" {
					w.s(`<p class="aliases">`)
					w.e(x.Aliases)
					w.s("</p>")
				}
				w.s("\n<p")
				if x.DescEn {
					w.s(` lang="en"`)
				}
				w.s(">")
				w.e(x.Description)
				w.s("</p>\n")
				if x.Registry != "" || x.Legit != "" {
					w.s(`<p class="legit">`)
					w.e(S["web_legit"])
					if x.Registry != "" {
						w.s(" ")
						w.e(x.Registry)
					}
					if x.Legit != "" {
						w.s(" <span")
						if x.LegitEn {
							w.s(` lang="en"`)
						}
						w.s(">")
						w.e(x.Legit)
						w.s("</span>")
					}
					w.s("</p>")
				}
				w.s("\n</li>")
			}
			w.s("</ol>")
		}
		w.s("\n</section>\n\n")
	}
	w.s("<section id=\"check\" aria-labelledby=\"check-h\">\n<h2 id=\"check-h\">")
	w.e(S["section_check"])
	w.s("</h2>\n<dl class=\"checks\">")
	for _, c := range v.Checks {
		w.s("<div><dt>")
		w.e(c.Label)
		w.s(`</dt><dd><code id="`)
		w.e(c.ID)
		w.s(`">`)
		w.e(c.Cmd)
		w.s(`</code> <button type="button" class="copy" data-copy="`)
		w.e(c.ID)
		w.s(`" data-done="`)
		w.e(S["web_copied"])
		w.s(`" hidden>`)
		w.e(S["web_copy"])
		w.s("</button></dd></div>")
	}
	w.s("</dl>\n</section>\n\n\n\n<section id=\"context\" aria-labelledby=\"context-h\">\n<h2 id=\"context-h\">")
	w.e(S["section_context"])
	w.s("</h2>\n")
	for _, p := range v.Context {
		w.s("<p>")
		w.e(p)
		w.s("</p>")
	}
	w.s("\n<figure class=\"strip-fig\">")
	w.s(string(v.Strip))
	w.s("<figcaption>")
	w.e(v.Position)
	w.s(` <a href="`)
	w.u(v.RangeHref)
	w.s(`">`)
	w.e(i18n.T(l, "web.range.list", v.RangeName))
	w.s("</a></figcaption></figure>\n")
	if v.Ephemeral != "" {
		w.s(`<p class="note">`)
		w.e(v.Ephemeral)
		w.s("</p>")
	}
	w.s("\n</section>\n\n<section id=\"neighbours\" aria-labelledby=\"neighbours-h\">\n<h2 id=\"neighbours-h\">")
	w.e(S["web_section_neighbours"])
	w.s("</h2>\n<ul class=\"pager\">")
	if n := v.Prev; n != nil {
		w.s(`<li><a rel="prev" href="`)
		w.u(n.Href)
		w.s(`">← `)
		w.e(S["neighbours_prev"])
		w.s(": ")
		w.i(n.Port)
		if n.Name != "" {
			w.s(` <span class="name">`)
			w.e(n.Name)
			w.s("</span>")
		}
		w.s("</a></li>")
	}
	if n := v.Next; n != nil {
		w.s(`<li><a rel="next" href="`)
		w.u(n.Href)
		w.s(`">`)
		w.e(S["neighbours_next"])
		w.s(": ")
		w.i(n.Port)
		if n.Name != "" {
			w.s(` <span class="name">`)
			w.e(n.Name)
			w.s("</span>")
		}
		w.s(" →</a></li>")
	}
	w.s("</ul>\n")
	if len(v.Same) > 0 {
		w.s("<p>")
		w.e(v.SameLabel)
		w.s(": ")
		for i, n := range v.Same {
			if i > 0 {
				w.s(", ")
			}
			w.s(`<a href="`)
			w.u(n.Href)
			w.s(`">`)
			w.i(n.Port)
			w.s("</a>")
		}
		w.s("</p>")
	}
	w.s("\n</section>\n\n<section id=\"sources\" aria-labelledby=\"sources-h\">\n<h2 id=\"sources-h\">")
	w.e(S["section_sources"])
	w.s("</h2>\n<ol class=\"footnotes\">")
	for _, f := range v.D.Footnotes {
		w.s(`<li id="fn-`)
		w.i(f.N)
		w.s(`" value="`)
		w.i(f.N)
		w.s(`"><span lang="en">`)
		w.e(f.Title)
		w.s(`</span>`)
		if f.Kind != "" {
			w.s(` <span class="small">(`)
			w.e(i18n.T(l, "source.kind."+f.Kind))
			w.s(`)</span>`)
		}
		w.s(`<br><a href="`)
		w.u(f.URL)
		w.s(`" rel="external noopener">`)
		w.e(f.URL)
		w.s("</a></li>")
	}
	w.s("</ol>\n<p class=\"small\">")
	w.e(i18n.T(l, "web.registry", v.D.Registry))
	w.s("</p>\n</section>\n\n<section id=\"feedback\" aria-labelledby=\"feedback-h\">\n<h2 id=\"feedback-h\">")
	w.e(S["web_feedback_q"])
	w.s("</h2>\n")
	if v.Thanks {
		w.s(`<p class="note thanks" role="status">`)
		w.e(S["web_feedback_thanks"])
		w.s("</p>")
	}
	w.s("\n")
	if v.Feedback {
		w.s(`<form method="post" action="/feedback" class="feedback" data-thanks="`)
		w.e(S["web_feedback_thanks"])
		w.s(`" data-error="`)
		w.e(S["web_feedback_error"])
		w.s(`" data-summary="`)
		w.e(S["web_feedback_summary"])
		w.s("\">\n<input type=\"hidden\" name=\"port\" value=\"")
		w.e(v.PortStr)
		w.s("\">\n<input type=\"hidden\" name=\"lang\" value=\"")
		w.e(string(l))
		w.s("\">\n<fieldset><legend class=\"vh\">")
		w.e(S["web_feedback_q"])
		w.s("</legend>\n<div class=\"faces\">\n")
		for i, f := range [][3]string{{"unhelpful", "😔", " required"}, {"neutral", "😐", ""}, {"helpful", "😃", ""}} {
			_ = i
			w.s(`<input type="radio" id="fb-` + f[0] + `" name="rating" value="` + f[0] + `"` + f[2] + `><label for="fb-` + f[0] + `"><span aria-hidden="true">` + f[1] + `</span> `)
			w.e(S["web_feedback_"+f[0]])
			w.s("</label>\n")
		}
		w.s("</div></fieldset>\n<label for=\"fb-comment\">")
		w.e(S["web_feedback_comment"])
		w.s("</label>\n<textarea id=\"fb-comment\" name=\"comment\" rows=\"3\" maxlength=\"1000\"></textarea>\n<div class=\"hp\" aria-hidden=\"true\"><label for=\"fb-website\">")
		w.e(S["web_feedback_hp"])
		w.s("</label><input id=\"fb-website\" name=\"website\" type=\"text\" tabindex=\"-1\" autocomplete=\"off\"></div>\n<button type=\"submit\">")
		w.e(S["web_feedback_send"])
		w.s("</button>\n</form>")
	} else {
		w.s("<p>")
		w.e(S["web_feedback_static"])
		w.s("</p>")
	}
	w.s("\n</section>\n")
	ch[1].write(w, pd.Title, pd.Description, pd.Path)
	return bytes.Clone(buf.Bytes()), nil
}
