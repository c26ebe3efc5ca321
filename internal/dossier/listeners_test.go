package dossier

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/process"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
)

// annotated is a few sockets as List reports them, annotated with the
// embedded registry and intel.
func annotated(t *testing.T) []Listener {
	t.Helper()
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	ls := []sockets.Listener{
		{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("127.0.0.1"), Port: 2556, Inode: 11, UID: 0, NetNS: 1, HostNetNS: true,
			Owners: []process.Info{{PID: 42, Name: "bagle", Exe: "/tmp/x/bagle", User: "root"}, {PID: 43, Name: "bagle"}}},
		{Proto: ports.TCP, Family: 6, Addr: netip.IPv6Unspecified(), Port: 22, UID: -1, DualStack: true, OwnerUnknown: sockets.OwnerNotRoot},
		{Proto: ports.UDP, Family: 6, Addr: netip.MustParseAddr("::1"), Port: 53, UID: 101, NetNS: 7, OwnerUnknown: sockets.OwnerOtherNetNS},
	}
	return Annotate(ls, registry.Embedded(), db)
}

func TestListenerTypedAndItsRow(t *testing.T) {
	rows := annotated(t)
	bagle, ssh, dns := &rows[0], &rows[1], &rows[2]
	if bagle.Proto != ports.TCP || bagle.Addr != netip.MustParseAddr("127.0.0.1") || bagle.ThreatKind == "" ||
		bagle.ThreatConfidence == "" || *bagle.PID != 42 || len(bagle.PIDs) != 2 || bagle.OwnerUnknown != sockets.OwnerKnown {
		t.Errorf("bagle: %+v", bagle)
	}
	if ssh.Status != registry.StatusAssigned || ssh.Service != "ssh" || ssh.PID != nil || ssh.OwnerUnknown != sockets.OwnerNotRoot {
		t.Errorf("ssh: %+v", ssh)
	}
	for _, tc := range []struct {
		l          *Listener
		hostPort   string
		netns      string
		reason     string
		jsonPieces []string
	}{
		{bagle, "127.0.0.1:2556", "", "",
			[]string{`"proto":"tcp"`, `"address":"127.0.0.1"`, `"pids":[42,43]`, `"owner_unknown":null`, `"owner_unknown_reason":null`, `"loopback":true`, `"uid":0`}},
		{ssh, "[::]:22", "", OwnerUnknownText(i18n.EN, sockets.OwnerNotRoot),
			[]string{`"address":"::"`, `"pid":null`, `"owner_unknown":"not-root"`, `"uid":null`, `"dual_stack":true`, `"status":"assigned"`, `"service":"ssh"`}},
		{dns, "[::1]:53", "7", OwnerUnknownText(i18n.EN, sockets.OwnerOtherNetNS),
			[]string{`"proto":"udp"`, `"owner_unknown":"other-netns"`, `"netns":7`, `"loopback":true`}},
	} {
		if got := tc.l.HostPort(); got != tc.hostPort {
			t.Errorf("HostPort = %q, want %q", got, tc.hostPort)
		}
		if got := tc.l.NetNSLabel(); got != tc.netns {
			t.Errorf("%s: NetNSLabel = %q, want %q", tc.hostPort, got, tc.netns)
		}
		if got := tc.l.Row().OwnerUnknownReason; got != tc.reason {
			t.Errorf("%s: reason %q, want %q", tc.hostPort, got, tc.reason)
		}
		b, err := json.Marshal(tc.l)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range tc.jsonPieces {
			if !bytes.Contains(b, []byte(p)) {
				t.Errorf("%s: JSON lacks %s: %s", tc.hostPort, p, b)
			}
		}
		if tc.reason != "" && !bytes.Contains(b, []byte(`"owner_unknown_reason":"`+tc.reason+`"`)) {
			t.Errorf("%s: JSON lacks the English reason: %s", tc.hostPort, b)
		}
		var back Listener
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		b2, _ := json.Marshal(back)
		if back.Proto != tc.l.Proto || back.Addr != tc.l.Addr || back.UID != tc.l.UID || back.OwnerUnknown != tc.l.OwnerUnknown ||
			back.Status != tc.l.Status || !reflect.DeepEqual(back.PID, tc.l.PID) || !bytes.Equal(b, b2) {
			t.Errorf("%s: read back as\n%+v\nwant\n%+v", tc.hostPort, back, *tc.l)
		}
	}
}

func TestListenerJSONErrors(t *testing.T) {
	var l Listener
	for _, in := range []string{`{"proto":"icmp"}`, `{"proto":"tcp","address":"localhost"}`, `{"proto":1}`, `[]`} {
		if err := json.Unmarshal([]byte(in), &l); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
	long := `{"proto":"tcp","address":"` + strings.Repeat("x", 5000) + `"}`
	if err := json.Unmarshal([]byte(long), &l); err == nil || len(err.Error()) > 200 {
		t.Errorf("a long address: error %v", err)
	}
}

// FuzzListenerJSON: whatever a listener is read from, writing it and
// reading it back gives the same listener and the same JSON.
func FuzzListenerJSON(f *testing.F) {
	for _, l := range []Listener{
		{Proto: ports.TCP, Family: 6, Addr: netip.MustParseAddr("fe80::1%eth0"), Port: 1, UID: -1, OwnerUnknown: sockets.OwnerNoPID},
		{Proto: ports.UDP, Family: 4, Addr: netip.MustParseAddr("10.0.0.1"), Port: 65535, PID: new(int), Cmdline: []string{"a"}},
	} {
		b, err := json.Marshal(l)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"proto":"","address":"","uid":null,"pids":[],"owner_unknown":"kernel"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var l Listener
		if json.Unmarshal(b, &l) != nil {
			return
		}
		out, err := json.Marshal(l)
		if err != nil {
			t.Fatalf("%+v: %v", l, err)
		}
		var l2 Listener
		if err := json.Unmarshal(out, &l2); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		out2, err := json.Marshal(l2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("%s\nwritten again as\n%s (%v)", out, out2, err)
		}
	})
}

// A listener's Expected names what info calls the port's usual occupants
// (Relevance.Usual): the most confident narrow use entries, not a
// low-confidence one beside them, while ExpectedPrograms keeps every use
// entry's programs (what audit accepts as the owner).
func TestListenerExpectedIsWhatInfoCallsUsual(t *testing.T) {
	base := intel.Entry{Confidence: intel.High, Ports: []intel.PortRef{{Proto: ports.TCP, Low: 40002, High: 40002}},
		Description: "d", Sources: []intel.Source{{Title: "s", URL: "https://example.org/e"}}}
	server, tunnel, threat := base, base, base
	server.ID, server.Name, server.Kind, server.Category, server.Programs = "server", "Common server", intel.Vendor, intel.Use, []string{"srv"}
	tunnel.ID, tunnel.Name, tunnel.Kind, tunnel.Category, tunnel.Confidence, tunnel.Programs = "tunnel", "Odd tunnel", intel.Tunnel, intel.Use, intel.Low, []string{"tun"}
	threat.ID, threat.Name, threat.Kind, threat.Category, threat.Confidence = "bad", "Bad tool", intel.Exploit, intel.Threat, intel.Low
	db := intel.New([]intel.Entry{server, tunnel, threat})
	rows := Annotate([]sockets.Listener{{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("127.0.0.1"), Port: 40002, UID: 0}},
		registry.Embedded(), db)
	rel := RelevanceOf(40002, ports.TCP, db.ForPort(40002), registry.Embedded())
	var usual []string
	for _, o := range rel.Usual() {
		usual = append(usual, o.Name)
	}
	if !reflect.DeepEqual(rows[0].Expected, usual) || !reflect.DeepEqual(usual, []string{"Common server"}) {
		t.Errorf("listener expected %q, usual %q; want both [Common server]", rows[0].Expected, usual)
	}
	if !reflect.DeepEqual(rows[0].ExpectedPrograms, []string{"srv", "tun"}) {
		t.Errorf("expected programs %q, want every use entry's", rows[0].ExpectedPrograms)
	}
}

// A listing long enough to be annotated in two halves at once comes out
// as annotated in one go: the same rows, in order, with equal facts
// (ports repeat across the halves' boundary, and some hold threats).
func TestAnnotateHalvesAsOne(t *testing.T) {
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.Embedded()
	owner := []process.Info{{PID: 7, Name: "srv", Exe: "/usr/sbin/srv", Cmdline: []string{"srv", "-d"}, User: "root"}}
	ls := make([]sockets.Listener, 5000)
	for i := range ls {
		p := []int{22, 80, 2556, 6379, 31337}[i%5] + i/50 // sorted runs of one port, some twice
		ls[i] = sockets.Listener{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("127.0.0.1"), Port: p, Inode: uint64(i + 1), UID: 0,
			NetNS: 1, HostNetNS: true, Owners: owner}
		if i%7 == 0 {
			ls[i].Proto, ls[i].Owners, ls[i].OwnerUnknown = ports.UDP, nil, sockets.OwnerNotFound
		}
	}
	slices.SortStableFunc(ls, func(a, b sockets.Listener) int { return a.Port - b.Port })
	split := Annotate(ls, reg, db)
	old := annotateSplit
	annotateSplit = len(ls) + 1
	one := Annotate(ls, reg, db)
	annotateSplit = old
	threats := 0
	for i := range one {
		if !reflect.DeepEqual(one[i], split[i]) {
			t.Fatalf("row %d: halves %+v, one go %+v", i, split[i], one[i])
		}
		if one[i].Threat != "" {
			threats++
		}
	}
	if threats == 0 {
		t.Error("no row has a threat: the sample does not exercise the intel lookups")
	}
}
