// Package promtext writes metrics in the Prometheus text exposition format,
// version 0.0.4 ("# HELP" and "# TYPE" lines, then one line per sample), and
// in OpenMetrics 1.0 text when the scraper asks for it (Handler negotiates).
//
// It replaces the Prometheus client library for porthole's one metrics
// endpoint (watch --metrics). That library pulls in protobuf, a YAML parser
// and procfs, whose package initialisation every porthole command paid for;
// this package has no dependencies outside the standard library and does no
// work until it is called.
//
// The caller owns the values and their locking; Write only formats a
// snapshot. Families come out sorted by name, samples in the caller's order
// (a histogram's buckets must stay in ascending order), as the reference
// client does, so scrapes are stable and diffable.
package promtext

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ContentType is the media type of the format written by Write.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// OpenMetricsType is the media type of the format written by
// WriteOpenMetrics.
const OpenMetricsType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

// Type is a metric family's type, as written on its "# TYPE" line.
type Type string

// The metric types porthole exposes.
const (
	Counter   Type = "counter"
	Gauge     Type = "gauge"
	Histogram Type = "histogram"
	Summary   Type = "summary"
	// Info is a family of one sample of value 1 whose labels carry the
	// facts (a build's version): OpenMetrics' info type, a gauge in the
	// text format. Its name ends in "_info".
	Info Type = "info"
)

// Label is one label pair of a sample.
type Label struct{ Name, Value string }

// Sample is one line: the family name plus Suffix ("", "_bucket", "_sum",
// "_count"), its labels, and its value.
type Sample struct {
	Suffix string
	Labels []Label
	Value  float64
}

// Family is one metric: name, help text, type and samples.
//
// Name is the name the samples carry in the text format: a counter's ends
// in "_total" and an info family's in "_info". OpenMetrics names the family
// without that suffix (and keeps it on the samples).
type Family struct {
	Name    string
	Help    string
	Type    Type
	Samples []Sample
	// TextOnly leaves the family out of OpenMetrics output: one whose name
	// is another family's OpenMetrics name (the gauge go_memstats_alloc_bytes
	// and the counter go_memstats_alloc_bytes_total, both "alloc_bytes"
	// there), which OpenMetrics does not allow.
	TextOnly bool
}

// Write writes the families in the text format, sorted by name. A family
// with a bad metric or label name, an unknown type, a sample suffix its type
// does not allow, or a name that occurs twice is an error, and nothing is
// written.
func Write(w io.Writer, fams []Family) error { return write(w, fams, false) }

// WriteOpenMetrics writes the families in the OpenMetrics 1.0 text format,
// sorted by name and ended by "# EOF": counters and info families named
// without their "_total" and "_info" suffixes on the HELP and TYPE lines,
// "le" and "quantile" label values in canonical form ("1.0", not "1"), and
// without the families marked TextOnly. It refuses what Write refuses, and
// two families with one OpenMetrics name.
func WriteOpenMetrics(w io.Writer, fams []Family) error { return write(w, fams, true) }

func write(w io.Writer, fams []Family, om bool) error {
	order := make([]int, 0, len(fams))
	for i := range fams {
		if !om || !fams[i].TextOnly {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(fams[a].Name, fams[b].Name) })
	var buf bytes.Buffer
	var omNames map[string]bool
	if om {
		omNames = make(map[string]bool, len(order))
	}
	for k, i := range order {
		f := &fams[i]
		if k > 0 && fams[order[k-1]].Name == f.Name {
			return fmt.Errorf("promtext: metric %q twice", f.Name)
		}
		if err := f.check(); err != nil {
			return err
		}
		name, typ := f.Name, string(f.Type)
		if om {
			name = f.omName()
			if omNames[name] {
				return fmt.Errorf("promtext: metric %s: OpenMetrics name %q taken by another family", f.Name, name)
			}
			omNames[name] = true
		} else if f.Type == Info {
			typ = string(Gauge)
		}
		if f.Help != "" {
			buf.WriteString("# HELP ")
			buf.WriteString(name)
			buf.WriteByte(' ')
			escape(&buf, f.Help, om)
			buf.WriteByte('\n')
		}
		buf.WriteString("# TYPE ")
		buf.WriteString(name)
		buf.WriteByte(' ')
		buf.WriteString(typ)
		buf.WriteByte('\n')
		for _, s := range f.Samples {
			buf.WriteString(f.Name)
			buf.WriteString(s.Suffix)
			if len(s.Labels) > 0 {
				buf.WriteByte('{')
				for j, l := range s.Labels {
					if j > 0 {
						buf.WriteByte(',')
					}
					buf.WriteString(l.Name)
					buf.WriteString(`="`)
					if om && (l.Name == "le" && f.Type == Histogram || l.Name == "quantile" && f.Type == Summary) {
						buf.WriteString(canonical(l.Value))
					} else {
						escape(&buf, l.Value, true)
					}
					buf.WriteByte('"')
				}
				buf.WriteByte('}')
			}
			buf.WriteByte(' ')
			buf.Write(AppendFloat(buf.AvailableBuffer(), s.Value))
			buf.WriteByte('\n')
		}
	}
	if om {
		buf.WriteString("# EOF\n")
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// omName is the family's name in OpenMetrics: without the "_total" of a
// counter or the "_info" of an info family.
func (f *Family) omName() string {
	switch f.Type {
	case Counter:
		return strings.TrimSuffix(f.Name, "_total")
	case Info:
		return strings.TrimSuffix(f.Name, "_info")
	}
	return f.Name
}

// canonical rewrites an "le" or "quantile" value (as FormatFloat writes it)
// in OpenMetrics' canonical form: a whole number gets ".0" ("1" becomes
// "1.0"), as the reference clients write it. check has made sure it parses.
func canonical(v string) string {
	if strings.ContainsAny(v, ".eEIN") {
		return v
	}
	return v + ".0"
}

func (f *Family) check() error {
	if !validName(f.Name, true) {
		return fmt.Errorf("promtext: bad metric name %q", f.Name)
	}
	var suffixes []string
	switch f.Type {
	case Counter:
		if !strings.HasSuffix(f.Name, "_total") || f.Name == "_total" {
			return fmt.Errorf("promtext: counter %s: the name must end in _total", f.Name)
		}
		suffixes = []string{""}
	case Info:
		if !strings.HasSuffix(f.Name, "_info") || f.Name == "_info" {
			return fmt.Errorf("promtext: info %s: the name must end in _info", f.Name)
		}
		if len(f.Samples) != 1 || f.Samples[0].Value != 1 {
			return fmt.Errorf("promtext: info %s: want one sample of value 1", f.Name)
		}
		suffixes = []string{""}
	case Gauge:
		suffixes = []string{""}
	case Histogram:
		suffixes = []string{"_bucket", "_sum", "_count"}
	case Summary:
		suffixes = []string{"", "_sum", "_count"}
	default:
		return fmt.Errorf("promtext: metric %s: unknown type %q", f.Name, f.Type)
	}
	for _, s := range f.Samples {
		if !slices.Contains(suffixes, s.Suffix) {
			return fmt.Errorf("promtext: metric %s (%s): sample suffix %q", f.Name, f.Type, s.Suffix)
		}
		for _, l := range s.Labels {
			if !validName(l.Name, false) || strings.HasPrefix(l.Name, "__") {
				return fmt.Errorf("promtext: metric %s: bad label name %q", f.Name, l.Name)
			}
			if l.Name == "le" && f.Type == Histogram || l.Name == "quantile" && f.Type == Summary {
				if _, err := strconv.ParseFloat(l.Value, 64); err != nil || l.Value != FormatFloat(mustFloat(l.Value)) {
					return fmt.Errorf("promtext: metric %s: %s=%q is not a number as FormatFloat writes it", f.Name, l.Name, l.Value)
				}
			}
		}
	}
	return nil
}

// validName checks a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or, without
// colons, a label name.
func validName(s string, colon bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' || colon && c == ':'
		if !ok {
			return false
		}
	}
	return true
}

func mustFloat(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// escape writes s with backslash and line feed escaped, and in label values
// (and OpenMetrics help text) the double quote as well.
func escape(buf *bytes.Buffer, s string, quote bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			buf.WriteString(`\\`)
		case c == '\n':
			buf.WriteString(`\n`)
		case c == '"' && quote:
			buf.WriteString(`\"`)
		default:
			buf.WriteByte(c)
		}
	}
}

// AppendFloat appends v as the format writes sample values and the "le" and
// "quantile" labels: the shortest representation that reads back exactly,
// in exponent form from 1e6 up and below 1e-4 (strconv's 'g' with precision
// -1, as the reference client writes), and +Inf, -Inf, NaN.
func AppendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// FormatFloat is AppendFloat to a string, for "le" and "quantile" labels.
func FormatFloat(v float64) string { return string(AppendFloat(nil, v)) }

// Handler serves what collect returns at every request: OpenMetrics when
// the request's Accept header prefers it (WantOpenMetrics), else the text
// format, each with its content type. A collect or format error is a 500
// with a one-line message.
func Handler(collect func() []Family) http.Handler {
	return HandlerContext(func(context.Context) ([]Family, error) { return collect(), nil })
}

// HandlerContext is Handler for families read from something that can fail
// (a database), with the request's context: an error is a 500 naming it,
// not a scrape with families missing.
func HandlerContext(collect func(context.Context) ([]Family, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		om := WantOpenMetrics(r.Header.Values("Accept"))
		var buf bytes.Buffer
		fams, err := collect(r.Context())
		ctype := ContentType
		if err == nil && om {
			err, ctype = WriteOpenMetrics(&buf, fams), OpenMetricsType
		} else if err == nil {
			err = Write(&buf, fams)
		}
		w.Header().Set("Vary", "Accept")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = w.Write(buf.Bytes())
	})
}

// WantOpenMetrics reports whether Accept header values ask for OpenMetrics
// 1.0 text (application/openmetrics-text with version 1.0.0 or none) at a
// quality above zero and no lower than the text format's (text/plain,
// text/* or */*). Prometheus sends
// "application/openmetrics-text;version=1.0.0,…,text/plain;version=0.0.4;q=0.5,*/*;q=0.1".
// A malformed range is ignored.
func WantOpenMetrics(accept []string) bool {
	omQ, textQ := 0.0, 0.0
	for _, h := range accept {
		for _, rng := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(rng)
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
					continue
				}
			}
			switch mt {
			case "application/openmetrics-text":
				if v, ok := params["version"]; !ok || v == "1.0.0" {
					omQ = max(omQ, q)
				}
			case "text/plain", "text/*", "*/*":
				textQ = max(textQ, q)
			}
		}
	}
	return omQ > 0 && omQ >= textQ
}
