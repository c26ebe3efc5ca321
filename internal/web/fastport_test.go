package web

import (
	"context"
	"strconv"
	"testing"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
)

// TestFastPortMatchesTemplate renders port pages both ways, by hand and with
// templates/port.html, and requires identical bytes: every intel port, every
// port of a sample across the ranges, in both languages and both modes.
func TestFastPortMatchesTemplate(t *testing.T) {
	for _, static := range []bool{false, true} {
		s := testSite(t, Options{Static: static, CacheBytes: -1, EphemeralLow: 32768, EphemeralHigh: 60999})
		ps := append([]int{0, 1, 7, 20, 22, 80, 443, 1023, 1024, 2556, 6000, 6063, 8080, 32768, 49151, 49152, 65535},
			append(s.threatPorts, s.usePorts...)...)
		for p := 0; p <= 65535; p += 97 {
			ps = append(ps, p)
		}
		seen := map[int]bool{}
		for _, p := range ps {
			if seen[p] {
				continue
			}
			seen[p] = true
			for _, l := range i18n.Langs {
				d := dossier.Build(p, s.sources())
				v := s.portView(l, d, nil)
				v.Thanks = p == 2556
				pd := s.newPage(l, "/ports/"+strconv.Itoa(p), dossier.Title(d, l))
				pd.Description = portDescription(l, d, pd.Title)
				pd.P = v
				want, err := s.tmpl.render("port", pd)
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.fastPort(pd, v)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					i := 0
					for i < len(got) && i < len(want) && got[i] == want[i] {
						i++
					}
					lo := max(0, i-80)
					t.Fatalf("static=%v %s port %d: hand-written page differs at byte %d:\n got: %q\nwant: %q", static, l, p, i,
						got[lo:min(len(got), i+120)], want[lo:min(len(want), i+120)])
				}
			}
		}
	}
	// The served page takes the fast path.
	s := testSite(t, Options{})
	if _, err := s.renderPort(context.Background(), i18n.EN, 2556, false); err != nil {
		t.Fatal(err)
	}
}
