package jsonw

import (
	"bytes"
	"encoding/json"
	"testing"
)

// marshal is encoding/json's form of v with HTML escaping off, without the
// final newline: what W must match.
func marshal(t testing.TB, v any, indent string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

var hostile = []string{
	"", "plain", "<a&b>", `quote " and \ backslash`, "\b\f\n\r\t\x00\x01\x1f\x7f",
	"bad \xff utf-8 \xc3", "line\u2028sep\u2029para", "한국어 ✓ 🙂", "</script>",
}

// doc writes one value of every kind W has through w, and returns the same
// value as Go data for encoding/json.
func doc(w *W) any {
	w.ObjectStart()
	w.Key("strings")
	w.Strings(hostile)
	w.Key("none")
	w.Strings(nil)
	w.Key("ints")
	w.Ints([]int{0, -1, 1 << 40})
	w.Key("uint")
	w.Uint(18446744073709551615)
	w.Key("t")
	w.Bool(true)
	w.Key("f")
	w.Bool(false)
	w.Key("null")
	w.StringOrNull("")
	w.Key("notnull")
	w.StringOrNull("x")
	w.Key("empty")
	w.ObjectStart()
	w.ObjectEnd()
	w.Key("rows")
	w.ArrayStart()
	for _, s := range hostile {
		w.Elem()
		w.ObjectStart()
		w.Key(s)
		w.String(s)
		w.Key("nested")
		w.ArrayStart()
		w.Elem()
		w.ArrayStart()
		w.ArrayEnd()
		w.ArrayEnd()
		w.ObjectEnd()
	}
	w.ArrayEnd()
	w.ObjectEnd()
	rows := make([]any, len(hostile))
	for i, s := range hostile {
		rows[i] = orderedObject{{s, s}, {"nested", []any{[]any{}}}}
	}
	return orderedObject{
		{"strings", hostile}, {"none", []string{}}, {"ints", []int{0, -1, 1 << 40}}, {"uint", uint64(18446744073709551615)},
		{"t", true}, {"f", false}, {"null", nil}, {"notnull", "x"}, {"empty", orderedObject{}}, {"rows", rows},
	}
}

// orderedObject is a JSON object whose members keep their order (a map's
// would be sorted), encoded member by member by encoding/json.
type orderedObject []struct {
	k string
	v any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m.k); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1)
		b.WriteByte(':')
		if err := enc.Encode(m.v); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// TestMatchesEncodingJSON: compact and indented, W writes what
// encoding/json writes for the same value, byte for byte, and leaves <, >
// and & alone.
func TestMatchesEncodingJSON(t *testing.T) {
	for _, indent := range []string{"", "  ", "\t"} {
		w := Indented(indent)
		v := doc(w)
		want := marshal(t, v, indent)
		if string(w.B) != want {
			t.Errorf("indent %q:\ngot  %s\nwant %s", indent, w.B, want)
		}
		if !json.Valid(w.B) {
			t.Errorf("indent %q: invalid JSON", indent)
		}
		if !bytes.Contains(w.B, []byte(`"<a&b>"`)) {
			t.Errorf("indent %q: <a&b> escaped: %s", indent, w.B)
		}
	}
}

// TestStreamed: an array written a piece at a time, B taken and reset
// after each element, is the array written at once.
func TestStreamed(t *testing.T) {
	whole := Indented("  ")
	whole.Strings(hostile)
	w := Indented("  ")
	var out []byte
	w.ArrayStart()
	for _, s := range hostile {
		w.Elem()
		w.String(s)
		out = append(out, w.B...)
		w.B = w.B[:0]
	}
	w.ArrayEnd()
	out = append(out, w.B...)
	if string(out) != string(whole.B) {
		t.Errorf("streamed %s\nwhole %s", out, whole.B)
	}
}

// FuzzString: every string is quoted as encoding/json quotes it with HTML
// escaping off.
func FuzzString(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendString(nil, s)), marshal(t, s, ""); got != want {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	})
}

func BenchmarkString(b *testing.B) {
	s := "/usr/lib/jvm/java-17-openjdk-amd64/bin/java -Xmx4g -jar server.jar \"<nogui>\""
	var buf []byte
	for b.Loop() {
		buf = appendString(buf[:0], s)
	}
}
