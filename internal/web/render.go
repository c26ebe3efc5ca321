package web

import (
	"bytes"
	"embed"
	"html/template"
	"strconv"
	"strings"
	"sync"

	"github.com/porthole/porthole/internal/i18n"
)

//go:embed templates
var templateFS embed.FS

// pageNames are the templates that render a whole page with the layout.
var pageNames = []string{"home", "port", "range", "search", "stats", "local", "notfound", "marker"}

type templates struct {
	pages map[string]*template.Template
}

// funcs are the templates' functions, made when the templates are parsed.
func funcs() template.FuncMap {
	return template.FuncMap{
		"t":     func(l i18n.Lang, key string, args ...any) string { return i18n.T(l, key, args...) },
		"num":   func(l i18n.Lang, n int) string { return i18n.Num(l, n) },
		"pct":   func(l i18n.Lang, p float64) string { return i18n.Pct(l, p) },
		"asset": assetURL,
		"itoa":  strconv.Itoa,
		"args":  func(l i18n.Lang, v any) tmplArgs { return tmplArgs{L: l, V: v, P: prefix(l), S: catalog(l)} },
	}
}

// catalogs hold every catalog string of each language under a key that a
// template can name as a field (dots and dashes become underscores): a map
// lookup is much cheaper than a template function call, and a port page
// names some sixty of them.
var (
	catalogsOnce sync.Once
	catalogs     map[i18n.Lang]map[string]string
)

func catalog(l i18n.Lang) map[string]string {
	catalogsOnce.Do(func() {
		catalogs = map[i18n.Lang]map[string]string{}
		r := strings.NewReplacer(".", "_", "-", "_")
		for _, lang := range i18n.Langs {
			m := map[string]string{}
			for _, k := range i18n.Keys(i18n.EN) {
				m[r.Replace(k)] = i18n.T(lang, k)
			}
			catalogs[lang] = m
		}
	})
	return catalogs[l]
}

// pageAssets are the hashed URLs of the embedded assets.
type pageAssets struct{ CSS, JS, Icon string }

// tmplArgs passes the language, its path prefix and a value to a nested
// template.
type tmplArgs struct {
	L i18n.Lang
	V any
	P string
	S map[string]string
}

// parseTemplates parses the layout with each page once; rendering never
// parses.
func parseTemplates() *templates {
	base := template.Must(template.New("layout").Funcs(funcs()).Option("missingkey=error").ParseFS(templateFS, "templates/layout.html"))
	t := &templates{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		c := template.Must(base.Clone())
		template.Must(c.ParseFS(templateFS, "templates/"+name+".html"))
		t.pages[name] = c
	}
	return t
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
	S                  map[string]string
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
		Local: s.opt.Local, Registry: s.opt.Registry.Version(), S: catalog(l),
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
