package tmplgen

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/page/page_gen.go")

func pageConfig() Config {
	return Config{Dir: "testdata/page", Output: "page_gen.go", Files: []string{"page.html"}, Entry: "page",
		Func: "renderPage", Data: "*data", FuncMap: "funcs", MissingKeyError: true,
		Dynamic: map[string]string{"data.Any": "item"}, Command: "tmplgen_test"}
}

// TestGenerate compiles testdata/page, which uses every construct the
// generator supports, and compares it with testdata/page/page_gen.go
// (rewritten with -update); internal/web's tests run generated code
// against html/template.
func TestGenerate(t *testing.T) {
	got, err := Generate(pageConfig())
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/page/page_gen.go"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("generated code differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

// TestGenerateRefuses: what the generator cannot compile is an error that
// names the template and the node, never wrong code.
func TestGenerateRefuses(t *testing.T) {
	for _, c := range []struct{ tmpl, want string }{
		{`{{define "page"}}{{range .Attrs}}{{.}}{{end}}{{end}}`, "range over map[string]string is not supported"},
		{`{{define "page"}}{{.Nope}}{{end}}`, "has no exported field or method Nope"},
		{`{{define "page"}}{{.Any.Name}}{{end}}`, "field of any"},
		{`{{define "page"}}<a onclick="f({{.Title}})">{{end}}`, "escaper _html_template_jsvalescaper is not supported"},
		{`{{define "page"}}{{.Ptr}}{{end}}`, "printing a pointer"},
		{`{{define "page"}}{{template "page" .}}{{end}}`, "calls itself"},
	} {
		dir := t.TempDir()
		src, err := os.ReadFile("testdata/page/page.go")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/go.mod", []byte("module page\n\ngo 1.26\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/page.go", src, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/page.html", []byte(c.tmpl), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := pageConfig()
		cfg.Dir, cfg.Dynamic = dir, nil
		_, err = Generate(cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.tmpl, err, c.want)
		}
	}
}
