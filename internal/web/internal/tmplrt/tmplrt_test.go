package tmplrt

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
)

// escapers executes html/template on s in each context the generated code
// reproduces, and returns what it wrote and what tmplrt writes.
func escapers(t testing.TB, s string) (want, got string) {
	tm := template.Must(template.New("").Parse(
		`<p>{{.}}</p><p title="{{.}}"></p><title>{{.}}</title><a href="{{.}}"></a><a href="#x{{.}}"></a><a href="/p/{{.}}"></a>`))
	var b bytes.Buffer
	if err := tm.Execute(&b, s); err != nil {
		t.Fatal(err)
	}
	var g bytes.Buffer
	w := New(&g)
	w.S("<p>")
	w.HTML(s)
	w.S(`</p><p title="`)
	w.HTML(s)
	w.S(`"></p><title>`)
	w.HTML(s)
	w.S(`</title><a href="`)
	w.HTML(URLNormalize(URLFilter(s)))
	w.S(`"></a><a href="#x`)
	w.HTML(URLEscape(s))
	w.S(`"></a><a href="/p/`)
	w.HTML(URLNormalize(s))
	w.S(`"></a>`)
	return b.String(), g.String()
}

func TestEscapersMatchHTMLTemplate(t *testing.T) {
	for _, s := range []string{"", "plain", `<a href="x">&'+</a>`, "\x00", "한국어 포트", "javascript:alert(1)", "HTTPS://x/y?a=b&c=%zz%41",
		"mailto:a@b", "a/b:c", "\xff\xfe", "100% sure", "x y\tz\n", "(')"} {
		if want, got := escapers(t, s); want != got {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	}
}

func FuzzEscapers(f *testing.F) {
	for _, s := range []string{"", "<&>\"'+", "javascript:x", "%41%4", "é\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if want, got := escapers(t, s); want != got {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

func TestInt(t *testing.T) {
	for _, n := range []int{0, 7, -7, 65535, -1 << 63} {
		var b bytes.Buffer
		New(&b).Int(n)
		var want strings.Builder
		template.Must(template.New("").Parse("{{.}}")).Execute(&want, n)
		if b.String() != want.String() {
			t.Errorf("Int(%d) = %q, want %q", n, b.String(), want.String())
		}
	}
}

func TestChecks(t *testing.T) {
	var b bytes.Buffer
	w := New(&b)
	if v := Key(w, map[string]string{"a": "x"}, "a"); v != "x" || w.Err() != nil {
		t.Fatalf("Key present: %q, %v", v, w.Err())
	}
	if p := Deref(w, &struct{ A int }{1}, "x"); p.A != 1 || w.Err() != nil {
		t.Fatalf("Deref: %v, %v", p, w.Err())
	}
	if v := As[*int](w, nil, "x"); v != nil || w.Err() != nil {
		t.Fatalf("As nil: %v, %v", v, w.Err())
	}
	Key(w, map[string]string{}, "missing")
	Deref[int](w, nil, "D.N")
	As[string](w, 1, "P")
	if err := w.Err(); err == nil || !strings.Contains(err.Error(), `"missing"`) {
		t.Fatalf("first error = %v, want the missing key", err)
	}
}
