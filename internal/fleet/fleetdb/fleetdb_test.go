package fleetdb_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/testenv"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// base is the first instant of the tests' clock; no test reads the real time.
var base = time.Date(2026, 3, 18, 9, 30, 0, 0, time.UTC)

// backend opens fresh, empty inventories of one database, and raw SQL
// connections to the same database for checks behind the store's back.
type backend struct {
	name string
	// fresh returns the DSN of a new empty database.
	fresh  func(t *testing.T) string
	driver string
}

func backends(t *testing.T) []backend {
	bs := []backend{{name: "sqlite", driver: "sqlite", fresh: func(t *testing.T) string {
		return filepath.Join(t.TempDir(), "fleet.db")
	}}}
	return append(bs, backend{name: "postgres", driver: "pgx", fresh: func(t *testing.T) string { return testenv.Postgres(t) }})
}

func mustOpen(t *testing.T, dsn string) *fleetdb.DB {
	t.Helper()
	db, err := fleetdb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs every case against SQLite and PostgreSQL.
func TestConformance(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T, db *fleetdb.DB)
	}{
		{"Tokens", testTokens},
		{"Revoke", testRevoke},
		{"ApplyAs", testApplyAs},
		{"UnknownHost", testUnknownHost},
		{"FullDeltaHeartbeat", testFullDeltaHeartbeat},
		{"Replay", testReplay},
		{"Gap", testGap},
		{"NewRun", testNewRun},
		{"HostsAreSeparate", testHostsAreSeparate},
		{"Stale", testStale},
		{"Hostile", testHostile},
		{"Concurrent", testConcurrent},
		{"ConcurrentReplay", testConcurrentReplay},
		{"Outliers", testOutliers},
		{"Findings", testFindings},
		{"Close", testClose},
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.fn(t, mustOpen(t, b.fresh(t))) })
			}
			t.Run("Migrations", func(t *testing.T) { testMigrations(t, b) })
			t.Run("UpgradeFromVersion1", func(t *testing.T) { testUpgrade(t, b) })
		})
	}
}

var ctx = context.Background()

func token(t *testing.T) (string, fleet.TokenHash) {
	tok, err := fleet.NewToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return tok, fleet.HashToken(tok)
}

func addHost(t *testing.T, db *fleetdb.DB, name string) fleet.TokenHash {
	t.Helper()
	_, h := token(t)
	if _, err := db.Token(ctx, name, h, base); err != nil {
		t.Fatalf("Token(%q): %v", name, err)
	}
	return h
}

func lis(proto ports.Proto, addr string, port uint16, pid int, exe string) fleet.Listener {
	return fleet.Listener{
		Key:   fleet.Key{Proto: proto, Addr: netip.MustParseAddr(addr), Port: port},
		Owner: fleet.Owner{PID: pid, UID: 1000, User: "svc", Process: filepath.Base(exe), Exe: exe},
	}
}

func report(host, agent string, seq uint64, kind fleet.Kind) fleet.Report {
	return fleet.Report{Host: host, Agent: agent, Seq: seq, Kind: kind, Interval: 30 * time.Second}
}

func apply(t *testing.T, db *fleetdb.DB, r fleet.Report, now time.Time) fleetdb.Result {
	t.Helper()
	res, err := db.Apply(ctx, r, now)
	if err != nil {
		t.Fatalf("Apply(%s seq %d): %v", r.Kind, r.Seq, err)
	}
	return res
}

func wantListeners(t *testing.T, db *fleetdb.DB, host string, want []fleet.Listener) {
	t.Helper()
	got, err := db.Listeners(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	want = fleet.Normalize(want)
	if len(got)+len(want) > 0 && !reflect.DeepEqual(got, want) {
		t.Errorf("listeners of %s:\n got %v\nwant %v", host, got, want)
	}
}

func hostNamed(t *testing.T, db *fleetdb.DB, name string) fleetdb.Host {
	t.Helper()
	hs, err := db.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("host %q not in Hosts", name)
	return fleetdb.Host{}
}

func kinds(cs []fleetdb.Change) string {
	var s []string
	for i := len(cs) - 1; i >= 0; i-- { // oldest first
		s = append(s, string(cs[i].Kind))
	}
	return strings.Join(s, " ")
}

func testTokens(t *testing.T, db *fleetdb.DB) {
	tok1, h1 := token(t)
	created, err := db.Token(ctx, "web-1", h1, base)
	if err != nil || !created {
		t.Fatalf("Token of a new host = %v, %v; want created", created, err)
	}
	if name, err := db.HostByToken(ctx, fleet.HashToken(tok1)); err != nil || name != "web-1" {
		t.Errorf("HostByToken = %q, %v", name, err)
	}
	_, h2 := token(t)
	created, err = db.Token(ctx, "web-1", h2, base.Add(time.Hour))
	if err != nil || created {
		t.Fatalf("Token of an existing host = %v, %v; want not created", created, err)
	}
	if _, err := db.HostByToken(ctx, h1); !errors.Is(err, fleetdb.ErrUnknownHost) {
		t.Errorf("the replaced token still works: %v", err)
	}
	if name, err := db.HostByToken(ctx, h2); err != nil || name != "web-1" {
		t.Errorf("HostByToken(new) = %q, %v", name, err)
	}
	h := hostNamed(t, db, "web-1")
	if !h.Created.Equal(base) || !h.LastSeen.IsZero() || h.Revoked {
		t.Errorf("host = %+v; want created at base, never seen, not revoked", h)
	}
	for _, bad := range []string{"", "-x", "a b", "a'; DROP TABLE fleet_hosts;--", strings.Repeat("a", 64)} {
		if _, err := db.Token(ctx, bad, h2, base); !errors.Is(err, fleet.ErrInvalid) {
			t.Errorf("Token(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

// testApplyAs: a report applied with its token's hash is refused, and
// changes nothing, once the token is revoked or replaced, on the one-row
// path of an in-sequence report and on the full path alike.
func testApplyAs(t *testing.T, db *fleetdb.DB) {
	h := addHost(t, db, "a")
	other := addHost(t, db, "b")
	full := report("a", "r", 1, fleet.KindFull)
	full.Listeners = []fleet.Listener{lis(ports.TCP, "0.0.0.0", 22, 1, "/usr/sbin/sshd")}
	for _, r := range []fleet.Report{full, report("a", "r", 2, fleet.KindHeartbeat)} {
		if res, err := db.ApplyAs(ctx, h, r, base); err != nil || res.Outcome != fleetdb.Applied {
			t.Fatalf("ApplyAs(%s seq %d) = %+v, %v", r.Kind, r.Seq, res, err)
		}
	}
	if _, err := db.ApplyAs(ctx, other, report("a", "r", 3, fleet.KindHeartbeat), base); !errors.Is(err, fleetdb.ErrUnknownHost) {
		t.Errorf("another host's token: %v", err)
	}
	if err := db.Revoke(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	d := report("a", "r", 3, fleet.KindDelta)
	d.Added = []fleet.Listener{lis(ports.TCP, "0.0.0.0", 2556, 5, "/tmp/x")}
	again := full
	again.Agent = "r2"
	for _, r := range []fleet.Report{report("a", "r", 3, fleet.KindHeartbeat), d, again} {
		if _, err := db.ApplyAs(ctx, h, r, base.Add(time.Minute)); !errors.Is(err, fleetdb.ErrUnknownHost) {
			t.Errorf("ApplyAs(%s seq %d) with a revoked token: %v", r.Kind, r.Seq, err)
		}
	}
	if a := hostNamed(t, db, "a"); a.LastSeq != 2 || a.Reports != 2 || !a.LastSeen.Equal(base) {
		t.Errorf("after refused reports: %+v", a)
	}
	wantListeners(t, db, "a", full.Listeners)
	h2 := addHost(t, db, "a")
	if _, err := db.ApplyAs(ctx, h, report("a", "r", 3, fleet.KindHeartbeat), base); !errors.Is(err, fleetdb.ErrUnknownHost) {
		t.Errorf("the replaced token: %v", err)
	}
	if res, err := db.ApplyAs(ctx, h2, report("a", "r", 3, fleet.KindHeartbeat), base); err != nil || res.Outcome != fleetdb.Applied {
		t.Errorf("the new token: %+v, %v", res, err)
	}
}

func testRevoke(t *testing.T, db *fleetdb.DB) {
	h := addHost(t, db, "a")
	if err := db.Revoke(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.HostByToken(ctx, h); !errors.Is(err, fleetdb.ErrUnknownHost) {
		t.Errorf("a revoked token works: %v", err)
	}
	if !hostNamed(t, db, "a").Revoked {
		t.Error("Hosts does not say revoked")
	}
	if err := db.Revoke(ctx, "nobody"); !errors.Is(err, fleetdb.ErrUnknownHost) {
		t.Errorf("Revoke(nobody) = %v", err)
	}
	// A new token brings the host back.
	h2 := addHost(t, db, "a")
	if name, err := db.HostByToken(ctx, h2); err != nil || name != "a" {
		t.Errorf("after a new token: %q, %v", name, err)
	}
}

func testUnknownHost(t *testing.T, db *fleetdb.DB) {
	if _, err := db.Apply(ctx, report("ghost", "r1", 1, fleet.KindFull), base); !errors.Is(err, fleetdb.ErrUnknownHost) {
		t.Errorf("Apply for an unknown host = %v", err)
	}
	if _, err := db.Listeners(ctx, "ghost"); !errors.Is(err, fleetdb.ErrUnknownHost) {
		t.Errorf("Listeners of an unknown host = %v", err)
	}
	addHost(t, db, "h")
	bad := report("h", "r1", 0, fleet.KindFull)
	if _, err := db.Apply(ctx, bad, base); !errors.Is(err, fleet.ErrInvalid) {
		t.Errorf("Apply of seq 0 = %v, want ErrInvalid", err)
	}
}

func testFullDeltaHeartbeat(t *testing.T, db *fleetdb.DB) {
	addHost(t, db, "web-1")
	ssh := lis(ports.TCP, "0.0.0.0", 22, 10, "/usr/sbin/sshd")
	web := lis(ports.TCP, "::", 443, 20, "/usr/sbin/nginx")
	dns := lis(ports.UDP, "127.0.0.53", 53, 30, "/usr/lib/systemd/systemd-resolved")
	r := report("web-1", "r1", 1, fleet.KindFull)
	r.Listeners = []fleet.Listener{web, ssh}
	if res := apply(t, db, r, base); res.Outcome != fleetdb.Applied || res.Gap || res.Changes != 2 {
		t.Errorf("first full = %+v", res)
	}
	wantListeners(t, db, "web-1", []fleet.Listener{ssh, web})

	ssh2 := ssh
	ssh2.PID = 11
	d := report("web-1", "r1", 2, fleet.KindDelta)
	d.Added, d.Removed, d.Changed = []fleet.Listener{dns}, []fleet.Listener{web}, []fleet.Listener{ssh2}
	if res := apply(t, db, d, base.Add(30*time.Second)); res.Outcome != fleetdb.Applied || res.Changes != 3 {
		t.Errorf("delta = %+v", res)
	}
	wantListeners(t, db, "web-1", []fleet.Listener{ssh2, dns})

	if res := apply(t, db, report("web-1", "r1", 3, fleet.KindHeartbeat), base.Add(time.Minute)); res.Outcome != fleetdb.Applied || res.Changes != 0 {
		t.Errorf("heartbeat = %+v", res)
	}
	h := hostNamed(t, db, "web-1")
	if h.LastSeq != 3 || !h.LastSeen.Equal(base.Add(time.Minute)) || h.Listeners != 2 || h.Reports != 3 || h.Interval != 30*time.Second || h.Agent != "r1" {
		t.Errorf("host = %+v", h)
	}
	cs, err := db.Changes(ctx, "web-1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := kinds(cs), "run added added removed added changed"; got != want {
		t.Errorf("changes = %q, want %q", got, want)
	}
	if c := cs[0]; c.Kind != fleetdb.Changed || c.Listener != ssh2 || c.Seq != 2 || !c.Time.Equal(base.Add(30*time.Second)) || c.Host != "web-1" {
		t.Errorf("newest change = %+v", c)
	}
	// Paging: the next page starts below the last ID seen.
	page, err := db.Changes(ctx, "", cs[1].ID, 2)
	if err != nil || len(page) != 2 || page[0].ID != cs[2].ID {
		t.Errorf("Changes(before %d, 2) = %v, %v", cs[1].ID, page, err)
	}
	// A full report equal to the stored set records nothing.
	same := report("web-1", "r1", 4, fleet.KindFull)
	same.Listeners = []fleet.Listener{dns, ssh2}
	if res := apply(t, db, same, base.Add(90*time.Second)); res.Changes != 0 {
		t.Errorf("an unchanged full report recorded %d changes", res.Changes)
	}
	// A full report replaces the set.
	repl := report("web-1", "r1", 5, fleet.KindFull)
	repl.Listeners = []fleet.Listener{web}
	if res := apply(t, db, repl, base.Add(2*time.Minute)); res.Changes != 3 {
		t.Errorf("a replacing full report recorded %d changes, want 3", res.Changes)
	}
	wantListeners(t, db, "web-1", []fleet.Listener{web})
}

func testReplay(t *testing.T, db *fleetdb.DB) {
	addHost(t, db, "h")
	r := report("h", "r1", 1, fleet.KindFull)
	r.Listeners = []fleet.Listener{lis(ports.TCP, "0.0.0.0", 2556, 5, "/tmp/x")}
	apply(t, db, r, base)
	d := report("h", "r1", 2, fleet.KindDelta)
	d.Removed = r.Listeners
	apply(t, db, d, base.Add(time.Second))
	before, _ := db.Changes(ctx, "h", 0, 0)
	for _, again := range []fleet.Report{r, d} {
		if res := apply(t, db, again, base.Add(time.Hour)); res.Outcome != fleetdb.Replay {
			t.Errorf("replay of seq %d = %+v", again.Seq, res)
		}
	}
	after, _ := db.Changes(ctx, "h", 0, 0)
	if len(after) != len(before) {
		t.Errorf("replays recorded %d changes", len(after)-len(before))
	}
	wantListeners(t, db, "h", nil)
	if h := hostNamed(t, db, "h"); !h.LastSeen.Equal(base.Add(time.Second)) || h.LastSeq != 2 {
		t.Errorf("a replay moved the host: %+v", h)
	}
}

func testGap(t *testing.T, db *fleetdb.DB) {
	addHost(t, db, "h")
	apply(t, db, report("h", "r1", 1, fleet.KindFull), base)
	d := report("h", "r1", 5, fleet.KindDelta)
	d.Added = []fleet.Listener{lis(ports.UDP, "::", 5353, 9, "/usr/sbin/avahi-daemon")}
	if res := apply(t, db, d, base.Add(time.Minute)); res.Outcome != fleetdb.Applied || !res.Gap {
		t.Errorf("report after a gap = %+v", res)
	}
	wantListeners(t, db, "h", d.Added)
	cs, _ := db.Changes(ctx, "h", 0, 0)
	if got := kinds(cs); got != "run gap added" {
		t.Errorf("changes = %q", got)
	}
	if cs[1].Detail != "seq 2–4 never arrived" {
		t.Errorf("gap detail = %q", cs[1].Detail)
	}
	if h := hostNamed(t, db, "h"); h.Gaps != 1 {
		t.Errorf("gaps = %d", h.Gaps)
	}
	// The seqs skipped arrive late: they are replays now.
	if res := apply(t, db, report("h", "r1", 3, fleet.KindHeartbeat), base.Add(2*time.Minute)); res.Outcome != fleetdb.Replay {
		t.Errorf("late report = %+v", res)
	}
}

func testNewRun(t *testing.T, db *fleetdb.DB) {
	addHost(t, db, "h")
	x := lis(ports.TCP, "0.0.0.0", 8080, 7, "/opt/app")
	r := report("h", "r1", 1, fleet.KindFull)
	r.Listeners = []fleet.Listener{x}
	apply(t, db, r, base)
	apply(t, db, report("h", "r1", 2, fleet.KindHeartbeat), base.Add(30*time.Second))
	// The agent restarted: its deltas mean nothing until it sends its full state.
	if res := apply(t, db, report("h", "r2", 2, fleet.KindHeartbeat), base.Add(time.Minute)); res.Outcome != fleetdb.Resync {
		t.Errorf("heartbeat of a new run = %+v, want resync", res)
	}
	full := report("h", "r2", 1, fleet.KindFull)
	full.Boot = "b2"
	full.Listeners = []fleet.Listener{x}
	if res := apply(t, db, full, base.Add(time.Minute)); res.Outcome != fleetdb.Applied || res.Gap || res.Changes != 0 {
		t.Errorf("full of a new run = %+v", res)
	}
	// The old run's spooled reports are late now.
	if res := apply(t, db, report("h", "r1", 3, fleet.KindHeartbeat), base.Add(time.Minute)); res.Outcome != fleetdb.Resync {
		t.Errorf("old run after the new = %+v", res)
	}
	if res := apply(t, db, report("h", "r2", 2, fleet.KindHeartbeat), base.Add(90*time.Second)); res.Outcome != fleetdb.Applied || res.Gap {
		t.Errorf("second report of the new run = %+v", res)
	}
	cs, _ := db.Changes(ctx, "h", 0, 0)
	if got := kinds(cs); got != "run added run" {
		t.Errorf("changes = %q", got)
	}
	if cs[0].Detail != "agent run r2, boot b2" {
		t.Errorf("run detail = %q", cs[0].Detail)
	}
	if h := hostNamed(t, db, "h"); h.Agent != "r2" || h.Boot != "b2" || h.LastSeq != 2 {
		t.Errorf("host = %+v", h)
	}
}

// testHostsAreSeparate: what one host reports never touches another, and a
// port query sees every host.
func testHostsAreSeparate(t *testing.T, db *fleetdb.DB) {
	addHost(t, db, "a")
	addHost(t, db, "b")
	same := lis(ports.TCP, "0.0.0.0", 2556, 1, "/tmp/x")
	other := lis(ports.TCP, "0.0.0.0", 22, 2, "/usr/sbin/sshd")
	ra := report("a", "r", 1, fleet.KindFull)
	ra.Listeners = []fleet.Listener{same, other}
	rb := report("b", "r", 1, fleet.KindFull)
	rb.Listeners = []fleet.Listener{same}
	apply(t, db, ra, base)
	apply(t, db, rb, base)
	// b removes the listener it shares with a: a keeps it.
	d := report("b", "r", 2, fleet.KindDelta)
	d.Removed = []fleet.Listener{same, other}
	apply(t, db, d, base.Add(time.Second))
	wantListeners(t, db, "a", []fleet.Listener{same, other})
	wantListeners(t, db, "b", nil)
	apply(t, db, rb, base) // a replay, ignored
	rb.Seq = 3
	apply(t, db, rb, base.Add(2*time.Second))
	got, err := db.Port(ctx, 2556)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Host != "a" || got[1].Host != "b" || got[0].Listener != same || !got[1].Since.Equal(base.Add(2*time.Second)) {
		t.Errorf("Port(2556) = %+v", got)
	}
	if got, err := db.Port(ctx, 9); err != nil || len(got) != 0 {
		t.Errorf("Port(9) = %v, %v", got, err)
	}
	if got, err := db.HostListeners(ctx, "a"); err != nil || len(got) != 2 || got[0].Listener != other || got[1].Listener != same || got[0].Host != "a" {
		t.Errorf("HostListeners(a) = %+v, %v", got, err)
	}
	addHost(t, db, "empty")
	if got, err := db.HostListeners(ctx, "empty"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("HostListeners(empty) = %#v, %v; want an empty list", got, err)
	}
	if _, err := db.HostListeners(ctx, "nobody"); !errors.Is(err, fleetdb.ErrUnknownHost) {
		t.Errorf("HostListeners(nobody) = %v", err)
	}
}

func testStale(t *testing.T, db *fleetdb.DB) {
	addHost(t, db, "h")
	addHost(t, db, "never")
	apply(t, db, report("h", "r", 1, fleet.KindFull), base)
	h := hostNamed(t, db, "h")
	if h.Stale(base.Add(90*time.Second)) || !h.Stale(base.Add(91*time.Second)) {
		t.Errorf("a host with a 30 s interval is stale after 90 s: %v; after 91 s: %v", h.Stale(base.Add(90*time.Second)), h.Stale(base.Add(91*time.Second)))
	}
	if !hostNamed(t, db, "never").Stale(base) {
		t.Error("a host that never reported is not stale")
	}
}

func testHostile(t *testing.T, db *fleetdb.DB) {
	addHost(t, db, "h")
	var ls []fleet.Listener
	for i, s := range []string{`'); DROP TABLE fleet_hosts;--`, `$1 ? ?1 :name @p1 %s`, `" OR "1"="1`,
		"/opt/한국어/서버", "/emoji/😃", "/rtl/\u202egnp.exe", `C:\Program Files\x.exe`, strings.Repeat("a", fleet.MaxExeLen)} {
		l := lis(ports.TCP, "10.0.0.1", uint16(1000+i), i+1, s)
		l.User, l.Process, l.Container, l.NetNS = s[:min(len(s), 200)], s[:min(len(s), 100)], "c"+fmt.Sprint(i), "ns-"+fmt.Sprint(i)
		ls = append(ls, l)
	}
	ls = append(ls, fleet.Listener{Key: fleet.Key{Proto: ports.UDP, Addr: netip.MustParseAddr("fe80::1%eth0"), Port: 546}, Owner: fleet.NoOwner})
	r := report("h", "r", 1, fleet.KindFull)
	r.Listeners = ls
	apply(t, db, r, base)
	wantListeners(t, db, "h", ls)
}

func testConcurrent(t *testing.T, db *fleetdb.DB) {
	const hosts, reports = 8, 10
	for i := range hosts {
		addHost(t, db, fmt.Sprintf("h%d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, hosts)
	for i := range hosts {
		wg.Go(func() {
			name := fmt.Sprintf("h%d", i)
			var prev []fleet.Listener
			for seq := uint64(1); seq <= reports; seq++ {
				cur := []fleet.Listener{lis(ports.TCP, "0.0.0.0", uint16(seq), int(seq), "/bin/x")}
				r := report(name, "r", seq, fleet.KindFull)
				if seq > 1 {
					d := fleet.Diff(prev, cur)
					r = report(name, "r", seq, fleet.KindDelta)
					r.Added, r.Removed, r.Changed = d.Added, d.Removed, d.Changed
				} else {
					r.Listeners = cur
				}
				if res, err := db.Apply(ctx, r, base.Add(time.Duration(seq)*time.Second)); err != nil || res.Outcome != fleetdb.Applied {
					errs <- fmt.Errorf("%s seq %d: %+v, %v", name, seq, res, err)
					return
				}
				prev = cur
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range hosts {
		wantListeners(t, db, fmt.Sprintf("h%d", i), []fleet.Listener{lis(ports.TCP, "0.0.0.0", reports, reports, "/bin/x")})
	}
}

// testConcurrentReplay: the same report sent twice at once (an agent
// resending while its first try is still in flight, or two replicas) is
// applied once.
func testConcurrentReplay(t *testing.T, db *fleetdb.DB) {
	addHost(t, db, "h")
	apply(t, db, report("h", "r", 1, fleet.KindFull), base)
	d := report("h", "r", 2, fleet.KindDelta)
	d.Added = []fleet.Listener{lis(ports.TCP, "0.0.0.0", 2556, 5, "/tmp/x")}
	var wg sync.WaitGroup
	results := make([]fleetdb.Result, 6)
	errs := make([]error, len(results))
	for i := range results {
		wg.Go(func() { results[i], errs[i] = db.Apply(ctx, d, base.Add(time.Second)) })
	}
	wg.Wait()
	applied := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if res.Outcome == fleetdb.Applied {
			applied++
		}
	}
	if applied != 1 {
		t.Errorf("%d of %d identical reports applied, want 1", applied, len(results))
	}
	cs, _ := db.Changes(ctx, "h", 0, 0)
	if got := kinds(cs); got != "run added" {
		t.Errorf("changes = %q", got)
	}
}

func testClose(t *testing.T, db *fleetdb.DB) {
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := db.Hosts(ctx); !errors.Is(err, fleetdb.ErrClosed) {
		t.Errorf("Hosts after Close = %v, want ErrClosed", err)
	}
}

func testMigrations(t *testing.T, b backend) {
	dsn := b.fresh(t)
	// Several servers opening one database at once all succeed.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := fleetdb.Open(ctx, dsn)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	db := mustOpen(t, dsn)
	addHost(t, db, "kept")
	db.Close()
	db = mustOpen(t, dsn)
	if v, err := db.SchemaVersion(ctx); err != nil || v != 3 {
		t.Errorf("SchemaVersion = %d, %v", v, err)
	}
	hostNamed(t, db, "kept")
	db.Close()
	raw, err := sql.Open(b.driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM fleet_schema_migrations`).Scan(&n); err != nil || n != 3 {
		t.Errorf("fleet_schema_migrations has %d rows, %v", n, err)
	}
	if _, err := raw.Exec(`INSERT INTO fleet_schema_migrations (version, name, applied) VALUES (99, '0099_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if db, err := fleetdb.Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer") {
		if db != nil {
			db.Close()
		}
		t.Errorf("Open of a newer schema = %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := fleetdb.Open(ctx, filepath.Join(dir, "missing", "f.db")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open in a missing directory = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Error("Open created a directory")
	}
	_, err := fleetdb.Open(ctx, "postgres://u:s3cret@127.0.0.1:notaport/db")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open of a bad URL = %v", err)
	}
	path := filepath.Join(dir, "f.db")
	mustOpen(t, path).Close()
	if fi, err := os.Stat(path); runtime.GOOS != "windows" && (err != nil || fi.Mode().Perm()&0o077 != 0) {
		t.Errorf("database file: %v, %v; want no access for group and others", fi.Mode(), err)
	}
}

func testOutliers(t *testing.T, db *fleetdb.DB) {
	sshd := lis(ports.TCP, "0.0.0.0", 22, 1, "/usr/sbin/sshd")
	odd := lis(ports.TCP, "0.0.0.0", 2556, 7, "/tmp/.x/miner")
	other := lis(ports.TCP, "0.0.0.0", 22, 9, "/opt/dropbear") // the same port, another program
	for i, name := range []string{"a", "b"} {
		addHost(t, db, name)
		r := report(name, "r", 1, fleet.KindFull)
		r.Listeners = []fleet.Listener{sshd}
		if i == 0 {
			r.Listeners = append(r.Listeners, odd)
		}
		apply(t, db, r, base)
	}
	if got, err := db.Outliers(ctx); err != nil || len(got) != 0 {
		t.Errorf("with two hosts: %v, %v; want none", got, err)
	}
	// A group of its own is compared apart: three database hosts, one odd.
	for i, name := range []string{"db1", "db2", "db3"} {
		addHost(t, db, name)
		r := report(name, "r", 1, fleet.KindFull)
		r.Group = "db"
		r.Listeners = []fleet.Listener{lis(ports.TCP, "0.0.0.0", 5432, 1, "/usr/lib/postgresql/15/bin/postgres")}
		if i == 2 {
			r.Listeners = append(r.Listeners, sshd)
		}
		apply(t, db, r, base)
	}
	for i := range 18 {
		name := fmt.Sprintf("h%02d", i)
		addHost(t, db, name)
		r := report(name, "r", 1, fleet.KindFull)
		r.Listeners = []fleet.Listener{sshd}
		if i == 5 {
			r.Listeners = []fleet.Listener{other}
		}
		apply(t, db, r, base)
	}
	addHost(t, db, "silent") // never reported: not counted
	got, err := db.Outliers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []fleetdb.Outlier{
		{Proto: ports.TCP, Port: 22, Exe: "/opt/dropbear", Hosts: []string{"h05"}, Of: 20},
		{Proto: ports.TCP, Port: 2556, Exe: "/tmp/.x/miner", Hosts: []string{"a"}, Of: 20},
		{Group: "db", Proto: ports.TCP, Port: 22, Exe: "/usr/sbin/sshd", Hosts: []string{"db3"}, Of: 3},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Outliers =\n%+v\nwant\n%+v", got, want)
	}
}

// testUpgrade: a database made by the first schema version (the migration
// file run by hand, as an older porthole did) is migrated on Open, its
// hosts kept.
func testUpgrade(t *testing.T, b backend) {
	dsn := b.fresh(t)
	v1, err := os.ReadFile(filepath.Join("migrations", b.name, "0001_fleet.sql"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open(b.driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{
		`CREATE TABLE fleet_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied bigint NOT NULL)`,
		string(v1),
		`INSERT INTO fleet_schema_migrations (version, name, applied) VALUES (1, '0001_fleet.sql', 0)`,
		`INSERT INTO fleet_hosts (name, created, last_seen, agent, last_seq, interval_s) VALUES ('old', 0, 1, 'r', 4, 30)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	db := mustOpen(t, dsn)
	if v, err := db.SchemaVersion(ctx); err != nil || v != 3 {
		t.Errorf("SchemaVersion after the upgrade = %d, %v", v, err)
	}
	if h := hostNamed(t, db, "old"); h.LastSeq != 4 || h.Group != "" || h.Agent != "r" {
		t.Errorf("host after the upgrade = %+v", h)
	}
	// The next report of the same run goes on where it was.
	r := report("old", "r", 5, fleet.KindHeartbeat)
	r.Group = "g"
	if res := apply(t, db, r, base); res.Outcome != fleetdb.Applied || res.Gap {
		t.Errorf("report after the upgrade = %+v", res)
	}
	if h := hostNamed(t, db, "old"); h.Group != "g" {
		t.Errorf("group = %q", h.Group)
	}
}

func testFindings(t *testing.T, db *fleetdb.DB) {
	addHost(t, db, "a")
	addHost(t, db, "b")
	odd := fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr("0.0.0.0"), Port: 2556}
	tmp := fleet.Finding{Rule: "tmp-exe", Severity: "high", Key: odd, Reason: "runs from /tmp"}
	bad := fleet.Finding{Rule: "known-bad-port", Severity: "critical", Key: odd, Reason: "`'; DROP TABLE fleet_findings;--"}
	missing := fleet.Finding{Rule: "baseline-missing", Severity: "medium", Reason: "no sshd"}
	r := report("a", "r", 1, fleet.KindFull)
	r.Findings, r.FindingsSet = []fleet.Finding{tmp, missing, bad}, true
	apply(t, db, r, base)
	rb := report("b", "r", 1, fleet.KindFull)
	rb.Findings, rb.FindingsSet = []fleet.Finding{missing}, true
	apply(t, db, rb, base)
	got, err := db.Findings(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, f := range got {
		order = append(order, f.Host+":"+f.Rule)
	}
	if want := "a:known-bad-port a:tmp-exe a:baseline-missing b:baseline-missing"; strings.Join(order, " ") != want {
		t.Errorf("Findings = %q, want %q", strings.Join(order, " "), want)
	}
	if got[0].Finding != bad || !got[0].Since.Equal(base) {
		t.Errorf("first finding = %+v", got[0])
	}
	// A report without findings keeps them; one with them replaces them,
	// keeping when a finding was first seen.
	apply(t, db, report("a", "r", 2, fleet.KindHeartbeat), base.Add(time.Minute))
	if got, _ := db.Findings(ctx, "a"); len(got) != 3 {
		t.Errorf("after a heartbeat: %d findings", len(got))
	}
	d := report("a", "r", 3, fleet.KindDelta)
	d.Findings, d.FindingsSet = []fleet.Finding{tmp}, true
	apply(t, db, d, base.Add(2*time.Minute))
	if got, _ := db.Findings(ctx, "a"); len(got) != 1 || got[0].Finding != tmp || !got[0].Since.Equal(base) {
		t.Errorf("after replacing: %+v", got)
	}
	d = report("a", "r", 4, fleet.KindDelta)
	d.FindingsSet = true
	apply(t, db, d, base.Add(3*time.Minute))
	if got, _ := db.Findings(ctx, "a"); len(got) != 0 {
		t.Errorf("after an empty set: %+v", got)
	}
	if got, _ := db.Findings(ctx, "b"); len(got) != 1 {
		t.Errorf("b's findings changed: %+v", got)
	}
}
