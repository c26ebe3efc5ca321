package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestExitStatuses holds every command to the one table: bad input is 2
// wherever it appears.
func TestExitStatuses(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"help", "bogus"}, ExitUsage, `unknown command "bogus"`},
		{[]string{"help", "help"}, ExitOK, ""},
		{[]string{"help", "--help"}, ExitOK, ""},
		{[]string{"help", "list"}, ExitOK, ""},
		{[]string{"version", "extra"}, ExitUsage, "version takes no arguments"},
		{[]string{"lst"}, ExitUsage, "did you mean 'list'?"},
		{[]string{"lsit"}, ExitUsage, "did you mean 'list'?"},
		{[]string{"sarch", "ssh"}, ExitUsage, "did you mean 'search'?"},
		{[]string{"bogus"}, ExitUsage, `bad port "bogus"`},
		{[]string{"serve", "--addr", "127.0.0.1:99999"}, ExitUsage, "--addr"},
		{[]string{"serve", "--addr", "nocolon"}, ExitUsage, "--addr"},
		{[]string{"serve", "--addr", "bad host!:80"}, ExitUsage, "--addr"},
		{[]string{"watch", "--metrics", "nope"}, ExitUsage, "--metrics"},
		{[]string{"watch", "--metrics", "127.0.0.1:70000"}, ExitUsage, "--metrics"},
	} {
		r := run(t, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
	// A service name is still a port, not a typo of a command.
	if r := run(t, "", "http"); r.code != ExitOK {
		t.Errorf("porthole http: exit %d, %s", r.code, r.stderr)
	}
}

func TestNearestCommand(t *testing.T) {
	for in, want := range map[string]string{
		"lst": "list", "lsit": "list", "wh": "who", "audt": "audit", "versoin": "version",
		"xyzzy": "", "l": "", "suggets": "suggest", "LIST": "list",
	} {
		if got := nearestCommand(in); got != want {
			t.Errorf("nearestCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJSONErrors: with --json every error is one JSON object on stderr,
// naming the offending input (cut to maxToken) or null.
func TestJSONErrors(t *testing.T) {
	long := strings.Repeat("9", 500)
	for _, tc := range []struct {
		args  []string
		code  int
		token any
	}{
		{[]string{"info", "--json", "99999"}, ExitUsage, "99999"},
		{[]string{"who", "--json", "tcp/70000"}, ExitUsage, "tcp/70000"},
		{[]string{"list", "--json", "--bogus"}, ExitUsage, "-bogus"},
		{[]string{"search", "--json", "--limit", "x", "ssh"}, ExitUsage, "x"},
		{[]string{"version", "--json", "extra"}, ExitUsage, "extra"},
		{[]string{"suggest", "--json", "--count", "0"}, ExitUsage, nil},
		{[]string{"audit", "--json", "99999"}, auditUsage, "99999"},
		{[]string{"serve", "--json", "--addr", "x:99999"}, ExitUsage, "x:99999"},
		{[]string{"info", "--json", long}, ExitUsage, strings.Repeat("9", maxToken-1) + "…"},
		{[]string{"search", "--json", "zzzzqqqq-nothing"}, ExitNotFound, nil},
	} {
		r := run(t, "", tc.args...)
		if r.code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, r.code, tc.code, r.stderr)
		}
		if strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: stderr is not one line: %q", tc.args, r.stderr)
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(r.stderr), &e); err != nil {
			t.Errorf("%v: stderr is not JSON: %v: %q", tc.args, err, r.stderr)
			continue
		}
		if len(e) != 2 || e["error"] == "" || e["error"] == nil {
			t.Errorf("%v: want exactly error and token: %v", tc.args, e)
		}
		if tok, ok := e["token"]; !ok || tok != tc.token {
			t.Errorf("%v: token %#v, want %#v", tc.args, e["token"], tc.token)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	for v, ok := range map[string]bool{
		"127.0.0.1:8025": true, "[::1]:0": true, ":9100": true, "localhost:80": true, "host.example:65535": true,
		"127.0.0.1:65536": false, "127.0.0.1": false, "nope": false, "a b:80": false, "x:http": false,
		"x:-1": false, "x:08": false, "[::1]:": false, "-bad-:80": false,
	} {
		if err := checkAddr("--addr", v); (err == nil) != ok {
			t.Errorf("checkAddr(%q) = %v, want ok %v", v, err, ok)
		}
	}
}

func FuzzCheckAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8025", "[::1]:0", ":80", "x", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := checkAddr("--addr", s)
		if err == nil {
			return
		}
		if exitCode(err) != ExitUsage {
			t.Fatalf("checkAddr(%q): exit %d", s, exitCode(err))
		}
		if tok, ok := errToken(err); s != "" && (!ok || tok != s) {
			t.Fatalf("checkAddr(%q): token %q", s, tok)
		}
	})
}

func FuzzEditDistance(f *testing.F) {
	f.Add("lst", "list")
	f.Add("", "audit")
	f.Fuzz(func(t *testing.T, a, b string) {
		d := editDistance(a, b)
		if d != editDistance(b, a) || d < 0 {
			t.Fatalf("editDistance(%q, %q) = %d, reversed %d", a, b, d, editDistance(b, a))
		}
		if (d == 0) != (a == b) && len([]rune(a)) <= 64 && len([]rune(b)) <= 64 && string([]rune(a)) == a && string([]rune(b)) == b {
			t.Fatalf("editDistance(%q, %q) = %d", a, b, d)
		}
	})
}

// TestSearchTable: the TYPE column, "no port", 53 first for dns, and names
// never cut when they fit the width.
func TestSearchTable(t *testing.T) {
	r := run(t, "", "search", "dns")
	lines := strings.Split(r.stdout, "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "PORT") || !strings.Contains(lines[0], "TYPE") {
		t.Fatalf("no header:\n%s", r.stdout)
	}
	if f := strings.Fields(lines[1]); len(f) < 4 || f[0] != "53" || f[2] != "iana" || f[3] != "domain" {
		t.Errorf("search dns: first row %q, want 53 domain", lines[1])
	}
	if !strings.Contains(r.stdout, "\nno port ") || strings.Contains(r.stdout, "\n- ") {
		t.Errorf("port-less rows do not say \"no port\":\n%s", r.stdout)
	}
	var hits []hit
	r = run(t, "", "search", "--json", "dns")
	if err := json.Unmarshal([]byte(r.stdout), &hits); err != nil || *hits[0].Port != 53 || hits[0].Match != "acronym" {
		t.Errorf("search --json dns: first %+v (%v)", hits[0], err)
	}
	r = run(t, "", "search", "--limit", "0", "ssh")
	kinds := map[string]bool{}
	for _, l := range strings.Split(r.stdout, "\n")[1:] {
		if f := strings.Fields(l); len(f) > 3 {
			kinds[f[2]] = true
		}
	}
	for _, k := range []string{"iana", "threat", "use"} {
		if !kinds[k] {
			t.Errorf("search ssh shows no %s row:\n%s", k, r.stdout)
		}
	}
	// Every name that fits beside the fixed columns is printed whole.
	r2 := run(t, "", "search", "--json", "--limit", "0", "ssh")
	if err := json.Unmarshal([]byte(r2.stdout), &hits); err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if displayWidth(h.Name) <= 40 && !strings.Contains(r.stdout, h.Name) {
			t.Errorf("search ssh cut the name %q:\n%s", h.Name, r.stdout)
		}
	}
}
