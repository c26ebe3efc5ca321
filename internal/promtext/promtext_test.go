package promtext

import (
	"bytes"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
)

func TestWriteSortsEscapesAndFormats(t *testing.T) {
	fams := []Family{
		{Name: "b_total", Help: "Second, with a back\\slash and a\nline feed.", Type: Counter,
			Samples: []Sample{{Labels: []Label{{"path", `C:\x "quoted"` + "\nnext"}}, Value: 3}}},
		{Name: "a_seconds", Help: "First.", Type: Histogram, Samples: []Sample{
			{Suffix: "_bucket", Labels: []Label{{"le", FormatFloat(0.5)}}, Value: 1},
			{Suffix: "_bucket", Labels: []Label{{"le", FormatFloat(math.Inf(1))}}, Value: 2},
			{Suffix: "_sum", Value: 0.75},
			{Suffix: "_count", Value: 2},
		}},
		{Name: "c", Type: Gauge, Samples: []Sample{{Value: 1443845}, {Value: math.NaN()}}},
	}
	var b bytes.Buffer
	if err := Write(&b, fams); err != nil {
		t.Fatal(err)
	}
	want := `# HELP a_seconds First.
# TYPE a_seconds histogram
a_seconds_bucket{le="0.5"} 1
a_seconds_bucket{le="+Inf"} 2
a_seconds_sum 0.75
a_seconds_count 2
# HELP b_total Second, with a back\\slash and a\nline feed.
# TYPE b_total counter
b_total{path="C:\\x \"quoted\"\nnext"} 3
# TYPE c gauge
c 1.443845e+06
c NaN
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteRejectsBadFamilies(t *testing.T) {
	ok := Sample{Value: 1}
	for name, fams := range map[string][]Family{
		"empty name":        {{Name: "", Type: Gauge, Samples: []Sample{ok}}},
		"digit first":       {{Name: "1x", Type: Gauge, Samples: []Sample{ok}}},
		"dash":              {{Name: "a-b", Type: Gauge, Samples: []Sample{ok}}},
		"unknown type":      {{Name: "a", Type: "meter", Samples: []Sample{ok}}},
		"gauge with _sum":   {{Name: "a", Type: Gauge, Samples: []Sample{{Suffix: "_sum"}}}},
		"histogram plain":   {{Name: "a", Type: Histogram, Samples: []Sample{ok}}},
		"label with colon":  {{Name: "a", Type: Gauge, Samples: []Sample{{Labels: []Label{{"a:b", "x"}}}}}},
		"reserved label":    {{Name: "a", Type: Gauge, Samples: []Sample{{Labels: []Label{{"__name__", "x"}}}}}},
		"same name twice":   {{Name: "a", Type: Gauge, Samples: []Sample{ok}}, {Name: "a", Type: Counter, Samples: []Sample{ok}}},
		"second family bad": {{Name: "a", Type: Gauge, Samples: []Sample{ok}}, {Name: "b c", Type: Gauge}},
	} {
		var b bytes.Buffer
		if err := Write(&b, fams); err == nil {
			t.Errorf("%s: no error", name)
		}
		if b.Len() != 0 {
			t.Errorf("%s: wrote %q before failing", name, b.String())
		}
	}
}

func TestAppendFloatReadsBack(t *testing.T) {
	for _, v := range []float64{0, 1, -1, 0.1, 1e-5, 123456, 1e6, 2.5, 9.223372036854776e+18, math.MaxUint64, math.SmallestNonzeroFloat64} {
		s := FormatFloat(v)
		got, err := strconv.ParseFloat(s, 64)
		if err != nil || got != v {
			t.Errorf("FormatFloat(%v) = %q, reads back as %v, %v", v, s, got, err)
		}
	}
	for v, want := range map[float64]string{math.Inf(1): "+Inf", math.Inf(-1): "-Inf", math.NaN(): "NaN"} {
		if got := FormatFloat(v); got != want {
			t.Errorf("FormatFloat(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler(func() []Family { return GoRuntime() }))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type %q, want %q", ct, ContentType)
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if !strings.Contains(b.String(), "\n# TYPE go_goroutines gauge\ngo_goroutines ") {
		t.Errorf("no go_goroutines in\n%s", b.String())
	}

	bad := httptest.NewServer(Handler(func() []Family { return []Family{{Name: "bad name", Type: Gauge}} }))
	defer bad.Close()
	resp, err = http.Get(bad.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("a bad family gave status %d, want 500", resp.StatusCode)
	}
}

// TestGoRuntimeAndProcessPassPromtool runs the real checker over everything
// this package reports about the process, plus the escaping edge cases.
func TestGoRuntimeAndProcessPassPromtool(t *testing.T) {
	fams := append(GoRuntime(), Process()...)
	fams = append(fams, Family{Name: "porthole_test_escapes", Help: "Back\\slash,\nline feed.", Type: Gauge,
		Samples: []Sample{{Labels: []Label{{"v", "a\"b\\c\nd"}}, Value: 1}}})
	var b bytes.Buffer
	if err := Write(&b, fams); err != nil {
		t.Fatal(err)
	}
	promtoolCheck(t, b.Bytes())
}

// promtoolCheck runs `promtool check metrics` on text and fails on any
// complaint (including lint warnings). Without promtool it skips, or fails
// when CI is set (scripts/test.sh installs it).
func promtoolCheck(t *testing.T, text []byte) {
	t.Helper()
	path := testenv.NeedTool(t, "promtool", "prometheus")
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
