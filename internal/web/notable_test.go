package web

import (
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
)

// TestNotablePortsParse checks the embedded list: it parses, every group has
// a heading in both languages, and no port is listed twice.
func TestNotablePortsParse(t *testing.T) {
	groups, err := parseNotablePorts(notablePortsText)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) == 0 {
		t.Fatal("no groups in notable-ports.txt")
	}
	seen := map[notablePort]bool{}
	for _, g := range groups {
		for _, l := range i18n.Langs {
			if got := i18n.T(l, "web.notable."+g.Key); got == "" || strings.HasPrefix(got, "web.notable.") {
				t.Errorf("%s: no %s heading for group %q", l, l, g.Key)
			}
		}
		if len(g.Ports) == 0 {
			t.Errorf("group %q has no ports", g.Key)
		}
		for _, p := range g.Ports {
			if seen[p] {
				t.Errorf("%s/%d listed twice", p.Proto, p.Port)
			}
			seen[p] = true
		}
	}
}

func TestParseNotablePortsErrors(t *testing.T) {
	for _, in := range []string{
		"tcp/22\n",          // before any group
		"## a\nsctp/9\n",    // protocol not tcp or udp
		"## a\ntcp/65536\n", // out of range
		"## a\ntcp/x\n",     // not a number
		"## a\n22\n",        // no protocol
		"##\ntcp/22\n",      // empty key
		"## a b\ntcp/22\n",  // key with a space
	} {
		if _, err := parseNotablePorts(in); err == nil {
			t.Errorf("parseNotablePorts(%q) = nil error", in)
		} else if !strings.Contains(err.Error(), "notable-ports.txt:") {
			t.Errorf("error %q does not name the line", err)
		}
	}
	g, err := parseNotablePorts("# c\n## a\ntcp/22 # ssh\n\n## b\nudp/53\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 2 || g[0].Key != "a" || g[0].Ports[0] != (notablePort{ports.TCP, 22}) || g[1].Ports[0] != (notablePort{ports.UDP, 53}) {
		t.Errorf("got %+v", g)
	}
}

func FuzzParseNotablePorts(f *testing.F) {
	f.Add(notablePortsText)
	f.Add("## a\ntcp/1\nudp/65535\n")
	f.Fuzz(func(t *testing.T, s string) {
		groups, err := parseNotablePorts(s)
		if err != nil {
			return
		}
		for _, g := range groups {
			for _, p := range g.Ports {
				if p.Port < 0 || p.Port > ports.Max || (p.Proto != ports.TCP && p.Proto != ports.UDP) {
					t.Fatalf("bad port %+v from %q", p, s)
				}
			}
		}
	})
}

// TestHomeListsNotablePorts renders the home page in both languages with the
// real intel and checks that the notable section links the ports with an
// entry, with the group headings of that language.
func TestHomeListsNotablePorts(t *testing.T) {
	h := testSite(t, Options{}).Handler()
	for _, tc := range []struct{ path, heading, group, link string }{
		{"/", i18n.T(i18n.EN, "web.home.notable"), i18n.T(i18n.EN, "web.notable.industrial"), `href="/ports/502"`},
		{"/ko/", i18n.T(i18n.KO, "web.home.notable"), i18n.T(i18n.KO, "web.notable.industrial"), `href="/ko/ports/502"`},
	} {
		body := get(t, h, tc.path).body
		for _, want := range []string{tc.heading, tc.group, tc.link} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", tc.path, want)
			}
		}
	}
}
