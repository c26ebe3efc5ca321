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

// mapSVG draws the port map in l: every cell links to the range listing that
// holds it, and intel ports are marked. The cells are left out of the tab
// order (256 stops would bury the page); the range cards above the map lead
// to the same listings from the keyboard.
func (s *Site) mapSVG(l i18n.Lang) template.HTML {
	rows := len(s.cells) / mapCols
	w, h := mapCols*cellW, rows*cellH
	var b strings.Builder
	b.Grow(64 << 10)
	b.WriteString(`<svg class="portmap" viewBox="0 0 ` + strconv.Itoa(w) + " " + strconv.Itoa(h+2) + `" role="img" aria-labelledby="map-title map-desc"><title id="map-title">`)
	b.WriteString(template.HTMLEscapeString(i18n.T(l, "web.map.title")))
	b.WriteString(`</title><desc id="map-desc">`)
	b.WriteString(template.HTMLEscapeString(i18n.T(l, "web.map.desc")))
	b.WriteString(`</desc>`)
	for i, c := range s.cells {
		x, y := (i%mapCols)*cellW, (i/mapCols)*cellH
		lo, hi := rangePage(c.Low)
		b.WriteString(`<a tabindex="-1" href="` + s.rangeHref(l, lo, hi) + `"><rect x="` + strconv.Itoa(x+1) + `" y="` + strconv.Itoa(y+1) +
			`" width="` + strconv.Itoa(cellW-2) + `" height="` + strconv.Itoa(cellH-2) + `" class="` + c.Class + `"><title>`)
		b.WriteString(template.HTMLEscapeString(i18n.T(l, "web.map.cell", strconv.Itoa(c.Low), strconv.Itoa(c.High), c.Assigned, c.Reserved)))
		b.WriteString(`</title></rect></a>`)
	}
	mark := func(ps []int, class string, r int) {
		last := -1
		for _, p := range ps {
			// One mark per 8 ports is as fine as the map can show.
			if p/8 == last {
				continue
			}
			last = p / 8
			i := p / cellPorts
			x := float64((i%mapCols)*cellW) + 2 + float64(p%cellPorts)/cellPorts*float64(cellW-4)
			y := (i/mapCols)*cellH + cellH/2
			b.WriteString(`<circle cx="` + strconv.FormatFloat(x, 'f', 1, 64) + `" cy="` + strconv.Itoa(y) + `" r="` + strconv.Itoa(r) + `" class="` + class + `"/>`)
		}
	}
	mark(s.usePorts, "m-use", 2)
	mark(s.threatPorts, "m-threat", 3)
	b.WriteString(`</svg>`)
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
