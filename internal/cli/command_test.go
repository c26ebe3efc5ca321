package cli

import (
	"errors"
	"flag"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/feedback"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
)

// parseCase is one command line for a command's parse function: the
// options it must give, or the bad token its error must name (and the
// exit status it must map to, ExitUsage unless set).
type parseCase[O any] struct {
	args []string
	want O
	bad  string // when set, parsing fails and the message names it
	code int    // the exit status of the failure; 0 means ExitUsage
}

func checkParse[O any](t *testing.T, d *cmdDef[O], cases []parseCase[O]) {
	t.Helper()
	for _, c := range cases {
		got, err := d.parse(c.args)
		name := d.name + " " + strings.Join(c.args, " ")
		if c.bad == "" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			} else if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s:\n got %+v\nwant %+v", name, got, c.want)
			}
			continue
		}
		want := c.code
		if want == 0 {
			want = ExitUsage
		}
		switch {
		case err == nil:
			t.Errorf("%s: no error, want one naming %q (got %+v)", name, c.bad, got)
		case !strings.Contains(err.Error(), c.bad):
			t.Errorf("%s: error %q does not name %q", name, err, c.bad)
		case exitCode(err) != want:
			t.Errorf("%s: error %q maps to exit %d, want %d", name, err, exitCode(err), want)
		}
	}
}

func spec(t *testing.T, s string) ports.Spec {
	t.Helper()
	sp, err := ports.ParseSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestParseInfo(t *testing.T) {
	checkParse(t, infoCmd, []parseCase[infoOptions]{
		{args: []string{"22"}, want: infoOptions{specs: []ports.Spec{spec(t, "22")}, lang: i18n.EN}},
		{args: []string{"tcp/80", "--json", "http", "--lang", "ko", "--offline"},
			want: infoOptions{specs: []ports.Spec{spec(t, "tcp/80"), spec(t, "http")}, json: true, lang: i18n.KO, offline: true}},
		{args: []string{"--lang=ko", "--", "6000-6063"}, want: infoOptions{specs: []ports.Spec{spec(t, "6000-6063")}, lang: i18n.KO}},
		{args: nil, bad: "needs at least one PORT"},
		{args: []string{"22", "--lang", "fr"}, bad: `"fr"`},
		{args: []string{"65536"}, bad: "65536"},
		{args: []string{"-1"}, bad: "-1"},
		{args: []string{"22", "--bogus"}, bad: "-bogus"},
		{args: []string{"22", "--lang"}, bad: "-lang"},
	})
}

func TestParseWho(t *testing.T) {
	wait := 5 * time.Second
	checkParse(t, whoCmd, []parseCase[whoOptions]{
		{args: []string{"22"}, want: whoOptions{specs: []ports.Spec{spec(t, "22")}, killed: killOptions{wait: wait}}},
		{args: []string{"udp/53", "--all-netns", "--wide", "--json"},
			want: whoOptions{specs: []ports.Spec{spec(t, "udp/53")}, allNS: true, wide: true, json: true, killed: killOptions{wait: wait}}},
		{args: []string{"8080", "--kill", "--yes", "--force", "--wait", "2s"},
			want: whoOptions{specs: []ports.Spec{spec(t, "8080")}, kill: true, killed: killOptions{yes: true, force: true, wait: 2 * time.Second}}},
		{args: nil, bad: "who needs a PORT"},
		{args: []string{"22", "--yes"}, bad: "--yes goes with --kill"},
		{args: []string{"22", "--wait", "1s"}, bad: "--wait goes with --kill"},
		{args: []string{"22", "--kill", "--wait", "11m"}, bad: "11m"},
		{args: []string{"22", "--kill", "--wait", "soon"}, bad: `"soon"`},
		{args: []string{"22", "--kill", "--json"}, bad: "--kill cannot be combined with --json"},
		{args: []string{"sctp/22"}, bad: "sctp/22"},
	})
}

func TestParseList(t *testing.T) {
	checkParse(t, listCmd, []parseCase[listOptions]{
		{args: nil, want: listOptions{}},
		{args: []string{"--tcp", "--all-netns", "--wide", "--json"}, want: listOptions{tcp: true, allNS: true, wide: true, json: true}},
		{args: []string{"--udp"}, want: listOptions{udp: true}},
		{args: []string{"22"}, bad: `"22"`},
		{args: []string{"--tcp=maybe"}, bad: "maybe"},
	})
}

func TestParseSearch(t *testing.T) {
	checkParse(t, searchCmd, []parseCase[searchOptions]{
		{args: []string{"kerberos"}, want: searchOptions{query: "kerberos", limit: 50}},
		{args: []string{"remote", "desktop", "--limit", "0", "--json"}, want: searchOptions{query: "remote desktop", json: true}},
		{args: []string{" "}, bad: "search needs TEXT"},
		{args: []string{"x", "--limit", "-1"}, bad: "--limit -1"},
		{args: []string{"x", "--limit", "many"}, bad: `"many"`},
	})
}

func TestParseAudit(t *testing.T) {
	checkParse(t, auditCmd, []parseCase[auditOptions]{
		{args: nil, want: auditOptions{failOn: audit.Low}},
		{args: []string{"--baseline", "b.conf", "--fail-on", "HIGH", "-v", "--all-netns", "--json", "22", "udp/53"},
			want: auditOptions{baseline: "b.conf", failOn: audit.High, verbose: true, allNS: true, json: true,
				specs: []ports.Spec{spec(t, "22"), spec(t, "udp/53")}}},
		{args: []string{"--verbose"}, want: auditOptions{failOn: audit.Low, verbose: true}},
		// audit's own statuses: a bad argument is 64, not 2.
		{args: []string{"--fail-on", "severe"}, bad: "severe", code: auditUsage},
		{args: []string{"dccp/9"}, bad: "dccp/9", code: auditUsage},
		{args: []string{"99999"}, bad: "99999", code: auditUsage},
		{args: []string{"--nope"}, bad: "-nope", code: auditUsage},
	})
}

func TestParseBaseline(t *testing.T) {
	checkParse(t, baselineCmd, []parseCase[baselineOptions]{
		{args: nil, want: baselineOptions{}},
		{args: []string{"-o", "base.conf", "--all-netns"}, want: baselineOptions{out: "base.conf", allNS: true}},
		{args: []string{"--json"}, want: baselineOptions{json: true}},
		{args: []string{"extra"}, bad: `"extra"`},
		{args: []string{"--json", "-o", "f"}, bad: "--json and -o"},
	})
}

func TestParseWatch(t *testing.T) {
	checkParse(t, watchCmd, []parseCase[watchOptions]{
		{args: nil, want: watchOptions{interval: time.Second, fullEvery: 60}},
		{args: []string{"--json", "--interval", "250ms", "--metrics", "127.0.0.1:9100", "--baseline", "b", "--all-netns", "--no-initial", "--full-every", "5"},
			want: watchOptions{json: true, interval: 250 * time.Millisecond, metrics: "127.0.0.1:9100", baseline: "b", allNS: true, noInitial: true, fullEvery: 5}},
		{args: []string{"--interval", "1ms"}, bad: "--interval 1ms"},
		{args: []string{"--full-every", "0"}, bad: "--full-every"},
		{args: []string{"--metrics", "9100"}, bad: `"9100"`},
		{args: []string{"--metrics", "127.0.0.1:70000"}, bad: "127.0.0.1:70000"},
		{args: []string{"now"}, bad: `"now"`},
	})
}

func TestParseSuggest(t *testing.T) {
	checkParse(t, suggestCmd, []parseCase[suggestOptions]{
		{args: nil, want: suggestOptions{count: 3, low: ports.Registered.Low, high: ports.Registered.High}},
		{args: []string{"--range", "dynamic", "--count", "100", "--seed", "7", "--json"},
			want: suggestOptions{count: 100, low: ports.Dynamic.Low, high: ports.Dynamic.High, seed: 7, json: true}},
		{args: []string{"--range", "20000-30000"}, want: suggestOptions{count: 3, low: 20000, high: 30000}},
		{args: []string{"--count", "0"}, bad: "--count 0"},
		{args: []string{"--count", "101"}, bad: "--count 101"},
		{args: []string{"--range", "well-known"}, bad: "--range well-known"},
		{args: []string{"--range", "80-90"}, bad: `"80-90"`},
		{args: []string{"--range", "http"}, bad: `"http"`},
		{args: []string{"--seed", "-3"}, bad: `"-3"`},
		{args: []string{"5"}, bad: `"5"`},
	})
}

func TestParseStatsVersionMan(t *testing.T) {
	checkParse(t, statsCmd, []parseCase[statsOptions]{
		{args: []string{"--json"}, want: statsOptions{json: true}},
		{args: []string{"tcp"}, bad: `"tcp"`},
	})
	checkParse(t, versionCmd, []parseCase[versionOptions]{
		{args: nil, want: versionOptions{}},
		{args: []string{"-json"}, want: versionOptions{json: true}},
		{args: []string{"v2"}, bad: `"v2"`},
	})
	checkParse(t, manCmd, []parseCase[manOptions]{
		{args: nil, want: manOptions{}},
		{args: []string{"1"}, bad: `"1"`},
	})
	checkParse(t, completionCmd, []parseCase[completionOptions]{
		{args: []string{"zsh"}, want: completionOptions{shell: "zsh"}},
		{args: []string{"tcsh"}, bad: "completion needs one shell"},
		{args: nil, bad: "completion needs one shell"},
	})
}

func TestParseExport(t *testing.T) {
	r := spec(t, "2500-2600")
	checkParse(t, exportCmd, []parseCase[exportOptions]{
		{args: []string{"site"}, want: exportOptions{dir: "site", langs: []i18n.Lang{i18n.EN, i18n.KO}, baseURL: "http://127.0.0.1:8025"}},
		{args: []string{"--lang", "ko", "out", "--range", "2500-2600", "--base-url", "https://ports.example/", "--quiet", "--json", "--no-gzip"},
			want: exportOptions{dir: "out", langs: []i18n.Lang{i18n.KO}, ports: &r, baseURL: "https://ports.example", quiet: true, json: true, noGzip: true}},
		{args: nil, bad: "export needs one DIR"},
		{args: []string{"a", "b"}, bad: "export needs one DIR"},
		{args: []string{"d", "--lang", "en,fr"}, bad: `"fr"`},
		{args: []string{"d", "--range", "http"}, bad: `"http"`},
		{args: []string{"d", "--range", "1-70000"}, bad: "1-70000"},
	})
}

func TestParseUpdate(t *testing.T) {
	official, err := url.Parse(registry.OfficialURL)
	if err != nil {
		t.Fatal(err)
	}
	mirror, _ := url.Parse("http://127.0.0.1:8080/ports.csv")
	checkParse(t, updateCmd, []parseCase[updateOptions]{
		{args: nil, want: updateOptions{src: registry.OfficialURL, url: official, timeout: registry.DefaultTimeout}},
		{args: []string{"--url", "http://127.0.0.1:8080/ports.csv", "--timeout", "5s", "--dry-run", "--force", "--json"},
			want: updateOptions{src: "http://127.0.0.1:8080/ports.csv", url: mirror, timeout: 5 * time.Second, dryRun: true, force: true, json: true}},
		{args: []string{"--file", "ports.csv"}, want: updateOptions{src: registry.OfficialURL, url: official, file: "ports.csv", timeout: registry.DefaultTimeout}},
		{args: []string{"--reset"}, want: updateOptions{src: registry.OfficialURL, url: official, timeout: registry.DefaultTimeout, reset: true}},
		{args: []string{"--reset", "--force"}, bad: "--force"},
		{args: []string{"--url", "https://x", "--file", "f"}, bad: "--url and --file"},
		{args: []string{"--file="}, bad: "--file needs a PATH"},
		{args: []string{"--timeout", "0s"}, bad: "--timeout 0s"},
		{args: []string{"--url", "ftp://x/y"}, bad: `"ftp://x/y"`},
		{args: []string{"now"}, bad: `"now"`},
	})
}

func TestParseFeedbackAndFleet(t *testing.T) {
	checkParse(t, feedbackExportCmd, []parseCase[feedbackExportOptions]{
		{args: nil, want: feedbackExportOptions{format: feedback.FormatJSON}},
		{args: []string{"--db", "postgres://h/db", "--csv", "-o", "out.csv"}, want: feedbackExportOptions{dsn: "postgres://h/db", format: feedback.FormatCSV, out: "out.csv"}},
		{args: []string{"--json", "--csv"}, bad: "--json and --csv"},
		{args: []string{"all"}, bad: `"all"`},
	})
	for _, d := range []*cmdDef[fleetHostOptions]{fleetTokenCmd, fleetRevokeCmd} {
		checkParse(t, d, []parseCase[fleetHostOptions]{
			{args: []string{"web-1"}, want: fleetHostOptions{name: "web-1"}},
			{args: []string{"--db", "f.db", "web-1.example"}, want: fleetHostOptions{name: "web-1.example", dsn: "f.db"}},
			{args: nil, bad: "takes one host NAME"},
			{args: []string{"a", "b"}, bad: "takes one host NAME"},
			{args: []string{"-web"}, bad: "-web"},
			{args: []string{"we b"}, bad: `"we b"`},
		})
	}
}

func TestParseServe(t *testing.T) {
	def := serveOptions{addr: defaultServeAddr, rateLimit: 10}
	checkParse(t, serveCmd, []parseCase[serveOptions]{
		{args: nil, want: def},
		{args: []string{"--addr", "[::1]:0", "--db", "f.db", "--rate-limit", "0", "--trust-proxy", "--show-local", "--admin-token-file", "t",
			"--base-url", "https://ports.example", "--tls-cert", "c", "--tls-key", "k", "--metrics", "127.0.0.1:9100", "--json"},
			want: serveOptions{addr: "[::1]:0", db: "f.db", trustProxy: true, showLocal: true, adminTokenFile: "t",
				baseURL: "https://ports.example", tlsCert: "c", tlsKey: "k", metrics: "127.0.0.1:9100", json: true}},
		{args: []string{"--addr", "8025"}, bad: `"8025"`},
		{args: []string{"--addr", "bad_host:80"}, bad: `"bad_host"`},
		{args: []string{"--metrics", "x:y"}, bad: `"x:y"`},
		{args: []string{"--rate-limit", "-1"}, bad: "--rate-limit -1"},
		{args: []string{"--base-url", "ports.example"}, bad: `"ports.example"`},
		{args: []string{"site"}, bad: `"site"`},
	})
}

func TestParseAgent(t *testing.T) {
	base := []string{"--server", "https://fleet.example:8025", "--token-file", "tok"}
	def := agentOptions{server: "https://fleet.example:8025", https: true, tokenFile: "tok", interval: 30 * time.Second}
	withNS := def
	withNS.netns, withNS.netnsPath = "blue", "/run/netns/blue"
	full := agentOptions{server: "http://127.0.0.1:8025", tokenFile: "tok", name: "web-1", interval: time.Minute, spool: "sp",
		group: "edge", netns: "/proc/1/ns/net", netnsPath: "/proc/1/ns/net", noAudit: true, json: true}
	checkParse(t, agentCmd, []parseCase[agentOptions]{
		{args: base, want: def},
		{args: append([]string{"--netns", "blue"}, base...), want: withNS},
		{args: []string{"--server", "http://127.0.0.1:8025", "--token-file", "tok", "--name", "web-1", "--interval", "1m", "--spool", "sp",
			"--group", "edge", "--netns", "/proc/1/ns/net", "--no-audit", "--json"}, want: full},
		{args: []string{"--token-file", "tok"}, bad: "agent needs --server URL"},
		{args: []string{"--server", "fleet.example", "--token-file", "tok"}, bad: `"fleet.example"`},
		{args: []string{"--server", "https://u:p@fleet.example", "--token-file", "tok"}, bad: "https://u:p@fleet.example"},
		{args: []string{"--server", "http://fleet.example", "--token-file", "tok", "--ca", "ca.pem"}, bad: "--ca needs an https:// --server"},
		{args: append([]string{"--group", "-x"}, base...), bad: `"-x"`},
		{args: append([]string{"--netns", ".."}, base...), bad: `".."`},
		{args: []string{"--server", "https://fleet.example"}, bad: "agent needs --token-file"},
		{args: append([]string{"--interval", "1500ms"}, base...), bad: "1.5s"},
		{args: append([]string{"--interval", "25h"}, base...), bad: "25h0m0s"},
		{args: append([]string{"--name", "a b"}, base...), bad: `"a b"`},
		{args: append(base, "extra"), bad: `"extra"`},
	})
}

// TestParseHelp: -h and --help are flag.ErrHelp for every command, which
// bind turns into the usage on stdout and exit 0.
func TestParseHelp(t *testing.T) {
	for _, c := range commands() {
		for _, d := range c.defs {
			fs := d.usageFlags()
			if fs.Name() == "" || fs.summary == "" {
				t.Errorf("%s: a definition without a name or help", c.name)
			}
		}
	}
	for _, args := range [][]string{{"-h"}, {"22", "--help"}} {
		if _, err := infoCmd.parse(args); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("info %v: %v, want flag.ErrHelp", args, err)
		}
	}
	if _, err := auditCmd.parse([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("audit --help: %v, want flag.ErrHelp (not audit's exit 64)", err)
	}
}

// FuzzCommandParse feeds every command's parse function arbitrary
// arguments (NUL separates them): it never panics, a failure is a usage
// error (exit 2; audit's 64) or --help, and the same arguments parse the
// same way twice.
func FuzzCommandParse(f *testing.F) {
	for _, s := range []string{"22", "22\x00--json", "--lang\x00ko\x002556", "--kill\x00--wait\x0099h\x0080",
		"--range\x001-2", "--interval\x001ms", "--fail-on\x00x", "-o\x00f\x00--json", "--\x00-1", "--url=ftp://x", "web\x00--db\x00f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		for _, c := range commands() {
			for _, d := range c.defs {
				p, ok := d.(interface {
					parseAny([]string) (any, error)
				})
				if !ok {
					t.Fatalf("%s: no parseAny", c.name)
				}
				o1, err1 := p.parseAny(args)
				o2, err2 := p.parseAny(args)
				if (err1 == nil) != (err2 == nil) || err1 == nil && !reflect.DeepEqual(o1, o2) {
					t.Fatalf("%s %q: parsed two ways: %+v (%v), %+v (%v)", c.name, args, o1, err1, o2, err2)
				}
				if err1 == nil || errors.Is(err1, flag.ErrHelp) {
					continue
				}
				if code := exitCode(err1); code != ExitUsage && code != auditUsage {
					t.Fatalf("%s %q: error %q maps to exit %d", c.name, args, err1, code)
				}
			}
		}
	})
}

func (d *cmdDef[O]) parseAny(args []string) (any, error) { return d.parse(args) }
