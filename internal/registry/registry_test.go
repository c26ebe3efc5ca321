package registry

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/ports"
)

const header = "Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,Registration Date,Modification Date,Reference,Service Code,Unauthorized Use Reported,Assignment Notes\r\n"

func readCSV(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("data/service-names-port-numbers.csv")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t testing.TB, b []byte) []Row {
	t.Helper()
	rows, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestEmbeddedIsFresh fails when data/registry.bin was not regenerated after
// the CSV or the compiler changed: run `go generate ./internal/registry`.
func TestEmbeddedIsFresh(t *testing.T) {
	rows := mustParse(t, readCSV(t))
	blob, err := Compile(rows, Version(rows), EmbeddedSource)
	if err != nil {
		t.Fatal(err)
	}
	if string(blob) != embedded {
		t.Fatal("data/registry.bin is stale; run go generate ./internal/registry")
	}
	if _, err := Open(embedded); err != nil {
		t.Fatal(err)
	}
}

func TestParseQuirks(t *testing.T) {
	in := header +
		`nicetec-nmsvc,2556,tcp,nicetec-nmsvc,,,,,,,,` + "\r\n" +
		`x11,6000-6063,tcp,X Window System,[Stuart_Levy],[Stuart_Levy],,,,,Known Unauthorized Use on port 6003,` + "\r\n" +
		`,49151,,Reserved,,,,2024-12-20,[RFC6335],,,` + "\n" +
		`wchr,,udp,Whatever,,,2026-02-25,,,,,` + "\n" +
		`discard,9,dccp,Discard,[IESG],[IETF_Chair],2006-03,,[RFC4340],1145656131,,` + "\r\n" +
		`www-http,80,tcp,"World Wide Web HTTP` + "\n" + `(second line)",[Tim],[Tim],,,,,,"note one` + "\r\n" + `note two"` + "\r\n" +
		`,4748-4748,,Unassigned,,,,,,,,` + "\n" +
		`kde,100,sctp,K,[ÉÖ],,,,,,,` + "\n"
	rows := mustParse(t, []byte(in))
	if len(rows) != 8 {
		t.Fatalf("got %d rows, want 8", len(rows))
	}
	tests := []struct {
		i              int
		name           string
		proto          ports.Proto
		low, high      int
		kind           Kind
		empty, isRange bool
	}{
		{0, "nicetec-nmsvc", ports.TCP, 2556, 2556, Assigned, true, false},
		{1, "x11", ports.TCP, 6000, 6063, Assigned, false, true},
		{2, "", ports.ProtoNone, 49151, 49151, Reserved, false, false},
		{3, "wchr", ports.UDP, -1, -1, Assigned, true, false},
		{4, "discard", ports.DCCP, 9, 9, Assigned, false, false},
		{5, "www-http", ports.TCP, 80, 80, Assigned, false, false},
		{6, "", ports.ProtoNone, 4748, 4748, Unassigned, false, true},
		{7, "kde", ports.SCTP, 100, 100, Assigned, false, false},
	}
	for _, tc := range tests {
		r := rows[tc.i]
		if r.Name != tc.name || r.Proto != tc.proto || r.Low != tc.low || r.High != tc.high ||
			r.Kind() != tc.kind || r.Empty() != tc.empty || r.Range != tc.isRange {
			t.Errorf("row %d = %+v (kind %v, empty %v)", tc.i, r, r.Kind(), r.Empty())
		}
	}
	if got := rows[1].Unauthorized; got != "Known Unauthorized Use on port 6003" {
		t.Errorf("unauthorized use = %q", got)
	}
	if got := rows[4].ServiceCode; got != "1145656131" {
		t.Errorf("service code = %q", got)
	}
	if got := rows[5].Description; got != "World Wide Web HTTP\n(second line)" {
		t.Errorf("multi-line description = %q", got)
	}
	if got := rows[5].Notes; !strings.Contains(got, "note one") || !strings.Contains(got, "note two") {
		t.Errorf("multi-line notes = %q", got)
	}
	if got := rows[7].Assignee; got != "[ÉÖ]" {
		t.Errorf("assignee = %q", got)
	}
	if v := Version(rows); v != "2026-02-25" {
		t.Errorf("version = %q", v)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "line 1: empty file"},
		{"bad header", "Name,Port\n", "line 1: header has 2 columns"},
		{"renamed column", strings.Replace(header, "Contact", "Contacts", 1), `line 1: Contact: header column 6 is "Contacts"`},
		{"short record", header + "a,1,tcp\n", "line 2: record has 3 fields, want 12"},
		{"bad port", header + "a,7x,tcp,d,,,,,,,,\n", `line 2: Port Number: "7x" is not a port number`},
		{"port too big", header + "a,65536,tcp,d,,,,,,,,\n", "line 2: Port Number: port 65536 is above 65535"},
		{"backwards range", header + "a,10-5,tcp,d,,,,,,,,\n", `line 2: Port Number: range "10-5" runs backwards`},
		{"bad proto", header + "a,10,icmp,d,,,,,,,,\n", `line 2: Transport Protocol: unknown protocol "icmp"`},
		{"bad date", header + "a,10,tcp,d,,,2004-13-01,,,,,\n", `line 2: Registration Date: date "2004-13-01"`},
		{"nothing", header + ",,tcp,d,,,,,,,,\n", "line 2: row has neither a service name nor a port"},
		{"bad quote", header + "a,1,tcp,\"d,,,,,,,,\n", "line 2:"},
		{"bad utf8", header + "a,1,tcp,\xff,,,,,,,,\n", "line 2: Description: not valid UTF-8"},
		{"later line", header + "a,1,tcp,\"two\nlines\",,,,,,,,\nb,x,tcp,d,,,,,,,,\n", `line 4: Port Number: "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %q, want prefix %q", err, tc.want)
			}
		})
	}
}

// TestEveryNamedRowFound checks the index against the parsed CSV: every
// named row is returned by a lookup of every port it covers, and by a
// lookup of its name.
func TestEveryNamedRowFound(t *testing.T) {
	rows := mustParse(t, readCSV(t))
	x := Embedded()
	if x.Len() != len(rows) {
		t.Fatalf("index has %d rows, CSV %d", x.Len(), len(rows))
	}
	byPort := make(map[int][]Row)
	for i := range rows {
		r := rows[i]
		if r.Name == "" {
			continue
		}
		found := false
		for _, n := range x.Name(strings.ToUpper(r.Name)) {
			if n == r {
				found = true
			}
		}
		if !found {
			t.Errorf("name lookup %q misses row %+v", r.Name, r)
		}
		if !r.HasPort() {
			continue
		}
		for p := r.Low; p <= r.High; p++ {
			got, ok := byPort[p]
			if !ok {
				got = x.Port(p)
				byPort[p] = got
			}
			found := false
			for _, g := range got {
				if g == r {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("port %d lookup misses %s/%s", p, r.Name, r.Proto)
			}
			if st := x.StatusOf(p, r.Proto); r.Proto != ports.ProtoNone && st != StatusAssigned {
				t.Fatalf("status of %d/%s = %s, want assigned (%s)", p, r.Proto, st, r.Name)
			}
		}
	}
}

func TestStatusAndGhost(t *testing.T) {
	x := Embedded()
	tests := []struct {
		port     int
		tcp, udp Status
		ghost    bool
		rows     int
	}{
		{0, StatusReserved, StatusReserved, false, 2},
		{22, StatusAssigned, StatusAssigned, false, 3},
		{80, StatusAssigned, StatusAssigned, false, 7},
		// DESIGN.md calls 2545 sis-emt a ghost, but its rows name an
		// assignee and a contact ([Bill_Crawford]): the data wins.
		{2545, StatusAssigned, StatusAssigned, false, 2},
		{2556, StatusAssigned, StatusAssigned, true, 2},
		{2776, StatusAssigned, StatusAssigned, true, 2},
		{4250, StatusAssigned, StatusAssigned, false, 1}, // vrml-multi-use 4200-4299, no protocol
		{6001, StatusAssigned, StatusAssigned, false, 2}, // inside x11 6000-6063
		{6667, StatusAssigned, StatusReserved, false, 2}, // ircu tcp range, udp Reserved range
		{49151, StatusReserved, StatusReserved, false, 1},
		{49152, StatusDynamic, StatusDynamic, false, 0},
		{65535, StatusDynamic, StatusDynamic, false, 0},
	}
	for _, tc := range tests {
		if got := x.StatusOf(tc.port, ports.TCP); got != tc.tcp {
			t.Errorf("%d/tcp: %s, want %s", tc.port, got, tc.tcp)
		}
		if got := x.StatusOf(tc.port, ports.UDP); got != tc.udp {
			t.Errorf("%d/udp: %s, want %s", tc.port, got, tc.udp)
		}
		if got := x.Ghost(tc.port); got != tc.ghost {
			t.Errorf("ghost(%d) = %v", tc.port, got)
		}
		if got := len(x.Port(tc.port)); got != tc.rows {
			t.Errorf("%d has %d rows, want %d", tc.port, got, tc.rows)
		}
	}
	if got := x.Port(2556)[0].Name; got != "nicetec-nmsvc" {
		t.Errorf("2556 is %q", got)
	}
}

// TestStats pins the figures that port-data research computed independently
// from the same CSV (shared/prior-art/port-data.md, section 3), plus the 190
// ports of the 16 protocol-less named rows, which count for tcp and udp
// (ProtoApplies).
func TestStats(t *testing.T) {
	x := Embedded()
	st := x.Stats()
	if fresh := x.computeStats(); !reflect.DeepEqual(st, fresh) {
		t.Errorf("stored stats %+v differ from computed %+v", st, fresh)
	}
	if st.Rows != 14500 || st.NameOnly != 1056 || st.RangeRows != 762 {
		t.Errorf("rows %d, name-only %d, ranges %d", st.Rows, st.NameOnly, st.RangeRows)
	}
	want := []ProtoCounts{
		{TCP: 682, UDP: 678, SCTP: 9, DCCP: 3, Any: 686},
		{TCP: 5270 + 190, UDP: 4879 + 190, SCTP: 79, DCCP: 6, Any: 5656},
		{},
	}
	for i, r := range st.Ranges {
		if r.Assigned != want[i] {
			t.Errorf("%s assigned = %+v, want %+v", r.Name, r.Assigned, want[i])
		}
	}
	if p := st.ByProtocol; p.TCP != 6586 || p.UDP != 6346 || p.SCTP != 93 || p.DCCP != 11 || p.Any != 1464 {
		t.Errorf("rows by protocol = %+v", p)
	}
}

// TestStatsAddUpAndAgree recounts every port of every range for every
// protocol from the parsed CSV, by the rule written out again here, and
// checks (1) assigned + reserved + unassigned = size for every range and
// protocol, (2) the stored statistics equal the recount, and (3) StatusOf
// (what info, the site and the API show) gives the recounted status for
// every port and protocol: a port counted assigned for tcp in stats is
// assigned for tcp in info.
func TestStatsAddUpAndAgree(t *testing.T) {
	rows := mustParse(t, readCSV(t))
	x := Embedded()
	st := x.Stats()
	const any = ports.ProtoNone
	type key struct {
		port  int
		proto ports.Proto
	}
	named, reserved := map[key]bool{}, map[key]bool{}
	legacy := 0
	for _, r := range rows {
		if !r.HasPort() {
			continue
		}
		protos := []ports.Proto{r.Proto}
		if r.Proto == ports.ProtoNone {
			protos = []ports.Proto{ports.TCP, ports.UDP} // a legacy row: tcp and udp only
			if r.Name != "" {
				legacy++
			}
		}
		for p := r.Low; p <= r.High; p++ {
			for _, pr := range protos {
				if r.Name != "" {
					named[key{p, pr}] = true
				} else if strings.HasPrefix(strings.ToLower(strings.TrimLeft(r.Description, "( ")), "reserved") {
					reserved[key{p, pr}] = true
				}
			}
		}
	}
	if legacy != 16 {
		t.Errorf("%d protocol-less named rows, want the 16 of issue #10", legacy)
	}
	for ri, rg := range ports.Ranges {
		var a, r, u ProtoCounts
		for p := rg.Low; p <= rg.High; p++ {
			best := StatusUnassigned
			for _, pr := range ports.Protos {
				want := StatusUnassigned
				switch {
				case named[key{p, pr}]:
					want = StatusAssigned
				case reserved[key{p, pr}]:
					want = StatusReserved
				case ports.Dynamic.Contains(p):
					want = StatusDynamic
				}
				if got := x.StatusOf(p, pr); got != want {
					t.Fatalf("StatusOf(%d, %s) = %s, recount says %s", p, pr, got, want)
				}
				switch want {
				case StatusAssigned:
					a.add(pr)
					best = want
				case StatusReserved:
					r.add(pr)
					if best != StatusAssigned {
						best = want
					}
				default:
					u.add(pr)
				}
			}
			switch best {
			case StatusAssigned:
				a.add(any)
			case StatusReserved:
				r.add(any)
			default:
				u.add(any)
			}
		}
		got := st.Ranges[ri]
		if got.Assigned != a || got.Reserved != r || got.Unassigned != u {
			t.Errorf("%s: stats %+v %+v %+v, recount %+v %+v %+v", rg.Name,
				got.Assigned, got.Reserved, got.Unassigned, a, r, u)
		}
		for _, pr := range append(ports.Protos[:], any) {
			if sum := got.Assigned.Get(pr) + got.Reserved.Get(pr) + got.Unassigned.Get(pr); sum != rg.Size() {
				t.Errorf("%s/%q: assigned + reserved + unassigned = %d, size %d", rg.Name, pr, sum, rg.Size())
			}
		}
	}
	// The rule in brief: vrml-multi-use (4200-4299, no protocol) is a tcp
	// and udp registration, and says nothing of sctp or dccp.
	for pr, want := range map[ports.Proto]Status{ports.TCP: StatusAssigned, ports.UDP: StatusAssigned,
		ports.SCTP: StatusUnassigned, ports.DCCP: StatusUnassigned} {
		if got := x.StatusOf(4250, pr); got != want {
			t.Errorf("4250/%s = %s, want %s", pr, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(header + "a,1,tcp,d,,,,,,,,\n"))
	f.Add([]byte(header + "x11,6000-6063,,\"multi\nline\",,,2004-01,2004-01-02,,,,\r\n"))
	f.Add([]byte(header + ",49151,,Reserved,,,,2024-12-20,[RFC6335],,,"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := Parse(bytes.NewReader(b))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		if len(rows) == 0 {
			return
		}
		// Whatever parses must compile, reopen, and find its rows again.
		blob, err := Compile(rows, Version(rows), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		x, err := Open(string(blob))
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			if x.Row(i) != rows[i] {
				t.Fatalf("row %d round trip: %+v != %+v", i, x.Row(i), rows[i])
			}
			if rows[i].HasPort() && len(x.Port(rows[i].Low)) == 0 {
				t.Fatalf("port %d lost", rows[i].Low)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	in := readCSV(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkColdLookup is what `porthole info 2556` pays: open the embedded
// blob and read one port's rows and statuses.
func BenchmarkColdLookup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		x := Embedded()
		if len(x.Port(2556)) != 2 || !x.Ghost(2556) || x.StatusOf(2556, ports.TCP) != StatusAssigned {
			b.Fatal("wrong answer")
		}
	}
}

func BenchmarkName(b *testing.B) {
	x := Embedded()
	b.ReportAllocs()
	for b.Loop() {
		if len(x.Name("http")) != 3 {
			b.Fatal("wrong answer")
		}
	}
}

func BenchmarkStats(b *testing.B) {
	x := Embedded()
	b.ReportAllocs()
	for b.Loop() {
		x.Stats()
	}
}

// TestCaps feeds the hostile CSVs: 400 lines of wideN,0-65535 made a
// 106 MB blob. Parse refuses at the first line past a cap, naming it.
func TestCaps(t *testing.T) {
	var wide strings.Builder
	wide.WriteString(header)
	for i := range 400 {
		fmt.Fprintf(&wide, "wide%d,0-65535,tcp,x,,,,,,,,\r\n", i)
	}
	var many strings.Builder // rows within the width cap, too many in all
	many.WriteString(header)
	for i := range 200 {
		fmt.Fprintf(&many, "many%d,%d-%d,udp,x,,,,,,,,\r\n", i, 1000, 1000+MaxWidth-1)
	}
	for _, tc := range []struct {
		name, csv string
		line      int
		want      string
	}{
		{"a row wider than the cap", wide.String(), 2, "spans 65536 ports, more than the cap of 8192"},
		{"too many port numbers in all", many.String(), 2 + MaxPostings/MaxWidth, "more than the cap of 1000000"},
	} {
		_, err := Parse(strings.NewReader(tc.csv))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want line %d: …%s", tc.name, err, tc.line, tc.want)
		}
	}
	// Rows that did not come through Parse meet the same caps in Compile.
	rows := []Row{{Name: "a", Proto: ports.TCP, Low: 0, High: ports.Max}}
	if _, err := Compile(rows, "2026-01-01", "test"); err == nil || !strings.Contains(err.Error(), "cap") {
		t.Errorf("Compile of a 65536-port row: %v", err)
	}
	// The real registry is far inside every cap.
	real := mustParse(t, readCSV(t))
	covered, widest := 0, 0
	for _, r := range real {
		if r.HasPort() {
			covered += r.High - r.Low + 1
			widest = max(widest, r.High-r.Low+1)
		}
	}
	if len(real)*10 > MaxRows || widest*8 > MaxWidth || covered*10 > MaxPostings || len(embedded)*20 > MaxBlob {
		t.Errorf("caps too close to the real registry: %d rows, widest %d, %d postings, %d bytes",
			len(real), widest, covered, len(embedded))
	}
}

// Every named row of the registry can be asked for by name: ParseSpec reads
// it as a service, not as a number or as "0x50"-style hexadecimal, which
// ParseSpec refuses with the decimal port to write.
func TestEveryNameParsesAsAService(t *testing.T) {
	x := Embedded()
	checked := 0
	for i := range x.Len() {
		name := x.Row(i).Name
		if name == "" || strings.ContainsAny(name, " /") {
			continue // no name, or a legacy name a slash splits ("914c/g" is tested in ports)
		}
		checked++
		spec, err := ports.ParseSpec(name)
		if err != nil || spec.Service != name {
			t.Errorf("registry name %q: ParseSpec = %+v, %v", name, spec, err)
		}
	}
	if checked < x.Len()/2 {
		t.Errorf("checked %d names of %d rows", checked, x.Len())
	}
}
