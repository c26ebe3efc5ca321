package web

import (
	"html/template"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
)

// The port map shows all 65,536 numbers as a 16 × 16 grid of cells of 256
// ports each, shaded by how many of the cell's numbers IANA assigns.
const (
	cellPorts     = 256
	mapCols       = 16
	cellW, cellH  = 40, 24
	stripSegments = 64
	rangePageSize = 256
)

// cell is one square of the port map.
type cell struct {
	Low, High          int
	Assigned, Reserved int
	Class              string
	Dynamic            bool
}

// portMap counts, per cell, the numbers with a named service (any protocol)
// and the reserved ones.
func portMap(x *registry.Index) []cell {
	cells := make([]cell, (ports.Max+1)/cellPorts)
	for i := range cells {
		c := &cells[i]
		c.Low, c.High = i*cellPorts, i*cellPorts+cellPorts-1
		c.Dynamic = ports.Dynamic.Contains(c.Low)
		for p := c.Low; p <= c.High; p++ {
			switch {
			case x.StatusOf(p, ports.TCP) == registry.StatusAssigned || x.StatusOf(p, ports.UDP) == registry.StatusAssigned:
				c.Assigned++
			case x.StatusOf(p, ports.TCP) == registry.StatusReserved:
				c.Reserved++
			}
		}
		switch share := c.Assigned * 4 / cellPorts; {
		case c.Dynamic && c.Assigned == 0:
			c.Class = "m-dyn"
		case c.Assigned == 0 && c.Reserved > 0:
			c.Class = "m-res"
		default:
			c.Class = "m-a" + strconv.Itoa(min(share+boolInt(c.Assigned > 0), 4))
		}
	}
	return cells
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mapRowPorts is how many ports one row of the map holds.
const mapRowPorts = mapCols * cellPorts

// mapHTML draws the port map in l as HTML: one list item per row of 4,096
// ports, labelled with its span, holding 16 links, one per cell of 256
// ports, to the listing page that starts with those 256 ports. Each link
// names its span and counts; cells with intel carry a dot. A link before
// the map skips it; the script turns its 256 tab stops into one, moved
// with the arrow keys. The legend below names every shade, with the counts
// each stands for.
func (s *Site) mapHTML(l i18n.Lang) template.HTML {
	T := func(k string, args ...any) string { return i18n.T(l, k, args...) }
	esc := template.HTMLEscapeString
	threat, use := map[int]bool{}, map[int]bool{}
	for _, p := range s.threatPorts {
		threat[p/cellPorts] = true
	}
	for _, p := range s.usePorts {
		use[p/cellPorts] = true
	}
	var b strings.Builder
	b.Grow(64 << 10)
	b.WriteString(`<p id="map-desc">` + esc(T("web.map.desc")) + `</p>`)
	b.WriteString(`<a class="skip-map" href="#map-end">` + esc(T("web.map.skip")) + `</a>`)
	b.WriteString(`<ol class="portmap" aria-labelledby="map-h" aria-describedby="map-desc">`)
	for i, c := range s.cells {
		if i%mapCols == 0 {
			lo := c.Low
			b.WriteString(`<li><span class="map-label">` + strconv.Itoa(lo) + "–" + strconv.Itoa(lo+mapRowPorts-1) + `</span><span class="map-cells">`)
		}
		label := T("web.map.cell", strconv.Itoa(c.Low), strconv.Itoa(c.High), c.Assigned, c.Reserved)
		class := c.Class
		if threat[i] {
			label += T("web.map.and", T("web.map.threat"))
			class += " t"
		}
		if use[i] {
			label += T("web.map.and", T("web.map.use"))
			class += " u"
		}
		lo, hi := rangePage(c.Low)
		b.WriteString(`<a href="` + s.rangeHref(l, lo, hi) + `" class="` + class + `" aria-label="` + esc(label) + `" title="` + esc(label) + `"></a>`)
		if i%mapCols == mapCols-1 {
			b.WriteString(`</span></li>`)
		}
	}
	b.WriteString(`</ol><ul class="legend" id="map-end" tabindex="-1">`)
	shown := map[string]bool{}
	for _, c := range s.cells {
		shown[c.Class] = true
	}
	// The legend names the shades the map shows.
	sw := func(class, text string) {
		if shown[class] {
			b.WriteString(`<li><span class="sw ` + class + `"></span>` + esc(text) + `</li>`)
		}
	}
	sw("m-a0", T("web.map.none", cellPorts))
	for k := 1; k <= 4; k++ {
		lo, hi := (k-1)*cellPorts/4, k*cellPorts/4-1
		if k == 1 {
			lo = 1
		}
		if k == 4 {
			hi = cellPorts
		}
		sw("m-a"+strconv.Itoa(k), T("web.map.shade", lo, hi, cellPorts))
	}
	sw("m-res", T("web.map.reserved"))
	sw("m-dyn", T("web.map.dynamic"))
	if len(threat) > 0 {
		b.WriteString(`<li><span class="dot m-threat"></span>` + esc(T("web.map.threat")) + `</li>`)
	}
	if len(use) > 0 {
		b.WriteString(`<li><span class="dot m-use"></span>` + esc(T("web.map.use")) + `</li>`)
	}
	b.WriteString(`</ul>`)
	return template.HTML(b.String())
}

// strip draws the port's range as a bar shaded by assignment density with a
// marker at the port.
func (s *Site) strip(l i18n.Lang, d *dossier.Dossier) template.HTML {
	const w, h = 600, 44
	r := ports.RangeOf(d.Port)
	var b strings.Builder
	b.Grow(6 << 10)
	b.WriteString(`<svg class="strip" viewBox="0 0 ` + strconv.Itoa(w) + " " + strconv.Itoa(h) + `" role="img" aria-labelledby="strip-title"><title id="strip-title">`)
	b.WriteString(template.HTMLEscapeString(i18n.T(l, "web.strip.title", strconv.Itoa(d.Port), strconv.Itoa(r.Low), strconv.Itoa(r.High))))
	b.WriteString(`</title>`)
	b.WriteString(s.stripRects[r.Name])
	x := float64(d.Port-r.Low) / float64(r.Size()) * w
	xs := strconv.FormatFloat(x, 'f', 1, 64)
	b.WriteString(`<line x1="` + xs + `" x2="` + xs + `" y1="1" y2="31" class="strip-mark"/>`)
	anchor := "middle"
	switch {
	case x < 40:
		anchor = "start"
	case x > w-40:
		anchor = "end"
	}
	b.WriteString(`<text x="` + xs + `" y="42" text-anchor="` + anchor + `" class="strip-label">` + strconv.Itoa(d.Port) + `</text>`)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// stripRects draws each range's density bar once; every port page of the
// range shares it.
func stripRects(density map[string][]int) map[string]string {
	const w = 600
	out := map[string]string{}
	for name, seg := range density {
		var b strings.Builder
		sw := float64(w) / float64(len(seg))
		// One rectangle per run of equally shaded pieces.
		for i := 0; i < len(seg); {
			j := i
			for j < len(seg) && seg[j] == seg[i] {
				j++
			}
			b.WriteString(`<rect x="` + strconv.FormatFloat(float64(i)*sw, 'f', 1, 64) + `" y="6" width="` + strconv.FormatFloat(float64(j-i)*sw, 'f', 1, 64) +
				`" height="20" class="m-a` + strconv.Itoa(seg[i]) + `"/>`)
			i = j
		}
		out[name] = b.String()
	}
	return out
}

// rangeDensity shades each range in stripSegments pieces: 0 for no assigned
// number, 1–4 for quarters of the piece assigned.
func rangeDensity(x *registry.Index) map[string][]int {
	out := map[string][]int{}
	for _, r := range ports.Ranges {
		seg := make([]int, stripSegments)
		n := r.Size() / stripSegments
		for i := range seg {
			a := 0
			for p := r.Low + i*n; p < r.Low+(i+1)*n; p++ {
				if x.StatusOf(p, ports.TCP) == registry.StatusAssigned || x.StatusOf(p, ports.UDP) == registry.StatusAssigned {
					a++
				}
			}
			if a > 0 {
				seg[i] = min(a*4/n+1, 4)
			}
		}
		out[r.Name] = seg
	}
	return out
}
