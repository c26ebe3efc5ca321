package web

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	reMapRow   = regexp.MustCompile(`<li><span class="map-label">(\d+)–(\d+)</span><span class="map-cells">(.*?)</span></li>`)
	reMapCell  = regexp.MustCompile(`<a href="([^"]*)" class="([^"]*)" aria-label="([^"]*)" title="[^"]*"></a>`)
	reLegendSw = regexp.MustCompile(`<li><span class="(?:sw|dot) ([a-z0-9-]+)"></span>([^<]+)</li>`)
)

// TestPortMap reads the home page's map: 16 rows labelled with their 4,096
// ports, 16 links a row, each named for its 256 ports and leading to a
// listing that shows exactly those ports; every shade and mark on the map
// is named in the legend.
func TestPortMap(t *testing.T) {
	s := testSite(t, Options{})
	h := s.Handler()
	body := get(t, h, "/").body
	rows := reMapRow.FindAllStringSubmatch(body, -1)
	if len(rows) != 16 {
		t.Fatalf("%d map rows, want 16", len(rows))
	}
	legend := map[string]string{}
	for _, m := range reLegendSw.FindAllStringSubmatch(body, -1) {
		legend[m[1]] = m[2]
	}
	used := map[string]bool{}
	checked := 0
	for r, row := range rows {
		if lo, hi := row[1], row[2]; lo != strconv.Itoa(r*4096) || hi != strconv.Itoa(r*4096+4095) {
			t.Errorf("row %d labelled %s–%s", r, lo, hi)
		}
		cells := reMapCell.FindAllStringSubmatch(row[3], -1)
		if len(cells) != 16 {
			t.Fatalf("row %d has %d cells", r, len(cells))
		}
		for c, m := range cells {
			low := r*4096 + c*256
			span := "Ports " + strconv.Itoa(low) + "–" + strconv.Itoa(low+255) + ":"
			if !strings.HasPrefix(m[3], span) {
				t.Errorf("cell %d,%d is named %q, want it to start %q", r, c, m[3], span)
			}
			for _, class := range strings.Fields(m[2]) {
				switch class {
				case "t":
					class = "m-threat"
				case "u":
					class = "m-use"
				}
				used[class] = true
			}
			// Every fourth cell's listing, fetched: its first rows are the
			// cell's 256 ports, no more, no fewer.
			if c%4 != r%4 {
				continue
			}
			checked++
			page := get(t, h, m[1])
			if page.status != 200 {
				t.Fatalf("cell %d,%d links %s: %d", r, c, m[1], page.status)
			}
			first, last := -1, -1
			for _, rm := range reRangeRow.FindAllStringSubmatch(page.body, -1) {
				if first < 0 {
					first = atoiT(t, rm[1])
				}
				last = atoiT(t, rm[1])
				if rm[2] != "" {
					last = atoiT(t, rm[2])
				}
			}
			if first != low || last != low+255 {
				t.Errorf("cell %d,%d (%d–%d) links %s, which lists %d–%d", r, c, low, low+255, m[1], first, last)
			}
		}
	}
	if checked < 60 {
		t.Errorf("only %d cells followed", checked)
	}
	for class := range used {
		if legend[class] == "" {
			t.Errorf("the map uses %s, which the legend does not name", class)
		}
	}
	for class := range legend {
		if !used[class] {
			t.Errorf("the legend names %s, which no cell shows", class)
		}
	}
	for _, want := range []string{"m-a0", "m-a1", "m-a2", "m-a3", "m-a4", "m-dyn", "m-threat", "m-use"} {
		if legend[want] == "" {
			t.Errorf("legend lacks %s", want)
		}
	}
	if legend["m-a1"] != "1–63 of 256 assigned" || legend["m-a4"] != "192–256 of 256 assigned" {
		t.Errorf("legend shades: %q", legend)
	}
	if ko := get(t, h, "/ko/").body; !strings.Contains(ko, "256개 중 1–63개 할당") || !strings.Contains(ko, `<span class="map-label">61440–65535</span>`) {
		t.Errorf("the Korean map lacks its legend or row labels")
	}
	if strings.Contains(body, `role="img"`) && strings.Contains(body, "portmap") && strings.Contains(body, "<svg class=\"portmap\"") {
		t.Errorf("the map is still an image holding links")
	}
}
