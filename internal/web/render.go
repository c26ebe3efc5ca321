package web

import (
	"bytes"
	"embed"
	"html/template"
	"strconv"
	"sync"

	"github.com/porthole/porthole/internal/i18n"
)

//go:embed templates
var templateFS embed.FS

// pageNames are the templates that render a whole page with the layout.
// The port page is rendered by generated code (port_gen.go).
var pageNames = []string{"home", "range", "search", "stats", "local", "notfound", "fleet", "fleethost", "fleetlogin"}

type templates struct {
	pages map[string]*template.Template
}

// funcs are the templates' functions, made when the templates are parsed.
// Each is a named function: tmplgen compiles calls to them into the
// generated port page (gen.go).
func funcs() template.FuncMap {
	return template.FuncMap{
		"t":     i18n.T,
		"num":   i18n.Num,
		"pct":   i18n.Pct,
		"asset": assetURL,
		"itoa":  strconv.Itoa,
		"args":  newTmplArgs,
	}
}

// pageAssets are the hashed URLs of the embedded assets.
type pageAssets struct{ CSS, JS, Icon string }

// tmplArgs passes the language, its path prefix and a value to a nested
// template.
type tmplArgs struct {
	L i18n.Lang
	V any
	P string
}

func newTmplArgs(l i18n.Lang, v any) tmplArgs { return tmplArgs{L: l, V: v, P: prefix(l)} }

// parseTemplates parses the layout with each page once; rendering never
// parses.
func parseTemplates() *templates {
	base := layoutTemplate()
	t := &templates{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		t.pages[name] = pageTemplate(base, name)
	}
	return t
}

func layoutTemplate() *template.Template {
	return template.Must(template.New("layout").Funcs(funcs()).Option("missingkey=error").ParseFS(templateFS, "templates/layout.html"))
}

// pageTemplate is the layout with templates/NAME.html.
func pageTemplate(base *template.Template, name string) *template.Template {
	c := template.Must(base.Clone())
	template.Must(c.ParseFS(templateFS, "templates/"+name+".html"))
	return c
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page into a new byte slice.
func (t *templates) render(name string, data *pageData) ([]byte, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := t.pages[name].ExecuteTemplate(buf, "layout", data); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

// pageData is what the layout needs, with the page's own view model in P.
type pageData struct {
	Lang        i18n.Lang
	Prefix      string // "" or "/ko"
	Path        string // this page's path without the language prefix
	Title       string
	Description string
	Query       string
	Ext         string // what page links end with (Site.ext)
	// BigSearch: the page has a search form of its own, so the header's
	// is left out (one search landmark a page).
	BigSearch bool
	Static    bool
	Local     bool
	Registry  string
	// Canonical is this page's URL and Default the English one, absolute
	// from Options.BaseURL when set (Absolute), else root-relative.
	Canonical, Default string
	Absolute           bool
	Locale             string // OpenGraph's spelling of Lang
	Alternates         []alternate
	P                  any
	Assets             pageAssets
}

// ogLocale is the OpenGraph locale (language_TERRITORY) of a language.
func ogLocale(l i18n.Lang) string {
	switch l {
	case i18n.KO:
		return "ko_KR"
	default:
		return "en_US"
	}
}

type alternate struct {
	Lang  i18n.Lang
	Name  string
	Href  string // root-relative, for the language links
	Abs   string // absolute when the site has a base URL, for hreflang
	Other bool
}

func (s *Site) newPage(l i18n.Lang, path, title string) *pageData {
	d := &pageData{Lang: l, Prefix: prefix(l), Path: path, Title: title, Static: s.opt.Static,
		Local: s.opt.Local, Registry: s.opt.Registry.Version(),
		Assets: pageAssets{CSS: assetURL("app.css"), JS: assetURL("app.js"), Icon: assetURL("favicon.svg")}}
	base := s.opt.BaseURL
	d.Absolute = base != ""
	d.Locale = ogLocale(l)
	d.Ext = s.ext()
	for _, o := range i18n.Langs {
		href := prefix(o) + path + d.Ext
		if path == "/" {
			href = prefix(o) + "/"
		}
		d.Alternates = append(d.Alternates, alternate{Lang: o, Name: i18n.T(o, "web.lang.name"), Href: href, Abs: base + href, Other: o != l})
		if o == l {
			d.Canonical = base + href
		}
		if o == i18n.EN {
			d.Default = base + href
		}
	}
	return d
}
