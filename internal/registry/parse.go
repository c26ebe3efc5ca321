package registry

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/porthole/porthole/internal/ports"
)

// Kind classifies a registry row.
type Kind uint8

// Row kinds. A row with a service name is Assigned whatever its description
// says; unnamed rows are Reserved, Unassigned, or Other ("De-registered",
// "Removed", "any private mail system", …).
const (
	Unassigned Kind = iota
	Reserved
	Assigned
	Other
)

func (k Kind) String() string {
	switch k {
	case Assigned:
		return "assigned"
	case Reserved:
		return "reserved"
	case Other:
		return "other"
	}
	return "unassigned"
}

// Header is the first record of IANA's CSV export, the 12 columns in order.
var Header = [12]string{
	"Service Name", "Port Number", "Transport Protocol", "Description",
	"Assignee", "Contact", "Registration Date", "Modification Date",
	"Reference", "Service Code", "Unauthorized Use Reported", "Assignment Notes",
}

// Row is one record of the registry, every column kept.
type Row struct {
	Name         string
	Proto        ports.Proto // ports.ProtoNone where the registry gives no protocol
	Low, High    int         // -1, -1 for a row with no port (a bare service name)
	Range        bool        // the port column is a range "a-b" (even "a-a")
	Description  string
	Assignee     string
	Contact      string
	Registered   string // YYYY-MM-DD, YYYY-MM or ""
	Modified     string
	Reference    string
	ServiceCode  string
	Unauthorized string
	Notes        string
}

// HasPort reports whether the row covers any port number.
func (r *Row) HasPort() bool { return r.Low >= 0 }

// Covers reports whether the row covers port.
func (r *Row) Covers(port int) bool { return r.Low >= 0 && port >= r.Low && port <= r.High }

// Kind classifies the row.
func (r *Row) Kind() Kind {
	if r.Name != "" {
		return Assigned
	}
	d := strings.ToLower(strings.TrimLeft(r.Description, "( "))
	switch {
	case strings.HasPrefix(d, "unassigned"):
		return Unassigned
	case strings.HasPrefix(d, "reserved"):
		return Reserved
	}
	return Other
}

// Empty reports whether a named row says nothing about who registered it:
// no reference, no assignee, no contact. A port whose every named row is
// empty is a ghost registration.
func (r *Row) Empty() bool {
	return r.Name != "" && r.Reference == "" && r.Assignee == "" && r.Contact == ""
}

// ParseError locates a problem in a registry file.
type ParseError struct {
	Line   int // 1-based line where the record starts
	Column string
	Msg    string
}

func (e *ParseError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// Parse reads IANA's CSV export. It accepts CRLF and LF record ends and
// quoted fields with line breaks, checks the header, and keeps every row:
// bare service names, ranges, empty protocols, Reserved and Unassigned rows.
// The first malformed record stops the parse with a *ParseError, as does the
// first record past a cap (MaxRows, MaxWidth, MaxPostings).
func Parse(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked below, with a better message
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{Line: 1, Msg: "empty file; expected the IANA header"}
	}
	if err != nil {
		return nil, csvError(err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	if len(head) != len(Header) {
		return nil, &ParseError{Line: 1, Msg: fmt.Sprintf("header has %d columns, want %d (%s …)", len(head), len(Header), Header[0])}
	}
	for i, h := range head {
		if !strings.EqualFold(strings.TrimSpace(h), Header[i]) {
			return nil, &ParseError{Line: 1, Column: Header[i], Msg: fmt.Sprintf("header column %d is %q", i+1, h)}
		}
	}
	rows := make([]Row, 0, 16384)
	covered := 0 // port numbers covered so far, counted per row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(Header) {
			return nil, &ParseError{Line: line, Msg: fmt.Sprintf("record has %d fields, want %d", len(rec), len(Header))}
		}
		row, err := parseRecord(rec, line)
		if err != nil {
			return nil, err
		}
		if len(rows) == MaxRows {
			return nil, &ParseError{Line: line, Msg: fmt.Sprintf("more than %d rows, the cap (IANA's registry has about 14,500)", MaxRows)}
		}
		if row.HasPort() {
			w := row.High - row.Low + 1
			if w > MaxWidth {
				return nil, &ParseError{Line: line, Column: Header[1], Msg: fmt.Sprintf("range %d-%d spans %d ports, more than the cap of %d for one row", row.Low, row.High, w, MaxWidth)}
			}
			covered += w
			if covered > MaxPostings {
				return nil, &ParseError{Line: line, Column: Header[1], Msg: fmt.Sprintf("the rows up to here cover %d port numbers in all, more than the cap of %d (IANA's registry covers about 56,000)", covered, MaxPostings)}
			}
		}
		rows = append(rows, row)
	}
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{Line: pe.StartLine, Msg: pe.Err.Error()}
	}
	return err
}

func parseRecord(rec []string, line int) (Row, error) {
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return Row{}, &ParseError{Line: line, Column: Header[i], Msg: "not valid UTF-8"}
		}
	}
	row := Row{
		Name:         strings.TrimSpace(rec[0]),
		Description:  strings.TrimSpace(rec[3]),
		Assignee:     strings.TrimSpace(rec[4]),
		Contact:      strings.TrimSpace(rec[5]),
		Registered:   strings.TrimSpace(rec[6]),
		Modified:     strings.TrimSpace(rec[7]),
		Reference:    strings.TrimSpace(rec[8]),
		ServiceCode:  strings.TrimSpace(rec[9]),
		Unauthorized: strings.TrimSpace(rec[10]),
		Notes:        strings.TrimSpace(rec[11]),
	}
	p, ok := ports.ParseProto(strings.TrimSpace(rec[2]))
	if !ok {
		return Row{}, &ParseError{Line: line, Column: Header[2], Msg: fmt.Sprintf("unknown protocol %q", rec[2])}
	}
	row.Proto = p
	low, high, err := parsePortField(strings.TrimSpace(rec[1]))
	if err != nil {
		return Row{}, &ParseError{Line: line, Column: Header[1], Msg: err.Error()}
	}
	row.Low, row.High = low, high
	row.Range = strings.Contains(rec[1], "-")
	if row.Name == "" && row.Low < 0 {
		return Row{}, &ParseError{Line: line, Msg: "row has neither a service name nor a port"}
	}
	for _, d := range []struct{ col, v string }{{Header[6], row.Registered}, {Header[7], row.Modified}} {
		if d.v != "" && !validDate(d.v) {
			return Row{}, &ParseError{Line: line, Column: d.col, Msg: fmt.Sprintf("date %q is neither YYYY-MM-DD nor YYYY-MM", d.v)}
		}
	}
	return row, nil
}

func parsePortField(s string) (low, high int, err error) {
	if s == "" {
		return -1, -1, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	low, err = portNumber(a)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return low, low, nil
	}
	high, err = portNumber(b)
	if err != nil {
		return 0, 0, err
	}
	if high < low {
		return 0, 0, fmt.Errorf("range %q runs backwards", s)
	}
	return low, high, nil
}

func portNumber(s string) (int, error) {
	if s == "" || len(s) > 5 {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a port number", s)
		}
	}
	n, _ := strconv.Atoi(s)
	if n > ports.Max {
		return 0, fmt.Errorf("port %d is above 65535", n)
	}
	return n, nil
}

// validDate accepts YYYY-MM-DD and YYYY-MM.
func validDate(s string) bool {
	if len(s) != 7 && len(s) != 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 4, 7:
			if s[i] != '-' {
				return false
			}
		default:
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
	}
	m, _ := strconv.Atoi(s[5:7])
	if m < 1 || m > 12 {
		return false
	}
	if len(s) == 10 {
		d, _ := strconv.Atoi(s[8:10])
		if d < 1 || d > 31 {
			return false
		}
	}
	return true
}

// Version is the newest registration or modification date in rows: the
// registry's state is at least that recent.
func Version(rows []Row) string {
	v := ""
	for i := range rows {
		for _, d := range []string{rows[i].Registered, rows[i].Modified} {
			if d > v {
				v = d
			}
		}
	}
	return v
}
