package intel

import (
	"strings"
	"testing"
)

// TestSourceRules is the gate of the source rules for every embedded entry,
// whichever file it comes from: each source's host has a kind in
// data/sources.txt, and no entry claims more confidence than its best source
// allows.
func TestSourceRules(t *testing.T) {
	if _, err := sourceTable(); err != nil {
		t.Fatal(err)
	}
	db := mustDefault(t)
	for i := range db.Entries() {
		e := &db.Entries()[i]
		if err := e.CheckSources(); err != nil {
			t.Error(err)
		}
		for _, s := range e.Sources {
			if k, _, _ := KindOf(s.URL); s.Kind != k {
				t.Errorf("%s: source %s has kind %q, table says %q", e.ID, s.URL, s.Kind, k)
			}
		}
	}
}

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		url  string
		kind SourceKind
		ok   bool
	}{
		{"https://github.com/mthcht/awesome-lists/blob/main/Lists/suspicious_ports_list.csv", SrcList, true},
		{"https://github.com/BishopFox/sliver/wiki", SrcDocs, true},
		{"https://github.com/mthchtx/other", "", false}, // a prefix matches whole segments
		{"https://github.com/someone/else", "", false},
		{"https://attack.mitre.org/software/S0020/", SrcAttack, true},
		{"HTTPS://WWW.CISA.GOV/news", "", false}, // scheme is case-sensitive in checkURL too
		{"https://www.CISA.gov/news-events", SrcAdvisory, true},
		{"https://isc.sans.edu/data/port.html?port=2556", SrcPortPage, true},
		{"https://isc.sans.edu/diary/12345", SrcBlog, true},
		{"https://www.elastic.co/security-labs/x", SrcVendor, true},
		{"https://www.elastic.co/guide/x", SrcDocs, true},
		{"http://www.speedguide.net:80/port.php?port=2556", SrcPortPage, true},
		{"https://example.com/", "", false},
	} {
		k, _, ok := KindOf(tc.url)
		if k != tc.kind || ok != tc.ok {
			t.Errorf("KindOf(%q) = %q, %v; want %q, %v", tc.url, k, ok, tc.kind, tc.ok)
		}
	}
}

func TestSourceTableErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"example.com docs\nexample.com news\n", "t.txt:2: example.com listed twice"},
		{"example.com gossip\n", "t.txt:1: unknown source kind"},
		{"# c\n\nexample.com\n", "t.txt:3: expected"},
		{"https://example.com docs\n", "t.txt:1: bad host"},
		{"Example.com docs\n", "t.txt:1: bad host"},
	} {
		_, err := parseSourceTable("t.txt", tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
	rules, err := parseSourceTable("t.txt", "a.org docs\na.org/x/y list\na.org/x news\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := rules["a.org"]; len(got) != 3 || got[0].prefix != "/x/y" || got[1].prefix != "/x" || got[2].prefix != "" {
		t.Errorf("rules not ordered longest prefix first: %+v", got)
	}
}

func TestCheckSources(t *testing.T) {
	mk := func(conf Confidence, urls ...string) *Entry {
		e := &Entry{ID: "x", File: "f.txt", Line: 7, Confidence: conf}
		for _, u := range urls {
			e.Sources = append(e.Sources, Source{Title: "t", URL: u})
		}
		return e
	}
	const (
		list   = "https://github.com/mthcht/awesome-lists"
		port   = "https://www.speedguide.net/port.php?port=1"
		news   = "https://www.theregister.com/2004/03/15/x/"
		vendor = "https://www.f-secure.com/v-descs/x.shtml"
	)
	for _, tc := range []struct {
		e    *Entry
		want string
	}{
		{mk(Low, list, port), ""},
		{mk(Medium, list), "f.txt:7: confidence: x: medium needs a stronger source; its best source allows at most low"},
		{mk(Medium, news, list), ""},
		{mk(High, news, list), "at most medium"},
		{mk(High, vendor, list), ""},
		{mk(Low, "https://unknown.example/x"), `f.txt:7: source: x: host "unknown.example"`},
	} {
		err := tc.e.CheckSources()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v %v: error %v, want %q", tc.e.Confidence, tc.e.Sources, err, tc.want)
		}
	}
}
