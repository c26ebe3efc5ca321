package watch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/process"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
	"github.com/porthole/porthole/internal/testenv"
)

func newClock() *testenv.Clock {
	return testenv.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
}

func pid(n int) *int { return &n }

func row(port, p int, exe string) dossier.Listener {
	return dossier.Listener{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("127.0.0.1"), Port: port, PID: pid(p), Exe: exe,
		Process: exe[strings.LastIndexByte(exe, '/')+1:], NetNS: 1, HostNetNS: true}
}

// scripted returns the scans in order; an error entry fails that scan.
type scripted struct {
	scans [][]dossier.Listener
	errs  []error
	i     int
}

func (s *scripted) Scan(context.Context) ([]dossier.Listener, error) {
	i := s.i
	s.i++
	if i < len(s.errs) && s.errs[i] != nil {
		return nil, s.errs[i]
	}
	return s.scans[i], nil
}

func types(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s %d %s", e.Type, e.Listener.Port, e.Listener.Exe))
	}
	return out
}

func TestPollIdentity(t *testing.T) {
	clock := newClock()
	s := &scripted{
		scans: [][]dossier.Listener{
			{row(22, 10, "/usr/sbin/sshd"), row(80, 11, "/usr/sbin/nginx")},
			// sshd restarted (new pid), nginx's socket reported twice (two workers)
			{row(22, 99, "/usr/sbin/sshd"), row(80, 12, "/usr/sbin/nginx"), row(80, 13, "/usr/sbin/nginx")},
			nil, // failed scan
			// 80 now held by another program; 22 gone; 443 new
			{row(80, 14, "/tmp/evil"), row(443, 15, "/usr/sbin/nginx")},
			// owner not visible for a moment: not a change
			{{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("127.0.0.1"), Port: 80, NetNS: 1, HostNetNS: true, OwnerUnknown: sockets.OwnerNotFound}, row(443, 15, "/usr/sbin/nginx")},
			{row(80, 14, "/tmp/evil"), row(443, 15, "/usr/sbin/nginx")},
		},
		errs: []error{nil, nil, errors.New("netlink: interrupted")},
	}
	w := &Watcher{Scan: s.Scan, Now: clock.Now, Metrics: NewMetrics()}
	want := [][]string{
		{"added 22 /usr/sbin/sshd", "added 80 /usr/sbin/nginx"},
		nil,
		nil,
		{"owner-changed 80 /tmp/evil", "added 443 /usr/sbin/nginx", "removed 22 /usr/sbin/sshd"},
		nil,
		nil,
	}
	for i, w2 := range want {
		evs, err := w.Poll(context.Background())
		if (err != nil) != (i == 2) {
			t.Fatalf("scan %d: err %v", i, err)
		}
		got := types(evs)
		if strings.Join(got, "|") != strings.Join(w2, "|") {
			t.Errorf("scan %d: events %q, want %q", i, got, w2)
		}
		for _, e := range evs {
			if !e.Time.Equal(clock.Now()) {
				t.Errorf("event time %v, want the injected clock's %v", e.Time, clock.Now())
			}
			if e.Initial != (i == 0) {
				t.Errorf("scan %d: initial = %v", i, e.Initial)
			}
			if e.Type == OwnerChanged && (e.Previous == nil || e.Previous.Exe != "/usr/sbin/nginx") {
				t.Errorf("owner change without the previous owner: %+v", e)
			}
		}
		clock.Advance(time.Second)
	}
}

func TestNoInitial(t *testing.T) {
	s := &scripted{scans: [][]dossier.Listener{{row(22, 1, "/usr/sbin/sshd")}, {row(22, 1, "/usr/sbin/sshd"), row(23, 2, "/usr/sbin/telnetd")}}}
	w := &Watcher{Scan: s.Scan, Now: newClock().Now, NoInitial: true}
	if evs, _ := w.Poll(context.Background()); len(evs) != 0 {
		t.Errorf("first scan with NoInitial: %v", types(evs))
	}
	if evs, _ := w.Poll(context.Background()); len(evs) != 1 || evs[0].Type != Added || evs[0].Initial {
		t.Errorf("second scan: %+v", evs)
	}
}

func mustKnowledge(tb testing.TB) (*registry.Index, *intel.DB) {
	tb.Helper()
	db, err := intel.Default()
	if err != nil {
		tb.Fatal(err)
	}
	return registry.Embedded(), db
}

func needLive(t *testing.T) {
	t.Helper()
	testenv.NeedLinux(t)
	testenv.NeedRoot(t)
}

// Scenario 5: a listener that appears and vanishes between ticks gives an
// added and then a removed event. Poll is driven directly with a fake clock.
func TestScenarioAppearVanish(t *testing.T) {
	needLive(t)
	reg, db := mustKnowledge(t)
	clock := newClock()
	live := &Live{Registry: reg, Intel: db}
	w := &Watcher{Scan: live.Scan, Now: clock.Now}
	if _, err := w.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	mine := func(evs []Event) []Event {
		var out []Event
		for _, e := range evs {
			if e.Listener.Port == port && e.Listener.Addr.String() == "127.0.0.1" {
				out = append(out, e)
			}
		}
		return out
	}
	clock.Advance(time.Second)
	evs, err := w.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	added := mine(evs)
	if len(added) != 1 || added[0].Type != Added || added[0].Initial || added[0].Listener.PID == nil ||
		*added[0].Listener.PID != os.Getpid() || !added[0].Time.Equal(clock.Now()) {
		t.Fatalf("after listen: %+v", added)
	}
	// No change, no event (and owners are not looked up again).
	full := live.Full
	clock.Advance(time.Second)
	if evs, _ := w.Poll(context.Background()); len(mine(evs)) != 0 {
		t.Errorf("unchanged scan: %v", types(mine(evs)))
	}
	l.Close()
	clock.Advance(time.Second)
	evs, err = w.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	removed := mine(evs)
	if len(removed) != 1 || removed[0].Type != Removed || !removed[0].Time.Equal(clock.Now()) || removed[0].Listener.Exe == "" {
		t.Fatalf("after close: %+v", removed)
	}
	if live.Full < full+1 {
		t.Errorf("owner lookups %d -> %d: the change did not trigger one", full, live.Full)
	}
}

func TestLiveSkipsOwnerLookupWhenUnchanged(t *testing.T) {
	calls := map[bool]int{}
	sock := sockets.Listener{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("127.0.0.1"), Port: 8080, Inode: 7, NetNS: 1, HostNetNS: true}
	list := func(_ context.Context, q sockets.Query) ([]sockets.Listener, error) {
		calls[q.NoOwners]++
		l := sock
		if !q.NoOwners {
			l.Owners = []process.Info{{PID: 5, Exe: "/usr/bin/x", Name: "x"}}
		}
		return []sockets.Listener{l}, nil
	}
	reg, db := mustKnowledge(t)
	live := &Live{Registry: reg, Intel: db, List: list, FullEvery: 3}
	for range 5 {
		if _, err := live.Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// scan 1 full; 2-4 cheap (since 0,1,2 < 3); scan 5 full again.
	if calls[false] != 2 || calls[true] != 3 {
		t.Errorf("full %d, cheap %d; want 2 and 3", calls[false], calls[true])
	}
	sock.Inode = 8 // the socket was re-created
	live.Scan(context.Background())
	if calls[false] != 3 {
		t.Errorf("a new inode did not trigger an owner lookup")
	}
}

func TestMetrics(t *testing.T) {
	reg, db := mustKnowledge(t)
	bagle := row(2556, 7, "/tmp/x/bagle")
	s := &scripted{scans: [][]dossier.Listener{{row(22, 1, "/usr/sbin/sshd"), bagle}, nil},
		errs: []error{nil, errors.New("boom")}}
	m := NewMetrics()
	w := &Watcher{Scan: s.Scan, Now: newClock().Now, Metrics: m,
		Judge: func(rows []dossier.Listener) *audit.Report {
			return audit.Run(rows, audit.Options{Registry: reg, Intel: db})
		}}
	evs, _ := w.Poll(context.Background())
	if len(evs) != 2 || len(evs[1].Findings) == 0 || !strings.Contains(strings.Join(evs[1].Findings, " "), "known-bad-port:critical") {
		t.Errorf("events %+v", evs)
	}
	w.Poll(context.Background())
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	body := b.String()
	for _, want := range []string{
		`porthole_listeners{proto="tcp"} 2`,
		`porthole_listeners{proto="udp"} 0`,
		`porthole_listeners_by_severity{severity="critical"} 1`,
		`porthole_listeners_by_severity{severity="none"} 1`,
		`porthole_findings{rule="known-bad-port"} 1`,
		`porthole_findings{rule="exe-in-writable-dir"} 1`,
		`porthole_scans_total 2`,
		`porthole_scan_errors_total 1`,
		`porthole_events_total{event="added"} 2`,
		`porthole_scan_duration_seconds_count 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if resp.Header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	promtoolCheck(t, body)
	// Bounded cardinality: no port or pid labels anywhere.
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "porthole_") && (strings.Contains(line, "port=") || strings.Contains(line, "pid=")) {
			t.Errorf("unbounded label: %s", line)
		}
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	scan := func(context.Context) ([]dossier.Listener, error) {
		n++
		if n == 3 {
			cancel()
		}
		return []dossier.Listener{row(22, n, "/usr/sbin/sshd")}, nil
	}
	w := &Watcher{Scan: scan, Now: newClock().Now}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, time.Millisecond, func([]Event) error { return nil }, nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
}

func BenchmarkPoll10k(b *testing.B) {
	rows := make([]dossier.Listener, 10_000)
	for i := range rows {
		rows[i] = row(10000+i, 100+i/100, fmt.Sprintf("/usr/lib/s%d/srv", i/100))
	}
	alt := append([]dossier.Listener(nil), rows...)
	alt[5000].Exe = "/tmp/other"
	flip := false
	w := &Watcher{Now: newClock().Now, Scan: func(context.Context) ([]dossier.Listener, error) {
		flip = !flip
		if flip {
			return rows, nil
		}
		return alt, nil
	}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// promtoolCheck runs `promtool check metrics` over a scrape and fails on any
// complaint, lint warnings included. Without promtool it skips, or fails when
// CI is set (scripts/test.sh installs the Debian package prometheus).
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	path := testenv.NeedTool(t, "promtool", "prometheus")
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) != 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// Close gives back the fingerprint's netlink socket (and trigger) that Scan
// keeps open between scans; a Scan after Close works again.
func TestLiveCloseReleases(t *testing.T) {
	needLive(t)
	reg, db := mustKnowledge(t)
	live := &Live{Registry: reg, Intel: db}
	openFDs := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	if _, err := live.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	scanning := openFDs()
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	if closed := openFDs(); closed >= scanning {
		t.Fatalf("%d descriptors open after Close, %d before", closed, scanning)
	}
	if rows, err := live.Scan(context.Background()); err != nil || len(rows) == 0 {
		t.Fatalf("Scan after Close: %d rows, %v", len(rows), err)
	}
	live.Close()
}

// Removed listeners are reported in address order (9.0.0.1 before
// 10.0.0.1), the order sockets.List gives the added ones.
func TestRemovedInAddressOrder(t *testing.T) {
	var first []dossier.Listener
	for _, a := range []string{"10.0.0.1", "::1", "9.0.0.1"} {
		r := row(80, 1, "/usr/sbin/nginx")
		r.Addr = netip.MustParseAddr(a)
		first = append(first, r)
	}
	w := &Watcher{Scan: (&scripted{scans: [][]dossier.Listener{first, {}}}).Scan, Now: newClock().Now}
	if _, err := w.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs, err := w.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Type+" "+e.Listener.Addr.String())
	}
	if want := "removed 9.0.0.1|removed 10.0.0.1|removed ::1"; strings.Join(got, "|") != want {
		t.Errorf("events %q, want %s", got, want)
	}
}
