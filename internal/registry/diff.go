package registry

import (
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/ports"
)

// Changes is what differs between two registries, row by row.
//
// Rows are matched by a key: a named row by its service name (any case),
// port or range and protocol; an unnamed row by its port or range,
// protocol and kind (reserved, unassigned, other). Matched rows whose other
// columns differ are changed; the rest are added or removed. So a port
// taken out of an Unassigned range shows as the old range removed, the
// shorter range(s) added, and the new service added.
type Changes struct {
	From       string `json:"from"` // version of the old registry
	To         string `json:"to"`   // version of the new one
	FromSource string `json:"from_source"`
	ToSource   string `json:"to_source"`
	RowsBefore int    `json:"rows_before"`
	RowsAfter  int    `json:"rows_after"`
	// Added, Removed and Changed count every difference; the lists below
	// may hold fewer (see Trim).
	Added       int          `json:"added"`
	Removed     int          `json:"removed"`
	Changed     int          `json:"changed"`
	AddedRows   []RowRef     `json:"added_rows"`
	RemovedRows []RowRef     `json:"removed_rows"`
	ChangedRows []RowChanged `json:"changed_rows"`
}

// RowRef names a registry row for a change list.
type RowRef struct {
	Name        string `json:"name,omitempty"`
	Port        string `json:"port,omitempty"`  // "80", "6000-6063"; empty for a bare service name
	Proto       string `json:"proto,omitempty"` // empty where the registry gives none
	Kind        string `json:"kind"`
	Description string `json:"description"`
}

// RowChanged is a row present in both registries with some columns
// changed.
type RowChanged struct {
	RowRef
	Fields []FieldChange `json:"fields"`
}

// FieldChange is one column of a changed row, named as in the CSV header.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// None reports whether the two registries have the same rows.
func (c *Changes) None() bool { return c.Added == 0 && c.Removed == 0 && c.Changed == 0 }

// Trim returns a copy of c whose lists hold at most n entries each; the
// counts stay whole.
func (c Changes) Trim(n int) Changes {
	if len(c.AddedRows) > n {
		c.AddedRows = c.AddedRows[:n:n]
	}
	if len(c.RemovedRows) > n {
		c.RemovedRows = c.RemovedRows[:n:n]
	}
	if len(c.ChangedRows) > n {
		c.ChangedRows = c.ChangedRows[:n:n]
	}
	return c
}

// Ref describes r for a change list.
func Ref(r *Row) RowRef {
	ref := RowRef{Name: r.Name, Proto: r.Proto.String(), Kind: r.Kind().String(), Description: r.Description}
	if r.HasPort() {
		ref.Port = portField(r)
	}
	return ref
}

// portField writes the Port Number column back as the CSV had it.
func portField(r *Row) string {
	if !r.HasPort() {
		return ""
	}
	if r.Range {
		return strconv.Itoa(r.Low) + "-" + strconv.Itoa(r.High)
	}
	return strconv.Itoa(r.Low)
}

type rowKey struct {
	name      string // lower case; "" for unnamed rows
	low, high int
	proto     ports.Proto
	kind      Kind // only for unnamed rows
}

func keyOf(r *Row) rowKey {
	k := rowKey{name: strings.ToLower(r.Name), low: r.Low, high: r.High, proto: r.Proto}
	if r.Name == "" {
		k.kind = r.Kind()
	}
	return k
}

// Diff compares two registries. Every change is listed, added and changed
// rows in the new registry's order, removed rows in the old one's.
func Diff(before, after *Index) Changes {
	c := Changes{
		From: before.Version(), To: after.Version(),
		FromSource: before.Source(), ToSource: after.Source(),
		RowsBefore: before.Len(), RowsAfter: after.Len(),
		AddedRows: []RowRef{}, RemovedRows: []RowRef{}, ChangedRows: []RowChanged{},
	}
	// Rows sharing a key (the registry has a few) are paired in order.
	oldRows := make(map[rowKey][]int, before.Len())
	for i := 0; i < before.Len(); i++ {
		r := before.Row(i)
		k := keyOf(&r)
		oldRows[k] = append(oldRows[k], i)
	}
	matched := make([]bool, before.Len())
	for i := 0; i < after.Len(); i++ {
		r := after.Row(i)
		k := keyOf(&r)
		q := oldRows[k]
		if len(q) == 0 {
			c.AddedRows = append(c.AddedRows, Ref(&r))
			continue
		}
		oi := q[0]
		oldRows[k] = q[1:]
		matched[oi] = true
		o := before.Row(oi)
		if f := fieldChanges(&o, &r); len(f) > 0 {
			c.ChangedRows = append(c.ChangedRows, RowChanged{RowRef: Ref(&r), Fields: f})
		}
	}
	for i := 0; i < before.Len(); i++ {
		if !matched[i] {
			r := before.Row(i)
			c.RemovedRows = append(c.RemovedRows, Ref(&r))
		}
	}
	c.Added, c.Removed, c.Changed = len(c.AddedRows), len(c.RemovedRows), len(c.ChangedRows)
	return c
}

// fieldChanges lists the columns that differ between two rows of one key.
func fieldChanges(o, n *Row) []FieldChange {
	var out []FieldChange
	for _, f := range []struct {
		col      string
		old, new string
	}{
		{Header[0], o.Name, n.Name}, // the key ignores case
		{Header[1], portField(o), portField(n)},
		{Header[3], o.Description, n.Description},
		{Header[4], o.Assignee, n.Assignee},
		{Header[5], o.Contact, n.Contact},
		{Header[6], o.Registered, n.Registered},
		{Header[7], o.Modified, n.Modified},
		{Header[8], o.Reference, n.Reference},
		{Header[9], o.ServiceCode, n.ServiceCode},
		{Header[10], o.Unauthorized, n.Unauthorized},
		{Header[11], o.Notes, n.Notes},
	} {
		if f.old != f.new {
			out = append(out, FieldChange{Field: f.col, Old: f.old, New: f.new})
		}
	}
	return out
}
