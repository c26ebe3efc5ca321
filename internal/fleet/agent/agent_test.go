package agent

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/fleet/fleetapi"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/process"
	"github.com/porthole/porthole/internal/sockets"
)

var (
	ctx  = context.Background()
	base = time.Date(2026, 3, 18, 9, 30, 0, 0, time.UTC)
)

const admin = "admin-token-of-at-least-32-bytes-0123456789"

// server is a real fleet API on a loopback socket with a SQLite inventory;
// it can be stopped and started again on the same address and database.
type server struct {
	t    *testing.T
	db   *fleetdb.DB
	path string
	addr string
	srv  *httptest.Server
	tok  string
}

func newServer(t *testing.T) *server {
	s := &server{t: t, path: filepath.Join(t.TempDir(), "fleet.db")}
	var err error
	if s.db, err = fleetdb.Open(ctx, s.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.db.Close() })
	s.tok, _ = fleet.NewToken(rand.Reader)
	if _, err := s.db.Token(ctx, "h1", fleet.HashToken(s.tok), base); err != nil {
		t.Fatal(err)
	}
	s.start()
	return s
}

func (s *server) start() {
	h, err := fleetapi.New(fleetapi.Options{DB: s.db, AdminToken: admin, Now: func() time.Time { return base }})
	if err != nil {
		s.t.Fatal(err)
	}
	s.srv = httptest.NewUnstartedServer(h)
	if s.addr != "" {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			s.t.Fatal(err)
		}
		s.srv.Listener = ln
	}
	s.srv.Start()
	s.addr = s.srv.Listener.Addr().String()
	s.t.Cleanup(s.srv.Close)
}

func (s *server) stop() { s.srv.Close() }

func (s *server) url() string { return "http://" + s.addr }

func lis(port uint16, pid int) fleet.Listener {
	return fleet.Listener{Key: fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr("0.0.0.0"), Port: port},
		Owner: fleet.Owner{PID: pid, UID: 0, User: "root", Process: "d", Exe: "/usr/bin/d"}}
}

// newAgent makes an agent as Run does, without its loop: the test moves
// time and calls enqueue and flush itself.
func newAgent(t *testing.T, s *server, spool string) *agent {
	t.Helper()
	a := &agent{c: Config{Server: s.url(), Token: s.tok, Name: "h1", Interval: 30 * time.Second, Spool: spool,
		Client: &http.Client{Timeout: 10 * time.Second}}, run: randomRun(t)}
	a.c.Log = discard()
	// Run keys sort by start: the test's runs start in order.
	runs = append(runs, a.run)
	a.runKey = fmt.Sprintf("%020d-%s", len(runs), a.run)
	if spool != "" {
		if err := a.loadSpool(); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

var runs []string

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func randomRun(t *testing.T) string {
	b := make([]byte, 16)
	rand.Read(b)
	const hexd = "0123456789abcdef"
	out := make([]byte, 32)
	for i, c := range b {
		out[2*i], out[2*i+1] = hexd[c>>4], hexd[c&15]
	}
	return string(out)
}

func step(t *testing.T, a *agent, ls []fleet.Listener, now time.Time) {
	t.Helper()
	stepState(t, a, State{Listeners: ls}, now)
}

func stepState(t *testing.T, a *agent, st State, now time.Time) {
	t.Helper()
	if err := a.enqueue(st, now); err != nil {
		t.Fatal(err)
	}
	if err := a.flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func inventory(t *testing.T, s *server) []fleet.Listener {
	t.Helper()
	ls, err := s.db.Listeners(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func changes(t *testing.T, s *server) string {
	t.Helper()
	cs, err := s.db.Changes(ctx, "h1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(cs) - 1; i >= 0; i-- {
		c := cs[i]
		w := string(c.Kind)
		if c.Listener.Port != 0 {
			w += ":" + c.Listener.Key.String()[4:]
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

func TestFullDeltaHeartbeat(t *testing.T) {
	s := newServer(t)
	a := newAgent(t, s, "")
	one, two := lis(22, 1), lis(80, 2)
	step(t, a, []fleet.Listener{one}, base)
	step(t, a, []fleet.Listener{one}, base.Add(10*time.Second)) // nothing changed, no interval passed: nothing sent
	step(t, a, []fleet.Listener{one, two}, base.Add(20*time.Second))
	step(t, a, []fleet.Listener{two}, base.Add(40*time.Second))
	step(t, a, []fleet.Listener{two}, base.Add(70*time.Second)) // an interval without change: a heartbeat
	if got := inventory(t, s); !reflect.DeepEqual(got, []fleet.Listener{two}) {
		t.Errorf("inventory = %v", got)
	}
	if got, want := changes(t, s), "run added:0.0.0.0:22 added:0.0.0.0:80 removed:0.0.0.0:22"; got != want {
		t.Errorf("changes = %q, want %q", got, want)
	}
	hs, _ := s.db.Hosts(ctx)
	if hs[0].LastSeq != 4 || hs[0].Gaps != 0 || hs[0].Reports != 4 {
		t.Errorf("host = %+v; want 4 reports (full, delta, delta, heartbeat) and no gap", hs[0])
	}
	if len(a.queue) != 0 {
		t.Errorf("%d reports still queued", len(a.queue))
	}
}

// TestSpoolWhileDown: reports made while the server is down are kept in
// the spool and sent in order when it is back, and a resend is harmless.
func TestSpoolWhileDown(t *testing.T) {
	s := newServer(t)
	spool := t.TempDir()
	a := newAgent(t, s, spool)
	step(t, a, []fleet.Listener{lis(22, 1)}, base)
	s.stop()
	step(t, a, []fleet.Listener{lis(22, 1), lis(80, 2)}, base.Add(10*time.Second))
	step(t, a, []fleet.Listener{lis(80, 2)}, base.Add(20*time.Second))
	step(t, a, []fleet.Listener{lis(80, 3)}, base.Add(30*time.Second))
	if files := spoolFiles(t, spool); len(files) != 3 {
		t.Fatalf("spool holds %d files while the server is down, want 3: %v", len(files), files)
	}
	// A report that was applied but whose answer was lost is sent again.
	dup := a.queue[0]
	s.start()
	if err := a.flush(ctx); err != nil {
		t.Fatal(err)
	}
	a.queue = append(a.queue, dup)
	if err := a.flush(ctx); err != nil {
		t.Fatal(err)
	}
	if files := spoolFiles(t, spool); len(files) != 0 {
		t.Errorf("spool not emptied: %v", files)
	}
	if got, want := inventory(t, s), []fleet.Listener{lis(80, 3)}; !reflect.DeepEqual(got, want) {
		t.Errorf("inventory = %v, want %v", got, want)
	}
	if got, want := changes(t, s), "run added:0.0.0.0:22 added:0.0.0.0:80 removed:0.0.0.0:22 changed:0.0.0.0:80"; got != want {
		t.Errorf("changes = %q, want %q", got, want)
	}
}

// TestRestartResendsSpool: an agent killed with reports in its spool; the
// next run sends them first, then its own full state, and nothing is lost or
// applied twice.
func TestRestartResendsSpool(t *testing.T) {
	s := newServer(t)
	spool := t.TempDir()
	a := newAgent(t, s, spool)
	step(t, a, []fleet.Listener{lis(22, 1)}, base)
	s.stop()
	step(t, a, []fleet.Listener{lis(22, 1), lis(80, 2)}, base.Add(10*time.Second))
	// The agent dies here; a stray file and a torn report lie in the spool.
	os.WriteFile(filepath.Join(spool, "notes.txt"), []byte("mine"), 0o600)
	torn := filepath.Join(spool, a.runKey+"-00000000000000000099.json")
	os.WriteFile(torn, []byte(`{"version":1,"ho`), 0o600)
	s.start()
	b := newAgent(t, s, spool)
	if len(b.queue) != 1 {
		t.Fatalf("the new run queued %d reports of the old, want 1", len(b.queue))
	}
	step(t, b, []fleet.Listener{lis(80, 2)}, base.Add(20*time.Second))
	if got, want := inventory(t, s), []fleet.Listener{lis(80, 2)}; !reflect.DeepEqual(got, want) {
		t.Errorf("inventory = %v, want %v", got, want)
	}
	if got, want := changes(t, s), "run added:0.0.0.0:22 added:0.0.0.0:80 run removed:0.0.0.0:22"; got != want {
		t.Errorf("changes = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(spool, "notes.txt")); err != nil {
		t.Error("the agent touched a file that is not its own")
	}
	if _, err := os.Stat(torn + ".bad"); err != nil {
		t.Errorf("the torn report was not set aside: %v", err)
	}
	if files := spoolFiles(t, spool); len(files) != 0 {
		t.Errorf("spool not emptied: %v", files)
	}
}

// TestResync: a server that does not follow this run (its database was
// restored, say) gets the full state again.
func TestResync(t *testing.T) {
	s := newServer(t)
	a := newAgent(t, s, "")
	step(t, a, []fleet.Listener{lis(22, 1)}, base)
	// Another run of this host took over on the server.
	b := newAgent(t, s, "")
	step(t, b, nil, base.Add(time.Second))
	step(t, a, []fleet.Listener{lis(22, 1), lis(80, 2)}, base.Add(2*time.Second)) // 409: resync
	if a.synced {
		t.Fatal("the agent did not mark itself unsynced after a 409")
	}
	step(t, a, []fleet.Listener{lis(22, 1), lis(80, 2)}, base.Add(3*time.Second))
	if got, want := inventory(t, s), []fleet.Listener{lis(22, 1), lis(80, 2)}; !reflect.DeepEqual(got, want) {
		t.Errorf("inventory = %v, want %v", got, want)
	}
}

func TestRefused(t *testing.T) {
	s := newServer(t)
	a := newAgent(t, s, "")
	a.c.Token, _ = fleet.NewToken(rand.Reader)
	if err := a.enqueue(State{}, base); err != nil {
		t.Fatal(err)
	}
	if err := a.flush(ctx); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "401") {
		t.Errorf("flush with a wrong token = %v", err)
	}
	a.c.Token, a.c.Name = s.tok, "h2"
	if err := a.flush(ctx); err != nil {
		t.Fatal(err) // the queued report is for h1; its token is right now
	}
	a.queue = nil
	a.synced = false
	if err := a.enqueue(State{}, base); err != nil {
		t.Fatal(err)
	}
	if err := a.flush(ctx); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "403") {
		t.Errorf("flush of another host's report = %v", err)
	}
}

// TestRunStops: Run sends the full state, then stops when its context ends.
func TestRunStops(t *testing.T) {
	s := newServer(t)
	c, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	reads := 0
	done := make(chan error, 1)
	go func() {
		done <- Run(c, Config{Server: s.url(), Token: s.tok, Name: "h1", Interval: time.Second, Log: discard(),
			Snapshot: func(context.Context) (State, error) {
				mu.Lock()
				defer mu.Unlock()
				reads++
				return State{Listeners: []fleet.Listener{lis(22, 1)}}, nil
			}})
	}()
	for i := 0; i < 1000 && len(inventory(t, s)) == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if got := inventory(t, s); len(got) != 1 {
		t.Errorf("inventory = %v", got)
	}
}

func spoolFiles(t *testing.T, dir string) []string {
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if spoolName(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"/usr/bin/nginx", 100, "/usr/bin/nginx"},
		{"/tmp/a\nb", 100, `/tmp/a\x0ab`},
		{"/tmp/\x1b[31mred", 100, `/tmp/\x1b[31mred`},
		{"bad\xffutf8", 100, `bad\xffutf8`},
		{"c1\u0085x", 100, `c1\u0085x`},
		{"한국어", 7, "한국"},
		{"abc", 2, "ab"},
	}
	for _, tc := range tests {
		if got := clean(tc.in, tc.max); got != tc.want {
			t.Errorf("clean(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestFromSockets(t *testing.T) {
	ls := []sockets.Listener{
		{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("0.0.0.0"), Port: 443, UID: 33, HostNetNS: true, NetNS: 1,
			Owners: []process.Info{{PID: 20, Name: "nginx", Exe: "/usr/sbin/nginx", UID: 33, User: "www-data"}, {PID: 10, Name: "nginx", Exe: "/usr/sbin/nginx", UID: 0, User: "root"}}},
		{Proto: ports.UDP, Family: 6, Addr: netip.MustParseAddr("::"), Port: 5353, UID: 0, NetNS: 7},
		{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("10.0.0.1"), Port: 2556, UID: -1, NetNS: 8,
			Owners: []process.Info{{PID: 5, Name: "x\n", Exe: "/tmp/x\n", UID: -1, Container: "abc"}}},
	}
	got := FromSockets(ls, map[uint64]string{7: "blue"})
	want := []fleet.Listener{
		{Key: fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr("0.0.0.0"), Port: 443},
			Owner: fleet.Owner{PID: 10, UID: 0, User: "root", Process: "nginx", Exe: "/usr/sbin/nginx"}},
		{Key: fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 2556, NetNS: "netns:8"},
			Owner: fleet.Owner{PID: 5, UID: -1, Process: `x\x0a`, Exe: `/tmp/x\x0a`, Container: "abc"}},
		{Key: fleet.Key{Proto: ports.UDP, Addr: netip.MustParseAddr("::"), Port: 5353, NetNS: "blue"}, Owner: fleet.Owner{UID: 0}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromSockets:\n got %+v\nwant %+v", got, want)
	}
	r := fleet.Report{Host: "h", Agent: "a", Seq: 1, Kind: fleet.KindFull, Interval: time.Second, Listeners: got}
	if err := r.Validate(); err != nil {
		t.Errorf("the converted listeners are not a valid report: %v", err)
	}
}

// TestFindings: audit findings go with the full report, then only when
// they change (a delta with no listener change), and reach the inventory.
func TestFindings(t *testing.T) {
	s := newServer(t)
	a := newAgent(t, s, "")
	one := lis(2556, 1)
	tmp := fleet.Finding{Rule: "exe-in-writable-dir", Severity: "high", Key: one.Key, Reason: "runs from /tmp"}
	bad := fleet.Finding{Rule: "known-bad-port", Severity: "critical", Key: one.Key, Reason: "port of a worm"}
	st := func(fs ...fleet.Finding) State {
		return State{Listeners: []fleet.Listener{one}, Findings: fs, Audited: true}
	}
	stepState(t, a, st(tmp), base)
	stepState(t, a, st(tmp), base.Add(10*time.Second)) // nothing new: nothing sent
	stepState(t, a, st(bad, tmp), base.Add(20*time.Second))
	hs, _ := s.db.Hosts(ctx)
	if hs[0].LastSeq != 2 {
		t.Errorf("last seq = %d, want 2 (full, then one delta for the new finding)", hs[0].LastSeq)
	}
	fs, err := s.db.Findings(ctx, "h1")
	if err != nil || len(fs) != 2 || fs[0].Finding != bad || fs[1].Finding != tmp {
		t.Errorf("findings = %+v, %v", fs, err)
	}
	stepState(t, a, st(), base.Add(30*time.Second)) // the findings went away
	if fs, _ := s.db.Findings(ctx, "h1"); len(fs) != 0 {
		t.Errorf("findings after they went away = %+v", fs)
	}
	// A snapshot without the audit says nothing about findings.
	stepState(t, a, State{Listeners: []fleet.Listener{one}}, base.Add(70*time.Second))
	if hs, _ := s.db.Hosts(ctx); hs[0].LastSeq != 4 {
		t.Errorf("last seq = %d, want 4 (a heartbeat)", hs[0].LastSeq)
	}
}

// TestTooManyFindings: a host with more findings than a report may carry (a
// process in /tmp holding thousands of listeners has one each) still
// reports; the server keeps the most severe ones, not the first in order.
// The agent's limit is lowered from fleet.MaxFindings to keep the test small.
func TestTooManyFindings(t *testing.T) {
	s := newServer(t)
	a := newAgent(t, s, "")
	a.maxFindings = 10
	n := a.maxFindings + 5
	st := State{Audited: true}
	for i := range n {
		l := lis(uint16(1024+i), 7)
		st.Listeners = append(st.Listeners, l)
		f := fleet.Finding{Rule: "exe-in-writable-dir", Severity: "low", Key: l.Key, Reason: "runs from /tmp"}
		if i == n-1 { // the last in CompareFindings order
			f.Rule, f.Severity, f.Reason = "known-bad-port", "critical", "port of a worm"
		}
		st.Findings = append(st.Findings, f)
	}
	stepState(t, a, st, base)
	if got := len(inventory(t, s)); got != n {
		t.Errorf("inventory has %d listeners, want %d", got, n)
	}
	fs, err := s.db.Findings(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	critical := 0
	for _, f := range fs {
		if f.Severity == "critical" {
			critical++
		}
	}
	if len(fs) != a.maxFindings || critical != 1 {
		t.Errorf("stored %d findings (%d critical), want %d with the critical one", len(fs), critical, a.maxFindings)
	}
	// The same state again is not a change of findings.
	stepState(t, a, st, base.Add(10*time.Second))
	if hs, _ := s.db.Hosts(ctx); hs[0].LastSeq != 1 {
		t.Errorf("last seq = %d, want 1 (nothing new to send)", hs[0].LastSeq)
	}
}

func TestMostSevere(t *testing.T) {
	k := func(p uint16) fleet.Key { return lis(p, 1).Key }
	fs := []fleet.Finding{
		{Rule: "a", Severity: "low", Key: k(1)}, {Rule: "b", Severity: "critical", Key: k(9)},
		{Rule: "c", Severity: "medium", Key: k(3)}, {Rule: "d", Severity: "info", Key: k(2)},
	}
	kept, left := fleet.MostSevere(slices.Clone(fs), 2)
	if left != 2 || len(kept) != 2 || kept[0].Rule != "c" || kept[1].Rule != "b" {
		t.Errorf("MostSevere(…, 2) = %+v, %d; want c then b (key order), 2 left out", kept, left)
	}
	if kept, left := fleet.MostSevere(slices.Clone(fs), 4); left != 0 || len(kept) != 4 {
		t.Errorf("MostSevere(…, 4) = %d kept, %d left", len(kept), left)
	}
}
