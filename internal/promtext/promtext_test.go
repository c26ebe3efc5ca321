package promtext

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
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

// promtoolCheck: see testenv.CheckPromtool.
func promtoolCheck(t *testing.T, text []byte) { t.Helper(); testenv.CheckPromtool(t, text) }

func TestWriteOpenMetrics(t *testing.T) {
	fams := []Family{
		{Name: "b_total", Help: `Second, "quoted", a back\slash` + "\nand a line feed.", Type: Counter,
			Samples: []Sample{{Labels: []Label{{"path", `C:\x "q"`}}, Value: 3}}},
		{Name: "a_seconds", Help: "First.", Type: Histogram, Samples: []Sample{
			{Suffix: "_bucket", Labels: []Label{{"le", FormatFloat(0.5)}}, Value: 1},
			{Suffix: "_bucket", Labels: []Label{{"le", FormatFloat(1)}}, Value: 1},
			{Suffix: "_bucket", Labels: []Label{{"le", FormatFloat(1e6)}}, Value: 2},
			{Suffix: "_bucket", Labels: []Label{{"le", FormatFloat(math.Inf(1))}}, Value: 2},
			{Suffix: "_sum", Value: 0.75},
			{Suffix: "_count", Value: 2},
		}},
		{Name: "d_seconds", Type: Summary, Samples: []Sample{
			{Labels: []Label{{"quantile", FormatFloat(0)}}, Value: 0.1},
			{Labels: []Label{{"quantile", FormatFloat(0.5)}}, Value: 0.2},
			{Suffix: "_sum", Value: 0.3}, {Suffix: "_count", Value: 2},
		}},
		{Name: "e_build_info", Help: "Build.", Type: Info, Samples: []Sample{{Labels: []Label{{"version", "v1.2.3"}}, Value: 1}}},
		{Name: "c", Type: Gauge, Samples: []Sample{{Value: 1443845}}},
		{Name: "b", Type: Gauge, TextOnly: true, Samples: []Sample{{Value: 1}}},
	}
	var b bytes.Buffer
	if err := WriteOpenMetrics(&b, fams); err != nil {
		t.Fatal(err)
	}
	want := `# HELP a_seconds First.
# TYPE a_seconds histogram
a_seconds_bucket{le="0.5"} 1
a_seconds_bucket{le="1.0"} 1
a_seconds_bucket{le="1e+06"} 2
a_seconds_bucket{le="+Inf"} 2
a_seconds_sum 0.75
a_seconds_count 2
# HELP b Second, \"quoted\", a back\\slash\nand a line feed.
# TYPE b counter
b_total{path="C:\\x \"q\""} 3
# TYPE c gauge
c 1.443845e+06
# TYPE d_seconds summary
d_seconds{quantile="0.0"} 0.1
d_seconds{quantile="0.5"} 0.2
d_seconds_sum 0.3
d_seconds_count 2
# HELP e_build Build.
# TYPE e_build info
e_build_info{version="v1.2.3"} 1
# EOF
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	openMetricsCheck(t, b.Bytes())

	// The text format keeps the TextOnly family and writes info as a gauge.
	b.Reset()
	if err := Write(&b, fams); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"# TYPE b gauge\nb 1\n", "# TYPE e_build_info gauge\ne_build_info{version=\"v1.2.3\"} 1\n", `a_seconds_bucket{le="1"} 1`} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("text format lacks %q:\n%s", line, b.String())
		}
	}
	if strings.Contains(b.String(), "# EOF") {
		t.Error("text format has # EOF")
	}
}

func TestOpenMetricsRejects(t *testing.T) {
	one := []Sample{{Value: 1}}
	for name, fams := range map[string][]Family{
		"counter without _total": {{Name: "a", Type: Counter, Samples: one}},
		"info without _info":     {{Name: "a", Type: Info, Samples: one}},
		"info of value 2":        {{Name: "a_info", Type: Info, Samples: []Sample{{Value: 2}}}},
		"info of two samples":    {{Name: "a_info", Type: Info, Samples: []Sample{{Value: 1}, {Value: 1}}}},
		"le not a number":        {{Name: "a", Type: Histogram, Samples: []Sample{{Suffix: "_bucket", Labels: []Label{{"le", "x"}}}}}},
		"le not as written":      {{Name: "a", Type: Histogram, Samples: []Sample{{Suffix: "_bucket", Labels: []Label{{"le", "1.0"}}}}}},
	} {
		for _, write := range []func(io.Writer, []Family) error{Write, WriteOpenMetrics} {
			var b bytes.Buffer
			if err := write(&b, fams); err == nil || b.Len() != 0 {
				t.Errorf("%s: error %v, wrote %q", name, err, b.String())
			}
		}
	}
	// A gauge and a counter that OpenMetrics would give one name: fine in
	// the text format, refused in OpenMetrics unless one is TextOnly.
	clash := []Family{{Name: "x_bytes", Type: Gauge, Samples: one}, {Name: "x_bytes_total", Type: Counter, Samples: one}}
	if err := Write(io.Discard, clash); err != nil {
		t.Errorf("text format: %v", err)
	}
	if err := WriteOpenMetrics(io.Discard, clash); err == nil {
		t.Error("OpenMetrics accepted two families named x_bytes")
	}
	clash[0].TextOnly = true
	if err := WriteOpenMetrics(io.Discard, clash); err != nil {
		t.Errorf("OpenMetrics with the gauge TextOnly: %v", err)
	}
}

func TestWantOpenMetrics(t *testing.T) {
	for _, c := range []struct {
		accept []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"*/*"}, false},
		{[]string{"text/plain"}, false},
		{[]string{"application/openmetrics-text"}, true},
		{[]string{"application/openmetrics-text; version=1.0.0; charset=utf-8"}, true},
		// Prometheus 2.x's scrape header.
		{[]string{"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"}, true},
		{[]string{"text/plain;version=0.0.4", "application/openmetrics-text;version=1.0.0;q=0.5"}, false},
		{[]string{"application/openmetrics-text;version=1.0.0;q=0"}, false},
		{[]string{"application/openmetrics-text;version=0.0.1"}, false},
		{[]string{"application/openmetrics-text;version=2.0.0"}, false},
		{[]string{"application/openmetrics-text;q=abc, text/plain;q=0.1"}, false},
		{[]string{"text/plain;q=0.9, application/openmetrics-text"}, true},
		{[]string{";;;, application/openmetrics-text"}, true},
	} {
		if got := WantOpenMetrics(c.accept); got != c.want {
			t.Errorf("WantOpenMetrics(%q) = %v, want %v", c.accept, got, c.want)
		}
	}
}

func TestHandlerNegotiates(t *testing.T) {
	srv := httptest.NewServer(Handler(func() []Family { return append(GoRuntime(), Process()...) }))
	defer srv.Close()
	get := func(accept string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	if ct := resp.Header.Get("Content-Type"); ct != OpenMetricsType {
		t.Errorf("Content-Type %q, want %q", ct, OpenMetricsType)
	}
	if resp.Header.Get("Vary") != "Accept" {
		t.Errorf("Vary %q", resp.Header.Get("Vary"))
	}
	if !strings.HasSuffix(body, "\n# EOF\n") || !strings.Contains(body, "\n# TYPE go_memstats_alloc_bytes counter\ngo_memstats_alloc_bytes_total ") ||
		!strings.Contains(body, "\n# TYPE go info\ngo_info{") {
		t.Errorf("OpenMetrics body:\n%s", body)
	}
	openMetricsCheck(t, []byte(body))

	resp, body = get("")
	if ct := resp.Header.Get("Content-Type"); ct != ContentType {
		t.Errorf("no Accept: Content-Type %q", ct)
	}
	if strings.Contains(body, "# EOF") || !strings.Contains(body, "\n# TYPE go_memstats_alloc_bytes gauge\n") {
		t.Errorf("text body:\n%s", body)
	}
	promtoolCheck(t, []byte(body))
}

// openMetricsCheck: see testenv.CheckOpenMetrics.
func openMetricsCheck(t *testing.T, text []byte) { t.Helper(); testenv.CheckOpenMetrics(t, text) }

func TestHandlerContextError(t *testing.T) {
	srv := httptest.NewServer(HandlerContext(func(context.Context) ([]Family, error) {
		return GoRuntime(), errors.New("the inventory is gone")
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(b), "the inventory is gone") || strings.Contains(string(b), "go_goroutines") {
		t.Errorf("a collect error gave status %d:\n%s", resp.StatusCode, b)
	}
}
