package web

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
)

// A sitemap holds at most 50,000 URLs, so port pages are listed in files of
// sitemapPorts ports per language, under one sitemap index.
const sitemapPorts = 32768

// baseURL is the site's absolute URL from --base-url, or "" for
// root-relative URLs. It is never derived from the request's Host header:
// a forged Host would otherwise be written into robots.txt and the sitemap
// (and into any cache in front of the site).
func (s *Site) baseURL(*http.Request) string { return s.opt.BaseURL }

func (s *Site) serveRobots(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(robots(s.baseURL(r))))
}

// robots is robots.txt. The Sitemap line needs an absolute URL, so without
// a base URL it is left out (the sitemap is still at /sitemap.xml, with
// root-relative URLs).
func robots(base string) string {
	out := "User-agent: *\nAllow: /\nDisallow: /search\nDisallow: /ko/search\nDisallow: /api/\n"
	if base != "" {
		out += "\nSitemap: " + base + "/sitemap.xml\n"
	}
	return out
}

// sitemapNames are the files the sitemap index lists.
func sitemapNames() []string {
	var out []string
	for _, l := range i18n.Langs {
		for k := 0; k*sitemapPorts <= ports.Max; k++ {
			out = append(out, string(l)+"-"+strconv.Itoa(k)+".xml")
		}
	}
	return out
}

func (s *Site) serveSitemapIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = w.Write([]byte(sitemapIndex(s.baseURL(r))))
}

func sitemapIndex(base string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	for _, n := range sitemapNames() {
		b.WriteString("<sitemap><loc>" + template.HTMLEscapeString(base) + "/sitemaps/" + n + "</loc></sitemap>\n")
	}
	b.WriteString("</sitemapindex>\n")
	return b.String()
}

func (s *Site) serveSitemap(w http.ResponseWriter, r *http.Request) {
	body, ok := s.sitemap(s.baseURL(r), r.PathValue("name"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = w.Write(body)
}

// sitemap renders one sitemap file: the first of each language also lists
// the home, stats and range pages; every URL names its other-language
// alternates.
func (s *Site) sitemap(base, name string) ([]byte, bool) {
	stem, ok := strings.CutSuffix(name, ".xml")
	ls, ks, ok2 := strings.Cut(stem, "-")
	k, err := strconv.Atoi(ks)
	l := i18n.Lang(ls)
	if !ok || !ok2 || err != nil || !i18n.Supported(l) || k < 0 || k*sitemapPorts > ports.Max || strconv.Itoa(k) != ks {
		return nil, false
	}
	base = template.HTMLEscapeString(base)
	var b strings.Builder
	b.Grow(sitemapPorts * 300)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">` + "\n")
	url := func(path string) {
		if path != "/" {
			path += s.ext()
		}
		b.WriteString("<url><loc>" + base + prefix(l) + path + "</loc>")
		for _, o := range i18n.Langs {
			b.WriteString(`<xhtml:link rel="alternate" hreflang="` + string(o) + `" href="` + base + prefix(o) + path + `"/>`)
		}
		b.WriteString("</url>\n")
	}
	if k == 0 {
		for _, p := range s.pagePaths() {
			url(p)
		}
	}
	for p := k * sitemapPorts; p < (k+1)*sitemapPorts && p <= ports.Max; p++ {
		url("/ports/" + strconv.Itoa(p))
	}
	b.WriteString("</urlset>\n")
	return []byte(b.String()), true
}

// pagePaths are the pages other than port pages, without language prefix:
// home, stats and every canonical range listing page.
func (s *Site) pagePaths() []string {
	out := []string{"/", "/stats"}
	for _, r := range ports.Ranges {
		for lo := r.Low; lo <= r.High; lo += rangePageSize {
			out = append(out, "/ports/"+strconv.Itoa(lo)+"-"+strconv.Itoa(r.High))
		}
	}
	return out
}

// statsChart draws, per range, the share of numbers assigned for each
// protocol as horizontal bars. It is drawn narrow (360 units, text at 13)
// so that a phone shows it near its natural size and the text stays
// readable; the stylesheet caps how wide it grows on a desktop.
func (s *Site) statsChart(l i18n.Lang) template.HTML {
	const w, barH, rowH, headH, labelW, barW = 360, 14, 20, 24, 44, 190
	protos := []ports.Proto{ports.TCP, ports.UDP, ports.SCTP, ports.DCCP}
	groupH := headH + len(protos)*rowH + 6
	h := len(s.stats.Ranges) * groupH
	itoa := strconv.Itoa
	var b strings.Builder
	b.WriteString(`<svg class="chart" viewBox="0 0 ` + itoa(w) + " " + itoa(h) + `" role="img" aria-labelledby="chart-title"><title id="chart-title">` +
		template.HTMLEscapeString(i18n.T(l, "web.stats.chart")) + `</title>`)
	for gi, r := range s.stats.Ranges {
		y := gi * groupH
		b.WriteString(`<text x="0" y="` + itoa(y+16) + `" class="chart-head">` + template.HTMLEscapeString(i18n.T(l, "range."+r.Name)) + `</text>`)
		for pi, p := range protos {
			by := y + headH + pi*rowH
			n := r.Assigned.Get(p)
			share := float64(n) / float64(r.Size)
			b.WriteString(`<text x="0" y="` + itoa(by+barH-2) + `" class="chart-label">` + p.String() + `</text>`)
			b.WriteString(`<rect x="` + itoa(labelW) + `" y="` + itoa(by) + `" width="` + itoa(barW) + `" height="` + itoa(barH) + `" class="chart-bg"/>`)
			b.WriteString(`<rect x="` + itoa(labelW) + `" y="` + itoa(by) + `" width="` + strconv.FormatFloat(share*barW, 'f', 1, 64) + `" height="` + itoa(barH) + `" class="chart-bar c-` + p.String() + `"/>`)
			b.WriteString(`<text x="` + itoa(labelW+barW+6) + `" y="` + itoa(by+barH-2) + `" class="chart-label">` +
				i18n.Num(l, n) + " · " + i18n.Pct(l, float64(int(share*1000+0.5))/10) + `</text>`)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
