package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/store"
	"github.com/porthole/porthole/internal/testenv"
)

// schemaDoc is docs/porthole.schema.json, the one schema of every --json
// output.
type schemaDoc struct {
	Defs map[string]*schemaNode `json:"$defs"`
}

// schemaNode is the part of JSON Schema the document uses: type, enum,
// properties, required, additionalProperties, items, $ref, oneOf, minimum
// and maximum.
type schemaNode struct {
	Ref         string                 `json:"$ref"`
	Type        any                    `json:"type"`
	Enum        []any                  `json:"enum"`
	Properties  map[string]*schemaNode `json:"properties"`
	Required    []string               `json:"required"`
	AdditionalP json.RawMessage        `json:"additionalProperties"`
	Items       *schemaNode            `json:"items"`
	OneOf       []*schemaNode          `json:"oneOf"`
	Minimum     *float64               `json:"minimum"`
	Maximum     *float64               `json:"maximum"`
}

func loadSchema(t *testing.T) *schemaDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "porthole.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d schemaDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// check returns the first way v breaks node, or "".
func (d *schemaDoc) check(node *schemaNode, v any, path string) string {
	if node.Ref != "" {
		name := strings.TrimPrefix(node.Ref, "#/$defs/")
		def, ok := d.Defs[name]
		if !ok {
			return path + ": unknown $ref " + node.Ref
		}
		return d.check(def, v, path)
	}
	if len(node.OneOf) > 0 {
		n, first := 0, ""
		for _, alt := range node.OneOf {
			if msg := d.check(alt, v, path); msg == "" {
				n++
			} else if first == "" {
				first = msg
			}
		}
		if n != 1 {
			return fmt.Sprintf("%s: matches %d of oneOf (first miss: %s)", path, n, first)
		}
		return ""
	}
	got := jsonType(v)
	if node.Type != nil {
		var want []string
		switch ty := node.Type.(type) {
		case string:
			want = []string{ty}
		case []any:
			for _, x := range ty {
				want = append(want, x.(string))
			}
		}
		if !slices.Contains(want, got) && !(got == "integer" && slices.Contains(want, "number")) {
			return fmt.Sprintf("%s: %s, want %v", path, got, want)
		}
	}
	if node.Enum != nil {
		ok := false
		for _, e := range node.Enum {
			if fmt.Sprint(e) == fmt.Sprint(v) && (e == nil) == (v == nil) {
				ok = true
			}
		}
		if !ok {
			return fmt.Sprintf("%s: %v is not one of %v", path, v, node.Enum)
		}
	}
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		if node.Minimum != nil && f < *node.Minimum || node.Maximum != nil && f > *node.Maximum {
			return fmt.Sprintf("%s: %v out of range", path, v)
		}
	}
	if obj, ok := v.(map[string]any); ok {
		for _, k := range node.Required {
			if _, ok := obj[k]; !ok {
				return fmt.Sprintf("%s: missing %q", path, k)
			}
		}
		var extra *schemaNode
		closed := false
		if len(node.AdditionalP) > 0 {
			if string(node.AdditionalP) == "false" {
				closed = true
			} else if string(node.AdditionalP) != "true" {
				extra = new(schemaNode)
				if err := json.Unmarshal(node.AdditionalP, extra); err != nil {
					return path + ": bad additionalProperties"
				}
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			sub, ok := node.Properties[k]
			switch {
			case ok:
			case extra != nil:
				sub = extra
			case closed:
				return fmt.Sprintf("%s: unexpected field %q", path, k)
			default:
				continue
			}
			if msg := d.check(sub, obj[k], path+"."+k); msg != "" {
				return msg
			}
		}
	}
	if arr, ok := v.([]any); ok && node.Items != nil {
		for i, x := range arr {
			if msg := d.check(node.Items, x, fmt.Sprintf("%s[%d]", path, i)); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// conform decodes one JSON document and checks it against $defs[def], or
// against an array of them when array is set.
func (d *schemaDoc) conform(t *testing.T, label, def string, array bool, doc string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Errorf("%s: not JSON: %v\n%s", label, err, doc)
		return
	}
	node := &schemaNode{Ref: "#/$defs/" + def}
	if array {
		node = &schemaNode{Type: "array", Items: node}
	}
	if msg := d.check(node, v, label); msg != "" {
		t.Errorf("schema: %s", msg)
	}
}

// conformInfo checks info --json: each element is a dossier plus "local"
// (infoPort), each local element a listener plus "findings"
// (localListener).
func (d *schemaDoc) conformInfo(t *testing.T, label, doc string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var arr []map[string]any
	if err := dec.Decode(&arr); err != nil {
		t.Errorf("%s: %v\n%s", label, err, doc)
		return
	}
	for i, el := range arr {
		at := fmt.Sprintf("%s[%d]", label, i)
		if msg := d.check(&schemaNode{Ref: "#/$defs/infoPort"}, el, at); msg != "" {
			t.Errorf("schema: %s", msg)
		}
		local, _ := el["local"].([]any)
		delete(el, "local")
		if msg := d.check(&schemaNode{Ref: "#/$defs/dossier"}, el, at); msg != "" {
			t.Errorf("schema: %s", msg)
		}
		for j, l := range local {
			m, _ := l.(map[string]any)
			if msg := d.check(&schemaNode{Ref: "#/$defs/localListener"}, m, fmt.Sprintf("%s.local[%d]", at, j)); msg != "" {
				t.Errorf("schema: %s", msg)
			}
			delete(m, "findings")
			if msg := d.check(&schemaNode{Ref: "#/$defs/listener"}, m, fmt.Sprintf("%s.local[%d]", at, j)); msg != "" {
				t.Errorf("schema: %s", msg)
			}
		}
	}
}

// TestSchemaEveryCommand runs every command with --json, on real sockets,
// files and databases, and checks stdout (and, on failure, stderr) against
// docs/porthole.schema.json.
func TestSchemaEveryCommand(t *testing.T) {
	d := loadSchema(t)
	// The definitions are well-formed: every $ref resolves.
	for name, def := range d.Defs {
		if msg := d.check(def, nil, name); strings.Contains(msg, "unknown $ref") {
			t.Fatal(msg)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	uc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()

	ok := func(args ...string) string {
		t.Helper()
		r := run(t, "", args...)
		if r.code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		return r.stdout
	}
	for _, p := range []string{"0", "22", "80", "2556", "6000", "49151", "49152", "65535"} {
		d.conformInfo(t, "info "+p, ok("info", "--json", p))
	}
	d.conformInfo(t, "info http", ok("info", "--json", "http"))
	d.conformInfo(t, "info --offline", ok("info", "--json", "--offline", "22"))
	d.conformInfo(t, "info (a listener here)", ok("info", "--json", port))
	for _, q := range []string{"ssh", "dns", "1080", "beagle", "dns-sd", "trojan"} {
		d.conform(t, "search "+q, "hit", true, ok("search", "--json", "--limit", "0", q))
	}
	d.conform(t, "stats", "stats", false, ok("stats", "--json"))
	d.conform(t, "version", "version", false, ok("version", "--json"))
	d.conform(t, "suggest", "suggest", false, ok("suggest", "--json", "--count", "3", "--seed", "7"))
	d.conform(t, "list", "listener", true, ok("list", "--json"))
	d.conform(t, "list --all-netns", "listener", true, ok("list", "--json", "--all-netns"))
	d.conform(t, "who", "listener", true, ok("who", "--json", "tcp/"+port))
	d.conform(t, "baseline", "baselineRule", true, ok("baseline", "--json"))

	// audit exits with finding bits; the report is on stdout either way.
	base := filepath.Join(t.TempDir(), "baseline")
	if r := run(t, "", "baseline", "-o", base); r.code != 0 {
		t.Fatalf("baseline -o: %d %s", r.code, r.stderr)
	}
	for _, args := range [][]string{{"audit", "--json"}, {"audit", "--json", "-v", "--baseline", base}, {"audit", "--json", "tcp/" + port}} {
		r := run(t, "", args...)
		if r.code >= 8 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		d.conform(t, strings.Join(args, " "), "auditReport", false, r.stdout)
	}

	dir := filepath.Join(t.TempDir(), "site")
	d.conform(t, "export", "export", false, ok("export", "--json", "--quiet", "--lang", "en", "--range", "2556-2556", dir))

	db := filepath.Join(t.TempDir(), "fb.db")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"", "clear"} {
		if _, err := st.Add(context.Background(), store.Feedback{Port: 2556, Lang: "en", Rating: "helpful", Comment: c, Created: testNow}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	fb := ok("feedback", "export", "--json", "--db", db)
	d.conform(t, "feedback export", "feedback", true, fb)
	if !strings.Contains(fb, `"comment": null`) && !strings.Contains(fb, `"comment":null`) {
		t.Errorf("an empty comment is not null:\n%s", fb)
	}

	_, urun := updEnv(t)
	srv := serveCSV(t, changedCSV(t))
	r := urun("update", "--json", "--dry-run", "--url", srv.URL)
	if r.code != ExitOK {
		t.Fatalf("update: %d %s", r.code, r.stderr)
	}
	d.conform(t, "update", "update", false, r.stdout)
	r = urun("update", "--json", "--dry-run", "--file", filepath.Join("..", "registry", "data", "service-names-port-numbers.csv"))
	if r.code != ExitOK {
		t.Fatalf("update --file: %d %s", r.code, r.stderr)
	}
	d.conform(t, "update --file", "update", false, r.stdout)
	r = urun("update", "--json", "--reset")
	if r.code != ExitOK {
		t.Fatalf("update --reset: %d %s", r.code, r.stderr)
	}
	d.conform(t, "update --reset", "updateReset", false, r.stdout)

	d.conform(t, "serve", "serve", false, runUntilOutput(t, "serve", "--json", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "s.db")))
	events := runUntilOutput(t, "watch", "--json", "--interval", "100ms")
	for i, line := range strings.Split(strings.TrimSpace(events), "\n") {
		d.conform(t, fmt.Sprintf("watch event %d", i), "watchEvent", false, line)
	}

	// Errors under --json, from every kind of failure.
	for _, args := range [][]string{
		{"info", "--json", "99999"}, {"search", "--json", "zzzzqqqq"}, {"who", "--json", "1"},
		{"list", "--json", "--nope"}, {"audit", "--json", "x/1"}, {"version", "--json", "x"},
		{"export", "--json"}, {"serve", "--json", "--addr", "nope"}, {"watch", "--json", "--metrics", "nope"},
		{"suggest", "--json", "--range", "1-2"}, {"baseline", "--json", "-o", "x"}, {"stats", "--json", "x"},
		{"feedback", "export", "--json", "--csv"}, {"lst", "--json"},
	} {
		r := run(t, "", args...)
		if r.code == 0 {
			t.Errorf("%v: exit 0", args)
			continue
		}
		// Every stderr line is a JSON object: notes, then the error.
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		for i, l := range lines[:len(lines)-1] {
			d.conform(t, fmt.Sprintf("%s (stderr line %d)", strings.Join(args, " "), i+1), "note", false, l)
		}
		d.conform(t, strings.Join(args, " ")+" (stderr)", "error", false, lines[len(lines)-1])
	}
}

// runUntilOutput runs a long-running command until it has printed a whole
// JSON line or document, then cancels it and returns its stdout.
func runUntilOutput(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb testenv.SyncBuffer
	off := false
	ctx, cancel := context.WithCancel(context.Background())
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
		Now: func() time.Time { return testNow }, Color: &off, Ephemeral: func() (int, int, error) { return 32768, 60999, nil }}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, args, env) }()
	deadline := time.After(30 * time.Second)
	for {
		s := out.String()
		if complete(s) {
			cancel()
			<-done
			return out.String()
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("%v ended with %d before printing: %s", args, code, errb.String())
		case <-deadline:
			cancel()
			<-done
			t.Fatalf("%v printed no JSON in 30 s: %q %s", args, s, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// complete reports whether s holds at least one whole JSON value.
func complete(s string) bool {
	dec := json.NewDecoder(strings.NewReader(s))
	var v any
	return strings.TrimSpace(s) != "" && dec.Decode(&v) == nil
}
