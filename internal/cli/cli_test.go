package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/testenv"
)

// testNow is the fixed clock of every CLI test.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

type result struct {
	stdout, stderr string
	code           int
}

// testEnv is the environment of an in-process run: a fixed clock, a fixed
// ephemeral range, no colour and an empty cache directory.
func testEnv(stdin io.Reader, stdout, stderr io.Writer) *Env {
	off := false
	return &Env{
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Getenv:    testGetenv,
		Now:       func() time.Time { return testNow },
		Color:     &off,
		Ephemeral: func() (int, int, error) { return 32768, 60999, nil },
	}
}

// runEnv calls Main in process with stdin and the test environment, as
// change (if not nil) changes it, and returns what it wrote.
func runEnv(stdin io.Reader, change func(*Env), args ...string) result {
	var out, errb bytes.Buffer
	env := testEnv(stdin, &out, &errb)
	if change != nil {
		change(env)
	}
	code := Main(context.Background(), args, env)
	return result{out.String(), errb.String(), code}
}

// run calls Main in process with stdin in the test environment.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runEnv(strings.NewReader(stdin), nil, args...)
}

func TestMain(m *testing.M) {
	// A test that needs porthole as another process (another user, another
	// network namespace) runs this binary with PORTHOLE_TEST_MAIN=1.
	if os.Getenv("PORTHOLE_TEST_MAIN") == "1" {
		os.Exit(Main(context.Background(), os.Args[1:], &Env{}))
	}
	// Keep the tests off any refreshed registry in the real cache.
	dir, err := os.MkdirTemp("", "porthole-cli-test")
	if err != nil {
		panic(err)
	}
	os.Setenv("PORTHOLE_CACHE_DIR", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testGetenv is the environment of in-process runs: empty but for the cache
// directory that TestMain (or a test, with t.Setenv) chose.
func testGetenv(k string) string {
	if k == registry.CacheDirEnv {
		return os.Getenv(k)
	}
	return ""
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	testenv.Golden(t, name, got)
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	line, w, g, _ := testenv.FirstDiff(want, got)
	return "line " + itoa(line) + ":\n- " + w + "\n+ " + g
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

var goldenPorts = []string{"0", "22", "80", "443", "2556", "6000", "49151", "49152", "65535"}

// TestInfoGolden renders with --offline: what listens here differs from
// machine to machine (live_test.go tests the "On this machine" section).
func TestInfoGolden(t *testing.T) {
	for _, p := range goldenPorts {
		t.Run(p, func(t *testing.T) {
			r := run(t, "", "info", "--offline", p)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("info %s: code %d, stderr %q", p, r.code, r.stderr)
			}
			golden(t, "info/"+p+".txt", r.stdout)
			r = run(t, "", "info", "--offline", "--json", p)
			if r.code != 0 {
				t.Fatalf("info --json %s: code %d, stderr %q", p, r.code, r.stderr)
			}
			golden(t, "info/"+p+".json", r.stdout)
		})
	}
	r := run(t, "", "info", "--offline", "--lang", "ko", "2556")
	if r.code != 0 {
		t.Fatalf("info --lang ko: %d %s", r.code, r.stderr)
	}
	golden(t, "info/2556.ko.txt", r.stdout)
	r = run(t, "", "info", "--offline", "6000-6010")
	golden(t, "info/6000-6010.txt", r.stdout)
}

// TestInfoLines keeps the text within 80 columns, apart from URLs and
// commands that cannot be broken.
func TestInfoLines(t *testing.T) {
	// 6000-6010 is a range table, whose intel column wraps.
	for _, p := range append(goldenPorts, "6000-6010", "1-30") {
		for i, l := range strings.Split(run(t, "", "info", p).stdout, "\n") {
			if displayWidth(l) > width && !strings.Contains(l, "://") {
				t.Errorf("info %s line %d is %d columns: %q", p, i+1, displayWidth(l), l)
			}
		}
	}
}

// TestInfoFlagBeforePort: `porthole PORT` is `porthole info PORT`, with
// info's flags on either side of the port (`porthole --json 80` was an
// unknown command), and "--" before a port that starts with a dash. A
// flag info does not have is still an unknown command.
func TestInfoFlagBeforePort(t *testing.T) {
	want := run(t, "", "info", "--offline", "--json", "80")
	for _, args := range [][]string{
		{"--offline", "--json", "80"},
		{"--json", "--offline", "80"},
		{"-offline", "80", "--json"},
		{"--offline=true", "--json=true", "80"},
		{"--lang=en", "--offline", "--json", "80"},
	} {
		r := run(t, "", args...)
		if r.code != 0 || r.stdout != want.stdout {
			t.Errorf("porthole %q: code %d, stderr %q; want info's output", args, r.code, r.stderr)
		}
	}
	r := run(t, "", "--lang", "ko", "--offline", "80")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "포트 80") {
		t.Errorf("porthole --lang ko --offline 80: code %d, %q", r.code, r.stderr)
	}
	r = run(t, "", "--", "-1")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `bad port "-1"`) {
		t.Errorf("porthole -- -1: code %d, %q; want a bad port", r.code, r.stderr)
	}
	for _, arg := range []string{"--bogus", "--kill", "-", "---json"} {
		r = run(t, "", arg, "80")
		if r.code != ExitUsage || !strings.Contains(r.stderr, "unknown command") {
			t.Errorf("porthole %s 80: code %d, %q; want an unknown command", arg, r.code, r.stderr)
		}
	}
}

// TestInfoJSONContract checks the fields tools rely on.
func TestInfoJSONContract(t *testing.T) {
	r := run(t, "", "2556", "--json")
	if r.code != 0 {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d objects", len(got))
	}
	d := got[0]
	for _, k := range []string{"port", "range", "title", "status", "ghost", "services", "threats", "uses", "check"} {
		if _, ok := d[k]; !ok {
			t.Errorf("missing %q", k)
		}
	}
	if d["port"] != 2556.0 || d["ghost"] != true {
		t.Errorf("port %v ghost %v", d["port"], d["ghost"])
	}
	rg := d["range"].(map[string]any)
	if rg["name"] != "registered" || rg["low"] != 1024.0 || rg["high"] != 49151.0 {
		t.Errorf("range %v", rg)
	}
	st := d["status"].(map[string]any)
	if st["tcp"] != "assigned" || st["udp"] != "assigned" {
		t.Errorf("status %v", st)
	}
	if !strings.HasPrefix(d["title"].(string), "Port 2556: nicetec-nmsvc — a registration with an empty record") {
		t.Errorf("title %q", d["title"])
	}
	svc := d["services"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "proto", "low", "high", "description", "assignee", "contact", "registered", "modified", "reference", "service_code", "unauthorized_use", "notes"} {
		if _, ok := svc[k]; !ok {
			t.Errorf("service lacks %q", k)
		}
	}
	var bagle map[string]any
	for _, th := range d["threats"].([]any) {
		m := th.(map[string]any)
		if strings.Contains(m["name"].(string), "Bagle") {
			bagle = m
		}
	}
	if bagle == nil {
		t.Fatal("no Bagle threat on 2556")
	}
	for _, k := range []string{"name", "aliases", "kind", "proto", "years", "confidence", "sources"} {
		if _, ok := bagle[k]; !ok {
			t.Errorf("threat lacks %q", k)
		}
	}
	if bagle["proto"] != "tcp" || len(bagle["sources"].([]any)) == 0 {
		t.Errorf("bagle %v", bagle)
	}
	chk := d["check"].(map[string]any)
	for _, k := range []string{"linux", "macos", "windows"} {
		if !strings.Contains(chk[k].(string), "2556") {
			t.Errorf("check.%s = %v", k, chk[k])
		}
	}
	// 49151 has one row with no protocol: proto is null, not "".
	var d2 []struct {
		Services []struct {
			Proto *string `json:"proto"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(run(t, "", "info", "--json", "49151").stdout), &d2); err != nil {
		t.Fatal(err)
	}
	if len(d2[0].Services) != 1 || d2[0].Services[0].Proto != nil {
		t.Errorf("49151 services %+v", d2[0].Services)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		args  []string
		token string
	}{
		{[]string{"info", "65536"}, `"65536"`},
		{[]string{"info", "-1"}, `"-1"`},
		{[]string{"info", "abc"}, `"abc"`},
		{[]string{"info", "tcp/"}, `"tcp/"`},
		{[]string{"info", "22-10"}, `"22-10"`},
		{[]string{"info", ""}, `""`},
		{[]string{"info", "icmp/7"}, `"icmp/7"`},
		{[]string{"65536"}, `"65536"`},
		{[]string{"info"}, "PORT"},
		{[]string{"search"}, "TEXT"},
		{[]string{"info", "--lang", "fr", "22"}, `"fr"`},
		{[]string{"info", "--nope", "22"}, "-nope"},
		{[]string{"frobnicate"}, `"frobnicate"`},
		{[]string{"stats", "extra"}, `"extra"`},
		{[]string{"who", "sctp/9"}, `"sctp/9"`},
		{[]string{"suggest", "--count", "0"}, "--count 0"},
		{[]string{"suggest", "--range", "well-known"}, "well-known"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := run(t, "", tc.args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d", r.code, ExitUsage)
			}
			first := strings.SplitN(r.stderr, "\n", 2)[0]
			if !strings.HasPrefix(first, "porthole: ") || !strings.Contains(first, tc.token) {
				t.Errorf("stderr %q does not name %s", r.stderr, tc.token)
			}
			if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
				t.Errorf("stack trace: %s", r.stderr)
			}
			if r.stdout != "" && !strings.Contains(strings.Join(tc.args, " "), "help") {
				t.Errorf("stdout not empty: %q", r.stdout)
			}
		})
	}
}

func TestInfoForms(t *testing.T) {
	tests := []struct {
		args []string
		want []int
	}{
		{[]string{"tcp/2556"}, []int{2556}},
		{[]string{"udp/53"}, []int{53}},
		{[]string{"2556/tcp"}, []int{2556}},
		{[]string{"http"}, []int{80}},
		{[]string{"HTTP"}, []int{80}},
		{[]string{"x11"}, seq(6000, 6063)},
		{[]string{"6000-6003"}, seq(6000, 6003)},
		{[]string{"22", "80", "22"}, []int{22, 80}},
	}
	for _, tc := range tests {
		args := append([]string{"info", "--json"}, tc.args...)
		r := run(t, "", args...)
		if r.code != 0 {
			t.Errorf("%v: exit %d %s", tc.args, r.code, r.stderr)
			continue
		}
		var got []struct{ Port int }
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatal(err)
		}
		var ps []int
		for _, g := range got {
			ps = append(ps, g.Port)
		}
		if !equalInts(ps, tc.want) {
			t.Errorf("%v: ports %v, want %v", tc.args, ps, tc.want)
		}
	}
}

func seq(a, b int) []int {
	var s []int
	for i := a; i <= b; i++ {
		s = append(s, i)
	}
	return s
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type hit struct {
	Source, Category, Name, Match string
	Port                          *int
	Ports                         []struct{ Low, High int }
}

func TestSearch(t *testing.T) {
	r := run(t, "", "search", "--json", "http")
	var hits []hit
	if err := json.Unmarshal([]byte(r.stdout), &hits); err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].Name != "http" || hits[0].Port == nil || *hits[0].Port != 80 || hits[0].Match != "name" || hits[0].Category != "iana" {
		t.Fatalf("first hit %+v", hits[0])
	}
	r = run(t, "", "search", "--json", "--limit", "0", "beagle")
	hits = nil
	if err := json.Unmarshal([]byte(r.stdout), &hits); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range hits {
		for _, p := range h.Ports {
			if h.Source == "intel" && h.Category == "threat" && p.Low <= 2556 && p.High >= 2556 {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("search beagle misses the 2556 intel entry: %+v", hits)
	}
	r = run(t, "", "search", "zzzzqqqq")
	if r.code != ExitNotFound || r.stdout != "" || !strings.Contains(r.stderr, "nothing matches") {
		t.Errorf("no-match search: %+v", r)
	}
	golden(t, "search-ssh.txt", run(t, "", "search", "--limit", "8", "ssh").stdout)
}

func TestStats(t *testing.T) {
	r := run(t, "", "stats", "--json")
	var st struct {
		RegistryVersion string `json:"registry_version"`
		Ranges          []struct {
			Name     string
			Low      int
			High     int
			Size     int
			Assigned map[string]int
		}
		Intel struct {
			Entries         int
			DocumentedPorts int            `json:"documented_ports"`
			ThreatPorts     map[string]int `json:"threat_ports"`
			UsePorts        map[string]int `json:"use_ports"`
			WideRanges      []struct {
				Entry           string
				Proto           *string
				Low, High, Size int
			} `json:"wide_ranges"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatal(err)
	}
	if st.RegistryVersion != "2026-02-25" || len(st.Ranges) != 3 {
		t.Fatalf("stats %+v", st)
	}
	reg := st.Ranges[1]
	if reg.Name != "registered" || reg.Size != 48128 || reg.Assigned["any"] != 5656 || reg.Assigned["tcp"] != 5270+190 {
		t.Errorf("registered %+v", reg)
	}
	if st.Intel.Entries < 150 {
		t.Errorf("intel has %d entries, want at least 150", st.Intel.Entries)
	}
	// The NodePort range is documented as a whole: listed apart, and none of
	// its 2,768 numbers inflate the documented-port figures. Notes (scan
	// notes, operating system ranges) name no listener and count for nothing.
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	wide, documented := 0, map[int]bool{}
	for _, e := range db.Entries() {
		if e.Kind == intel.ScanNote || e.Kind == intel.OSRange {
			continue
		}
		for _, r := range e.Ports {
			if r.High-r.Low+1 > 1000 {
				wide++
				continue
			}
			for p := r.Low; p <= r.High; p++ {
				documented[p] = true
			}
		}
	}
	if len(st.Intel.WideRanges) != wide || st.Intel.DocumentedPorts != len(documented) {
		t.Errorf("wide ranges %d (want %d), documented ports %d (want %d)", len(st.Intel.WideRanges), wide, st.Intel.DocumentedPorts, len(documented))
	}
	if st.Intel.ThreatPorts["total"] > st.Intel.DocumentedPorts || st.Intel.UsePorts["total"] > st.Intel.DocumentedPorts {
		t.Errorf("threat %d or use %d ports exceed the %d documented", st.Intel.ThreatPorts["total"], st.Intel.UsePorts["total"], st.Intel.DocumentedPorts)
	}
	for _, w := range st.Intel.WideRanges {
		if w.Entry == "kubernetes-nodeport" && (w.Size != 2768 || w.Low != 30000 || w.High != 32767 || w.Proto != nil) {
			t.Errorf("NodePort range %+v", w)
		}
	}
	golden(t, "stats.txt", run(t, "", "stats").stdout)
}

func TestVersionAndHelp(t *testing.T) {
	r := run(t, "", "version")
	if r.code != 0 || !strings.Contains(r.stdout, "IANA registry 2026-02-25") {
		t.Errorf("version: %+v", r)
	}
	r = run(t, "", "help")
	if r.code != 0 || !strings.Contains(r.stdout, "Exit status") {
		t.Errorf("help: %+v", r)
	}
	r = run(t, "", "info", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "-json") {
		t.Errorf("info --help: %+v", r)
	}
	r = run(t, "")
	if r.code != ExitUsage {
		t.Errorf("no args: %+v", r)
	}
}

func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"2556", "tcp/2556", "6000-6063", "http", "-1", "", "udp/", "--json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		r := run(t, "", "info", "--json", arg)
		if r.code != 0 && r.code != ExitUsage {
			t.Fatalf("info %q: exit %d: %s", arg, r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "internal error") {
			t.Fatalf("info %q: %s", arg, r.stderr)
		}
	})
}

// baseline -o refuses a path it cannot replace with a file before it
// scans anything, with status 2 and the path named, and leaves it alone.
func TestBaselineOutputPathRefused(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{sub, "is a directory"},
		{filepath.Join(dir, "missing", "base"), "no directory"},
	} {
		r := run(t, "", "baseline", "-o", tc.path)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, tc.path) {
			t.Errorf("baseline -o %s: code %d, %q; want status 2 saying %q", tc.path, r.code, r.stderr, tc.want)
		}
	}
	if entries, _ := os.ReadDir(sub); len(entries) != 0 {
		t.Errorf("the refused directory was written: %v", entries)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a temporary file was left beside it: %v", entries)
	}
}
