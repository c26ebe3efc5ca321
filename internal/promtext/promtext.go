// Package promtext writes metrics in the Prometheus text exposition format,
// version 0.0.4: "# HELP" and "# TYPE" lines, then one line per sample.
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
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ContentType is the media type of the format written by Write.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Type is a metric family's type, as written on its "# TYPE" line.
type Type string

// The metric types porthole exposes.
const (
	Counter   Type = "counter"
	Gauge     Type = "gauge"
	Histogram Type = "histogram"
	Summary   Type = "summary"
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
type Family struct {
	Name    string
	Help    string
	Type    Type
	Samples []Sample
}

// Write writes the families in the text format, sorted by name. A family
// with a bad metric or label name, an unknown type, a sample suffix its type
// does not allow, or a name that occurs twice is an error, and nothing is
// written.
func Write(w io.Writer, fams []Family) error {
	order := make([]int, len(fams))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(fams[a].Name, fams[b].Name) })
	var buf bytes.Buffer
	for k, i := range order {
		f := &fams[i]
		if k > 0 && fams[order[k-1]].Name == f.Name {
			return fmt.Errorf("promtext: metric %q twice", f.Name)
		}
		if err := f.check(); err != nil {
			return err
		}
		if f.Help != "" {
			buf.WriteString("# HELP ")
			buf.WriteString(f.Name)
			buf.WriteByte(' ')
			escape(&buf, f.Help, false)
			buf.WriteByte('\n')
		}
		buf.WriteString("# TYPE ")
		buf.WriteString(f.Name)
		buf.WriteByte(' ')
		buf.WriteString(string(f.Type))
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
					escape(&buf, l.Value, true)
					buf.WriteByte('"')
				}
				buf.WriteByte('}')
			}
			buf.WriteByte(' ')
			buf.Write(AppendFloat(buf.AvailableBuffer(), s.Value))
			buf.WriteByte('\n')
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func (f *Family) check() error {
	if !validName(f.Name, true) {
		return fmt.Errorf("promtext: bad metric name %q", f.Name)
	}
	var suffixes []string
	switch f.Type {
	case Counter, Gauge:
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

// escape writes s with backslash and line feed escaped, and in label values
// the double quote as well.
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

// Handler serves what collect returns at every request, with the format's
// content type. A collect or format error is a 500 with a one-line message.
func Handler(collect func() []Family) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var buf bytes.Buffer
		if err := Write(&buf, collect()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = w.Write(buf.Bytes())
	})
}
