package intel

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/ports"
)

// stanza is a valid entry that error cases mutate.
const stanza = `id: test-entry
name: Test entry
kind: worm
ports: tcp/2556
years: 2004
confidence: high
description: A test.
source: Example | https://example.com/a
`

func TestParseValid(t *testing.T) {
	in := "# a comment\r\n" +
		"\r\n" +
		"id: bagle-backdoor-2556\r\n" +
		"name: Bagle (Beagle) worm backdoor\r\n" +
		"aliases: W32.Beagle.S@mm (Symantec);  Bagle.Q (F-Secure) \r\n" +
		"kind: worm\r\n" +
		"ports: tcp/2556, udp/31337 any/12345\ttcp/6666-6669\r\n" +
		"years: 2003-2005\r\n" +
		"confidence: medium\r\n" +
		"description: First line\r\n" +
		"  continues here\r\n" +
		"\tand here.\r\n" +
		"description-ko: 한국어 설명\r\n" +
		"legit: IANA nicetec-nmsvc\r\n" +
		"source: Symantec | W32.Beagle.S@mm | http://www.symantec.com/x?docid=1\r\n" +
		"source: SANS ISC | https://isc.sans.edu/data/port.html?port=2556\r\n" +
		"\r\n" +
		"# second stanza, with a category override and open years\n" +
		"id: tunnel-x\n" +
		"name: Tunnel X\n" +
		"kind: tunnel\n" +
		"category: threat\n" +
		"ports: udp/53531\n" +
		"years: 2019-\n" +
		"confidence: low\n" +
		"description: d\n" +
		"source: s | https://example.org\n" +
		"\n" +
		"id: rmm-y\n" +
		"name: RMM Y\n" +
		"kind: rmm\n" +
		"ports: tcp/5938\n" +
		"confidence: high\n" +
		"description: d\n" +
		"source: s | https://example.org/"
	es, err := Parse("x.txt", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 {
		t.Fatalf("got %d entries, want 3", len(es))
	}
	want := Entry{
		ID:      "bagle-backdoor-2556",
		Name:    "Bagle (Beagle) worm backdoor",
		Aliases: []string{"W32.Beagle.S@mm (Symantec)", "Bagle.Q (F-Secure)"},
		Kind:    Worm, Category: Threat,
		Ports: []PortRef{
			{ports.TCP, 2556, 2556}, {ports.UDP, 31337, 31337},
			{ports.ProtoNone, 12345, 12345}, {ports.TCP, 6666, 6669},
		},
		Years:         Years{2003, 2005},
		Confidence:    Medium,
		Description:   "First line continues here and here.",
		DescriptionKO: "한국어 설명",
		Legit:         "IANA nicetec-nmsvc",
		Sources: []Source{
			{Title: "Symantec | W32.Beagle.S@mm", URL: "http://www.symantec.com/x?docid=1", Kind: SrcVendor},
			{Title: "SANS ISC", URL: "https://isc.sans.edu/data/port.html?port=2556", Kind: SrcPortPage},
		},
		File: "x.txt", Line: 3,
	}
	if !reflect.DeepEqual(es[0], want) {
		t.Errorf("entry 0:\n got %+v\nwant %+v", es[0], want)
	}
	if es[1].Category != Threat || es[1].Years != (Years{2019, 0}) || es[1].Line != 19 {
		t.Errorf("entry 1: category %q years %v line %d", es[1].Category, es[1].Years, es[1].Line)
	}
	if es[2].Category != Use || es[2].Years != (Years{}) {
		t.Errorf("entry 2: category %q years %v", es[2].Category, es[2].Years)
	}
}

func TestParseErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(stanza, old) {
			t.Fatalf("stanza lacks %q", old)
		}
		return strings.Replace(stanza, old, new, 1)
	}
	tests := []struct {
		name string
		in   string
		line int
		key  string
		msg  string // substring of the message
	}{
		{"unknown key", replace("name:", "nmae:"), 2, "nmae", "unknown key"},
		{"space before colon", replace("ports: tcp/2556", "ports : tcp/2556"), 4, "ports", "white space before the colon"},
		{"no colon", replace("name: Test entry", "name Test entry"), 2, "", "expected \"key: value\""},
		{"continuation first", "  indented\n" + stanza, 1, "", "continuation line"},
		{"repeated key", replace("kind: worm\n", "kind: worm\nkind: trojan\n"), 4, "kind", "repeated"},
		{"empty value", replace("name: Test entry", "name:"), 2, "name", "empty value"},
		{"bad id", replace("id: test-entry", "id: Test_Entry"), 1, "id", "not a slug"},
		{"id trailing hyphen", replace("id: test-entry", "id: test-"), 1, "id", "not a slug"},
		{"bad kind", replace("kind: worm", "kind: virus"), 3, "kind", "unknown kind"},
		{"bad category", replace("kind: worm\n", "kind: worm\ncategory: bad\n"), 4, "category", "unknown category"},
		{"port no proto", replace("tcp/2556", "2556"), 4, "ports", "needs a protocol"},
		{"port bad proto", replace("tcp/2556", "icmp/2556"), 4, "ports", "unknown protocol"},
		{"port empty proto", replace("tcp/2556", "/2556"), 4, "ports", "unknown protocol"},
		{"port too big", replace("tcp/2556", "tcp/65536"), 4, "ports", "bad port"},
		{"port not number", replace("tcp/2556", "tcp/http"), 4, "ports", "bad port"},
		{"port negative", replace("tcp/2556", "tcp/-1"), 4, "ports", "bad port"},
		{"port range backwards", replace("tcp/2556", "tcp/20-10"), 4, "ports", "backwards"},
		{"port range open", replace("tcp/2556", "tcp/20-"), 4, "ports", "bad port"},
		{"ports only commas", replace("tcp/2556", ", ,"), 4, "ports", "no ports"},
		{"years text", replace("years: 2004", "years: 04"), 5, "years", "bad year"},
		{"years too early", replace("years: 2004", "years: 1970"), 5, "years", "out of range"},
		{"years future", replace("years: 2004", "years: 2999"), 5, "years", "out of range"},
		{"years backwards", replace("years: 2004", "years: 2005-2003"), 5, "years", "backwards"},
		{"years bad end", replace("years: 2004", "years: 2003-05"), 5, "years", "bad year"},
		{"bad confidence", replace("confidence: high", "confidence: info"), 6, "confidence", "unknown confidence"},
		{"source no bar", replace("Example | https://example.com/a", "https://example.com/a"), 8, "source", "Title | https://url"},
		{"source no title", replace("Example | ", " | "), 8, "source", "title"},
		{"source relative", replace("https://example.com/a", "/a"), 8, "source", "absolute"},
		{"source ftp", replace("https://example.com/a", "ftp://example.com/a"), 8, "source", "absolute"},
		{"source no host", replace("https://example.com/a", "https:///a"), 8, "source", "no host"},
		{"source space", replace("https://example.com/a", "https://example.com/a b"), 8, "source", "space"},
		{"empty alias", replace("kind: worm\n", "kind: worm\naliases: a;;b\n"), 4, "aliases", "empty alias"},
		{"missing id", replace("id: test-entry\n", ""), 1, "id", "missing"},
		{"missing name", replace("name: Test entry\n", ""), 1, "name", "missing"},
		{"missing kind", replace("kind: worm\n", ""), 1, "kind", "missing"},
		{"missing ports", replace("ports: tcp/2556\n", ""), 1, "ports", "missing"},
		{"missing confidence", replace("confidence: high\n", ""), 1, "confidence", "missing"},
		{"missing description", replace("description: A test.\n", ""), 1, "description", "missing"},
		{"missing source", replace("source: Example | https://example.com/a\n", ""), 1, "source", "missing"},
		{"duplicate id", stanza + "\n" + stanza, 10, "id", "duplicate id \"test-entry\" (first at t.txt:1)"},
		{"error in second stanza", stanza + "\n# c\n" + strings.Replace(stanza, "test-entry", "other", 1) + "bogus: 1\n", 19, "bogus", "unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.txt", []byte(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if perr.File != "t.txt" || perr.Line != tc.line || perr.Key != tc.key {
				t.Errorf("got %s:%d key %q, want t.txt:%d key %q (%v)", perr.File, perr.Line, perr.Key, tc.line, tc.key, err)
			}
			prefix := "t.txt:" + itoa(tc.line) + ": "
			if tc.key != "" {
				prefix += tc.key + ": "
			}
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q: want prefix %q and %q inside", msg, prefix, tc.msg)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestYears(t *testing.T) {
	tests := []struct {
		in   string
		want Years
	}{
		{"2004", Years{2004, 2004}},
		{"2003-2005", Years{2003, 2005}},
		{"2019-", Years{2019, 0}},
	}
	for _, tc := range tests {
		y, msg := parseYears(tc.in, 2026)
		if msg != "" || y != tc.want {
			t.Errorf("parseYears(%q) = %v, %q; want %v", tc.in, y, msg, tc.want)
		}
		if y.String() != tc.in {
			t.Errorf("%v.String() = %q, want %q", y, y.String(), tc.in)
		}
		b, err := json.Marshal(y)
		if err != nil || string(b) != `"`+tc.in+`"` {
			t.Errorf("MarshalJSON(%v) = %s, %v", y, b, err)
		}
		var back Years
		if err := json.Unmarshal(b, &back); err != nil || back != y {
			t.Errorf("UnmarshalJSON(%s) = %v, %v", b, back, err)
		}
	}
	if !(Years{2019, 0}).Open() || (Years{2004, 2004}).Open() || (Years{}).Open() {
		t.Error("Open() wrong")
	}
	if (Years{}).String() != "" {
		t.Error("zero Years should render empty")
	}
	if !(Years{2019, 0}).Contains(2030) || (Years{2003, 2005}).Contains(2006) {
		t.Error("Contains wrong")
	}
}

func TestPortRefString(t *testing.T) {
	for _, r := range []PortRef{{ports.TCP, 2556, 2556}, {ports.ProtoNone, 1, 2}, {ports.UDP, 0, 65535}} {
		refs, msg := parsePorts(r.String())
		if msg != "" || len(refs) != 1 || refs[0] != r {
			t.Errorf("round trip of %v: %v %q", r, refs, msg)
		}
	}
	b, _ := json.Marshal(PortRef{ports.TCP, 6666, 6669})
	if string(b) != `"tcp/6666-6669"` {
		t.Errorf("MarshalJSON = %s", b)
	}
}

func TestCovers(t *testing.T) {
	e := Entry{Ports: []PortRef{{ports.TCP, 80, 80}, {ports.UDP, 80, 80}, {ports.UDP, 69, 69}, {ports.ProtoNone, 7, 9}}}
	for _, tc := range []struct {
		port  int
		proto ports.Proto
		ok    bool
	}{
		{80, ports.ProtoNone, true}, // tcp and udp: either transport
		{69, ports.UDP, true},
		{8, ports.ProtoNone, true},
		{81, ports.ProtoNone, false},
	} {
		proto, ok := e.Covers(tc.port)
		if proto != tc.proto || ok != tc.ok {
			t.Errorf("Covers(%d) = %v, %v; want %v, %v", tc.port, proto, ok, tc.proto, tc.ok)
		}
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts is
// valid on its own terms.
func FuzzParse(f *testing.F) {
	f.Add([]byte(stanza))
	f.Add([]byte(stanza + "\n" + stanza))
	f.Add([]byte(strings.Replace(stanza, "\nkind:", "\nname-ko: 시험 항목\nkind:", 1)))
	f.Add([]byte("id: a\n  b\n\n\n#x\nports: any/0-65535"))
	f.Add([]byte("\xff\xfe: \x00\n\t\n"))
	f.Add([]byte(threatsClassic[:2000]))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := Parse("fuzz.txt", data)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) || perr.File != "fuzz.txt" || perr.Line < 1 {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		seen := map[string]bool{}
		for i := range es {
			e := &es[i]
			if err := e.Validate(); err != nil {
				t.Fatalf("accepted entry does not validate: %v", err)
			}
			if seen[e.ID] {
				t.Fatalf("duplicate id %q accepted", e.ID)
			}
			seen[e.ID] = true
			for _, r := range e.Ports {
				refs, msg := parsePorts(r.String())
				if msg != "" || len(refs) != 1 || refs[0] != r {
					t.Fatalf("port %v does not round-trip: %v %q", r, refs, msg)
				}
			}
			if e.Years != (Years{}) {
				y, msg := parseYears(e.Years.String(), maxYear())
				if msg != "" || y != e.Years {
					t.Fatalf("years %v do not round-trip: %v %q", e.Years, y, msg)
				}
			}
		}
	})
}

// FuzzLookup checks the fast path against the full parse: whenever a text
// parses, scanning it for a port gives exactly ForPort's answer.
func FuzzLookup(f *testing.F) {
	f.Add([]byte(stanza), 2556)
	f.Add([]byte(stanza+"\n"+strings.Replace(stanza, "test-entry", "b", 1)), 2556)
	f.Add([]byte("id: a\nports: tcp/1\n  udp/2-3\nx"), 2)
	f.Add([]byte(uses[:3000]), 25565)
	f.Add([]byte(strings.Replace(stanza, "ports:", "ports :", 1)), 2556)
	f.Fuzz(func(t *testing.T, data []byte, port int) {
		text := string(data)
		es, err := parse(nil, "f.txt", text, 1, 2026, map[string]pos{})
		if err != nil {
			return
		}
		fast, err := scanTexts([]namedText{{"f.txt", text}}, port, 2026)
		if err != nil {
			t.Fatalf("full parse accepted the text but scan failed: %v", err)
		}
		full := New(es).ForPort(port)
		if len(fast) != len(full) {
			t.Fatalf("port %d: scan %d matches, full %d", port, len(fast), len(full))
		}
		for i := range fast {
			if fast[i].Proto != full[i].Proto || !reflect.DeepEqual(*fast[i].Entry, *full[i].Entry) {
				t.Fatalf("port %d match %d differs: %+v vs %+v", port, i, *fast[i].Entry, *full[i].Entry)
			}
		}
	})
}
