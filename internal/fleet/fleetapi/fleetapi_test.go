package fleetapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/fleet/fleetapi"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/promtext"
	"github.com/porthole/porthole/internal/testenv"
)

const adminToken = "admin-token-of-at-least-32-bytes-0123456789"

type env struct {
	srv   *httptest.Server
	path  string // the SQLite file
	db    *fleetdb.DB
	clock *testenv.Clock
	toks  map[string]string // host → token
}

func newEnv(t *testing.T, hosts ...string) *env {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fleet.db")
	db, err := fleetdb.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{path: path, db: db, clock: testenv.NewClock(time.Date(2026, 3, 18, 9, 30, 0, 0, time.UTC)), toks: map[string]string{}}
	for _, h := range hosts {
		tok, _ := fleet.NewToken(rand.Reader)
		if _, err := db.Token(ctx, h, fleet.HashToken(tok), e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.toks[h] = tok
	}
	h, err := fleetapi.New(fleetapi.Options{DB: db, AdminToken: adminToken, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(t *testing.T, method, path, token string, body io.Reader, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func (e *env) send(t *testing.T, token string, r fleet.Report) answer {
	t.Helper()
	b, err := fleet.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(t, "POST", "/api/v1/fleet/report", token, bytes.NewReader(b))
}

func lis(port uint16, pid int, exe string) fleet.Listener {
	return fleet.Listener{Key: fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr("0.0.0.0"), Port: port},
		Owner: fleet.Owner{PID: pid, UID: 0, User: "root", Process: "x", Exe: exe}}
}

func full(host string, seq uint64, ls ...fleet.Listener) fleet.Report {
	return fleet.Report{Host: host, Agent: "run1", Seq: seq, Kind: fleet.KindFull, Interval: 30 * time.Second, Listeners: ls}
}

func TestReportAndRead(t *testing.T) {
	e := newEnv(t, "web-1", "web-2")
	if a := e.send(t, e.toks["web-1"], full("web-1", 1, lis(2556, 42, "/tmp/x"), lis(22, 1, "/usr/sbin/sshd"))); a.status != 200 || !strings.Contains(a.body, `"outcome":"applied"`) {
		t.Fatalf("report: %d %s", a.status, a.body)
	}
	if a := e.send(t, e.toks["web-2"], full("web-2", 1, lis(2556, 7, "/opt/y"))); a.status != 200 {
		t.Fatalf("report: %d %s", a.status, a.body)
	}
	// A replay is acknowledged and changes nothing.
	if a := e.send(t, e.toks["web-2"], full("web-2", 1)); a.status != 200 || !strings.Contains(a.body, `"outcome":"replay"`) {
		t.Errorf("replay: %d %s", a.status, a.body)
	}
	// A heartbeat of a run the server does not follow asks for the full state.
	hb := fleet.Report{Host: "web-2", Agent: "run2", Seq: 5, Kind: fleet.KindHeartbeat, Interval: 30 * time.Second}
	if a := e.send(t, e.toks["web-2"], hb); a.status != http.StatusConflict || !strings.Contains(a.body, `"outcome":"resync"`) {
		t.Errorf("resync: %d %s", a.status, a.body)
	}

	a := e.do(t, "GET", "/api/v1/fleet/ports/2556", adminToken, nil)
	if a.status != 200 || a.header.Get("Content-Type") != "application/json" || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("ports/2556: %d %v %s", a.status, a.header, a.body)
	}
	var ls []map[string]any
	if err := json.Unmarshal([]byte(a.body), &ls); err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0]["host"] != "web-1" || ls[1]["host"] != "web-2" || ls[0]["exe"] != "/tmp/x" || ls[0]["pid"] != 42.0 ||
		ls[0]["proto"] != "tcp" || ls[0]["address"] != "0.0.0.0" || ls[0]["port"] != 2556.0 || ls[0]["netns_name"] != nil {
		t.Errorf("ports/2556 = %s", a.body)
	}
	a = e.do(t, "GET", "/api/v1/fleet/hosts/web-1", adminToken, nil)
	var one []map[string]any
	if err := json.Unmarshal([]byte(a.body), &one); err != nil || a.status != 200 || len(one) != 2 || one[0]["port"] != 22.0 || one[1]["port"] != 2556.0 || one[0]["host"] != "web-1" {
		t.Errorf("hosts/web-1 = %d %s", a.status, a.body)
	}
	for path, want := range map[string]int{"/api/v1/fleet/hosts/nobody": 404, "/api/v1/fleet/hosts/-x": 400} {
		if a := e.do(t, "GET", path, adminToken, nil); a.status != want {
			t.Errorf("%s: %d, want %d", path, a.status, want)
		}
	}
	if a := e.do(t, "GET", "/api/v1/fleet/hosts/web-1", e.toks["web-1"], nil); a.status != 401 {
		t.Errorf("hosts/web-1 with a host token: %d", a.status)
	}
	if a := e.do(t, "GET", "/api/v1/fleet/ports/9", adminToken, nil); a.status != 200 || strings.TrimSpace(a.body) != "[]" {
		t.Errorf("ports/9 = %d %s", a.status, a.body)
	}

	hosts := func() []map[string]any {
		a := e.do(t, "GET", "/api/v1/fleet/hosts", adminToken, nil)
		if a.status != 200 {
			t.Fatalf("hosts: %d %s", a.status, a.body)
		}
		var hs []map[string]any
		if err := json.Unmarshal([]byte(a.body), &hs); err != nil {
			t.Fatal(err)
		}
		return hs
	}
	hs := hosts()
	if len(hs) != 2 || hs[0]["name"] != "web-1" || hs[0]["listeners"] != 2.0 || hs[0]["stale"] != false || hs[0]["last_seen"] != "2026-03-18T09:30:00Z" {
		t.Errorf("hosts = %v", hs)
	}
	// Three missed intervals make a host stale; a report makes it fresh.
	e.clock.Advance(90 * time.Second)
	if hs := hosts(); hs[0]["stale"] != false {
		t.Errorf("stale after exactly three intervals: %v", hs[0])
	}
	e.clock.Advance(time.Second)
	e.send(t, e.toks["web-2"], fleet.Report{Host: "web-2", Agent: "run1", Seq: 2, Kind: fleet.KindHeartbeat, Interval: 30 * time.Second})
	if hs := hosts(); hs[0]["stale"] != true || hs[1]["stale"] != false {
		t.Errorf("after 91 s: web-1 stale %v, web-2 stale %v", hs[0]["stale"], hs[1]["stale"])
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, "a", "b", "gone")
	if err := e.db.Revoke(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	good, _ := fleet.Encode(full("a", 1, lis(80, 1, "/x")))
	other, _ := fleet.NewToken(rand.Reader)
	post := func(token string, body []byte, header ...string) answer {
		return e.do(t, "POST", "/api/v1/fleet/report", token, bytes.NewReader(body), header...)
	}
	tests := []struct {
		name   string
		got    answer
		status int
		want   string
	}{
		{"no token", post("", good), 401, ""},
		{"unknown token", post(other, good), 401, ""},
		{"not a token", post("hunter2", good), 401, ""},
		{"admin token as host token", post(adminToken, good), 401, ""},
		{"revoked token", post(e.toks["gone"], good), 401, ""},
		{"another host's report", post(e.toks["b"], good), 403, "belongs to host b"},
		{"invalid JSON", post(e.toks["a"], []byte(`{"version":1,`)), 400, "truncated"},
		{"absurd port", post(e.toks["a"], bytes.Replace(good, []byte(`"port":80`), []byte(`"port":65536`), 1)), 400, "listeners[0].port"},
		{"absurd interval", post(e.toks["a"], bytes.Replace(good, []byte(`"interval":30`), []byte(`"interval":-30`), 1)), 400, "interval"},
		{"not JSON", post(e.toks["a"], good, "Content-Type", "text/plain"), 415, ""},
		{"oversized", post(e.toks["a"], bytes.Repeat([]byte(" "), fleet.MaxReportBytes+1)), 413, ""},
	}
	for _, tc := range tests {
		if tc.got.status != tc.status || !strings.Contains(tc.got.body, tc.want) {
			t.Errorf("%s: %d %q; want %d with %q", tc.name, tc.got.status, tc.got.body, tc.status, tc.want)
		}
		if tc.status == 401 && !strings.HasPrefix(tc.got.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: no Bearer challenge", tc.name)
		}
	}
	// A body over the limit without a Content-Length (chunked) is cut off too.
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/fleet/report", io.MultiReader(bytes.NewReader(good), strings.NewReader(strings.Repeat(" ", fleet.MaxReportBytes))))
	req.Header.Set("Authorization", "Bearer "+e.toks["a"])
	req.ContentLength = -1
	if resp, err := e.srv.Client().Do(req); err != nil || resp.StatusCode != 413 {
		t.Errorf("chunked oversized body: %v, %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	// Nothing of the refused reports reached the inventory.
	hs, _ := e.db.Hosts(context.Background())
	for _, h := range hs {
		if h.Reports != 0 || h.Listeners != 0 {
			t.Errorf("host %s changed: %+v", h.Name, h)
		}
	}

	for _, path := range []string{"/api/v1/fleet/hosts", "/api/v1/fleet/ports/22", "/api/v1/fleet/outliers"} {
		for _, tok := range []string{"", "wrong-admin-token-but-long-enough-to-be-one", e.toks["a"]} {
			if a := e.do(t, "GET", path, tok, nil); a.status != 401 {
				t.Errorf("GET %s with %q: %d", path, tok, a.status)
			}
		}
	}
	e.clock.Advance(10 * time.Minute) // the failures above used the throttle's allowance up
	for _, p := range []string{"abc", "65536", "-1", "022", "0x16", "1e3", "%20"} {
		if a := e.do(t, "GET", "/api/v1/fleet/ports/"+p, adminToken, nil); a.status != 400 {
			t.Errorf("ports/%s: %d %s", p, a.status, a.body)
		}
	}
	if a := e.do(t, "GET", "/api/v1/fleet/report", e.toks["a"], nil); a.status != 405 {
		t.Errorf("GET report: %d", a.status)
	}
	if a := e.do(t, "GET", "/api/v1/fleet/nothing", adminToken, nil); a.status != 404 {
		t.Errorf("unknown endpoint: %d", a.status)
	}
}

func TestThrottle(t *testing.T) {
	e := newEnv(t, "a")
	good, _ := fleet.Encode(full("a", 1))
	wrong, _ := fleet.NewToken(rand.Reader)
	var last answer
	for range 20 {
		if last = e.do(t, "POST", "/api/v1/fleet/report", wrong, bytes.NewReader(good)); last.status == 429 {
			break
		}
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" {
		t.Fatalf("after 20 wrong tokens: %d %v", last.status, last.header)
	}
	// While throttled even the right token is not looked at.
	if a := e.do(t, "POST", "/api/v1/fleet/report", e.toks["a"], bytes.NewReader(good)); a.status != 429 {
		t.Errorf("right token while throttled: %d", a.status)
	}
	// A minute later the client may try again.
	e.clock.Advance(time.Minute)
	if a := e.do(t, "POST", "/api/v1/fleet/report", e.toks["a"], bytes.NewReader(good)); a.status != 200 {
		t.Errorf("right token a minute later: %d %s", a.status, a.body)
	}
}

func TestNeedsAdminToken(t *testing.T) {
	db, err := fleetdb.Open(context.Background(), filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := fleetapi.New(fleetapi.Options{DB: db, AdminToken: "short"}); err == nil {
		t.Error("New accepted a short admin token")
	}
	if _, err := fleetapi.New(fleetapi.Options{AdminToken: adminToken}); err == nil {
		t.Error("New accepted no database")
	}
}

func TestOutliers(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	e := newEnv(t, names...)
	for i, n := range names {
		ls := []fleet.Listener{lis(22, 1, "/usr/sbin/sshd")}
		if i == 2 {
			ls = append(ls, lis(2556, 9, "/tmp/x"))
		}
		if a := e.send(t, e.toks[n], full(n, 1, ls...)); a.status != 200 {
			t.Fatalf("report: %d %s", a.status, a.body)
		}
	}
	a := e.do(t, "GET", "/api/v1/fleet/outliers", adminToken, nil)
	if want := `[{"group":"","proto":"tcp","port":2556,"exe":"/tmp/x","hosts":["c"],"of":4}]`; a.status != 200 || strings.TrimSpace(a.body) != want {
		t.Errorf("outliers = %d %s, want %s", a.status, a.body, want)
	}
	if a := e.do(t, "GET", "/api/v1/fleet/outliers", e.toks["a"], nil); a.status != 401 {
		t.Errorf("outliers with a host token: %d", a.status)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, "a", "b", "c")
	h, err := fleetapi.New(fleetapi.Options{DB: e.db, AdminToken: adminToken, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e.srv = srv
	e.send(t, e.toks["a"], full("a", 1))
	e.send(t, e.toks["a"], full("a", 1)) // replay
	e.send(t, e.toks["b"], full("a", 2)) // forbidden
	e.send(t, "", full("a", 3))          // unauthorized
	e.clock.Advance(time.Hour)
	e.send(t, e.toks["c"], full("c", 1)) // c is fresh, a is stale, b never reported
	fams, err := h.Families(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := promtext.Write(&b, fams); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"porthole_fleet_hosts 3\n",
		"porthole_fleet_hosts_stale 2\n",
		`porthole_fleet_reports_total{outcome="applied"} 2` + "\n",
		`porthole_fleet_reports_total{outcome="replay"} 1` + "\n",
		`porthole_fleet_reports_total{outcome="forbidden"} 1` + "\n",
		`porthole_fleet_reports_total{outcome="unauthorized"} 1` + "\n",
		`porthole_fleet_report_duration_seconds_bucket{le="+Inf"} 5` + "\n",
		"porthole_fleet_report_duration_seconds_count 5\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `host=`) || strings.Contains(out, `port=`) {
		t.Errorf("a host or port label:\n%s", out)
	}
}

// TestManyAgentsOneAddress: agents behind one address (NAT) reporting at
// once with the right tokens are never throttled, while wrong tokens from
// that address still are.
func TestManyAgentsOneAddress(t *testing.T) {
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf("h%02d", i))
	}
	e := newEnv(t, names...)
	var wg sync.WaitGroup
	codes := make([]int, len(names))
	for i, n := range names {
		wg.Go(func() {
			b, _ := fleet.Encode(full(n, 1, lis(22, 1, "/usr/sbin/sshd")))
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/fleet/report", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+e.toks[n])
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("%s: %d", names[i], c)
		}
	}
	wrong, _ := fleet.NewToken(rand.Reader)
	good, _ := fleet.Encode(full("h00", 2))
	last := 0
	for range 20 {
		if last = e.do(t, "POST", "/api/v1/fleet/report", wrong, bytes.NewReader(good)).status; last == 429 {
			break
		}
	}
	if last != 429 {
		t.Errorf("wrong tokens from the same address: %d, want 429 in the end", last)
	}
}

func TestFindings(t *testing.T) {
	e := newEnv(t, "a", "b")
	r := full("a", 1, lis(2556, 9, "/tmp/x"))
	r.Findings = []fleet.Finding{
		{Rule: "tmp-exe", Severity: "high", Key: lis(2556, 9, "/tmp/x").Key, Reason: "runs from /tmp"},
		{Rule: "baseline-missing", Severity: "medium", Reason: "no sshd"},
	}
	r.FindingsSet = true
	if a := e.send(t, e.toks["a"], r); a.status != 200 {
		t.Fatalf("report: %d %s", a.status, a.body)
	}
	e.send(t, e.toks["b"], full("b", 1))
	a := e.do(t, "GET", "/api/v1/fleet/findings", adminToken, nil)
	want := `[{"host":"a","rule":"tmp-exe","severity":"high","proto":"tcp","address":"0.0.0.0","port":2556,"netns_name":null,"reason":"runs from /tmp","since":"2026-03-18T09:30:00Z"},` +
		`{"host":"a","rule":"baseline-missing","severity":"medium","proto":null,"address":null,"port":null,"netns_name":null,"reason":"no sshd","since":"2026-03-18T09:30:00Z"}]`
	if a.status != 200 || strings.TrimSpace(a.body) != want {
		t.Errorf("findings = %d %s\nwant %s", a.status, a.body, want)
	}
	if a := e.do(t, "GET", "/api/v1/fleet/findings?host=b", adminToken, nil); a.status != 200 || strings.TrimSpace(a.body) != "[]" {
		t.Errorf("findings of b = %d %s", a.status, a.body)
	}
	if a := e.do(t, "GET", "/api/v1/fleet/findings?host=-x", adminToken, nil); a.status != 400 {
		t.Errorf("findings?host=-x = %d", a.status)
	}
	if a := e.do(t, "GET", "/api/v1/fleet/findings", e.toks["a"], nil); a.status != 401 {
		t.Errorf("findings with a host token = %d", a.status)
	}
}

// other opens the inventory a second time, as `porthole fleet revoke` and
// `porthole fleet token` do from a process of their own.
func (e *env) other(t *testing.T) *fleetdb.DB {
	t.Helper()
	db, err := fleetdb.Open(context.Background(), e.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestRevokeTakesEffectAtOnce: the server remembers which host a token
// belongs to, yet a revocation made by another process is obeyed by the
// very next report, whatever its kind, and the host's other reports go on
// being refused.
func TestRevokeTakesEffectAtOnce(t *testing.T) {
	for _, kind := range []fleet.Kind{fleet.KindHeartbeat, fleet.KindDelta, fleet.KindFull} {
		t.Run(kind.String(), func(t *testing.T) {
			e := newEnv(t, "web-1", "web-2")
			tok := e.toks["web-1"]
			for seq := uint64(1); seq <= 3; seq++ { // the token is cached after the first
				r := full("web-1", seq, lis(22, 1, "/usr/sbin/sshd"))
				if seq > 1 {
					r = fleet.Report{Host: "web-1", Agent: "run1", Seq: seq, Kind: fleet.KindHeartbeat, Interval: 30 * time.Second}
				}
				if a := e.send(t, tok, r); a.status != 200 {
					t.Fatalf("seq %d before the revocation: %d %s", seq, a.status, a.body)
				}
			}
			if err := e.other(t).Revoke(context.Background(), "web-1"); err != nil {
				t.Fatal(err)
			}
			next := fleet.Report{Host: "web-1", Agent: "run1", Seq: 4, Kind: kind, Interval: 30 * time.Second}
			switch kind {
			case fleet.KindDelta:
				next.Added = []fleet.Listener{lis(2556, 42, "/tmp/x")}
			case fleet.KindFull:
				next.Listeners = []fleet.Listener{lis(2556, 42, "/tmp/x")}
			}
			for i, r := range []fleet.Report{next, next, full("web-2", 1)} {
				if a := e.send(t, tok, r); a.status != 401 {
					t.Fatalf("report %d after the revocation (%s for %s): %d %s, want 401", i, r.Kind, r.Host, a.status, a.body)
				}
			}
			hs, err := e.db.Hosts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if hs[0].Name != "web-1" || hs[0].LastSeq != 3 || hs[0].Listeners != 1 || !hs[0].Revoked {
				t.Fatalf("after the refused reports: %+v", hs[0])
			}
			if a := e.send(t, e.toks["web-2"], full("web-2", 1)); a.status != 200 {
				t.Fatalf("another host's report: %d %s", a.status, a.body)
			}
		})
	}
}

// TestTokenReplaced: a new token for a host (`porthole fleet token` again,
// from another process) works at once and the old one stops at once.
func TestTokenReplaced(t *testing.T) {
	e := newEnv(t, "web-1")
	old := e.toks["web-1"]
	for seq := uint64(1); seq <= 2; seq++ {
		if a := e.send(t, old, full("web-1", seq)); a.status != 200 {
			t.Fatalf("seq %d: %d %s", seq, a.status, a.body)
		}
	}
	tok, _ := fleet.NewToken(rand.Reader)
	if _, err := e.other(t).Token(context.Background(), "web-1", fleet.HashToken(tok), e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if a := e.send(t, old, full("web-1", 3)); a.status != 401 {
		t.Fatalf("old token after the new one: %d %s, want 401", a.status, a.body)
	}
	if a := e.send(t, tok, full("web-1", 3)); a.status != 200 {
		t.Fatalf("new token: %d %s", a.status, a.body)
	}
}
