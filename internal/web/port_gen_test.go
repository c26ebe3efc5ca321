package web

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/sockets"
	"github.com/porthole/porthole/internal/web/internal/tmplgen"
)

// TestGeneratedIsFresh fails when port_gen.go was not regenerated after
// the templates, the view types or the generator changed: run
// `go generate ./internal/web`.
func TestGeneratedIsFresh(t *testing.T) {
	for _, c := range tmplgen.Pages {
		want, err := tmplgen.Generate(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(c.Dir, c.Output))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s is stale; run go generate ./internal/web", c.Output)
		}
	}
}

// TestGeneratedPortMatchesTemplate renders port pages with the generated
// code and with html/template from templates/port.html, and requires
// identical bytes: every threat port, every eighth port with a use and a
// sample across the ranges in both languages as exported, and a few ports served, with and without the local
// section (whose listing fails in one site).
func TestGeneratedPortMatchesTemplate(t *testing.T) {
	tmpl := pageTemplate(layoutTemplate(), "port")
	for _, o := range []Options{{Static: true}, {}, {Local: true, Listeners: fakeListeners}, {Local: true, Listeners: failingListeners}} {
		o.CacheBytes, o.EphemeralLow, o.EphemeralHigh = -1, 32768, 60999
		s := testSite(t, o)
		// tmplrt's escapers are fuzzed against html/template's; this holds
		// the generated structure to the templates' on real pages.
		ps := append([]int{0, 1, 7, 20, 22, 80, 443, 1023, 1024, 2556, 6000, 6063, 8080, 32768, 49151, 49152, 65535},
			s.threatPorts...)
		for i := 0; i < len(s.usePorts); i += 8 {
			ps = append(ps, s.usePorts[i])
		}
		for p := 0; p <= 65535; p += 997 {
			ps = append(ps, p)
		}
		if !o.Static {
			// What differs from the export is the feedback form, the links
			// and the local section: a few ports show it.
			ps = []int{0, 22, 80, 2556, 6000, 32768, 65535}
		}
		seen := map[int]bool{}
		for _, p := range ps {
			if seen[p] {
				continue
			}
			seen[p] = true
			for _, l := range i18n.Langs {
				var local *localResult
				if s.local != nil {
					local = s.local.get(context.Background(), p, p)
				}
				d := dossier.Build(p, s.sources())
				v := s.portView(l, d, local)
				v.Thanks = p == 2556
				pd := s.newPage(l, "/ports/"+strconv.Itoa(p), dossier.Title(d, l))
				pd.Description = portDescription(l, d, pd.Title)
				pd.P = v
				var want bytes.Buffer
				if err := tmpl.ExecuteTemplate(&want, "layout", pd); err != nil {
					t.Fatal(err)
				}
				got, err := s.renderPortPage(pd)
				if err != nil {
					t.Fatal(err)
				}
				if want := want.Bytes(); string(got) != string(want) {
					i := 0
					for i < len(got) && i < len(want) && got[i] == want[i] {
						i++
					}
					lo := max(0, i-80)
					t.Fatalf("static=%v local=%v %s port %d: generated page differs at byte %d:\n got: %q\nwant: %q", o.Static, o.Local, l, p, i,
						got[lo:min(len(got), i+120)], want[lo:min(len(want), i+120)])
				}
			}
		}
	}
}

func failingListeners(context.Context, int, int) ([]sockets.Listener, error) {
	return nil, errors.New("listing <sockets> & 'failed'")
}
