package registry

import (
	"encoding/json"
	"strconv"
	"strings"
)

// The JSON forms of a change list follow docs/json.md: a row's span is low
// and high (null for a name without a port), proto and name are null where
// the registry gives none.

type rowRefJSON struct {
	Name        *string `json:"name"`
	Proto       *string `json:"proto"`
	Low         *int    `json:"low"`
	High        *int    `json:"high"`
	Kind        string  `json:"kind"`
	Description *string `json:"description"`
}

func (r RowRef) jsonForm() rowRefJSON {
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	out := rowRefJSON{Name: str(r.Name), Proto: str(r.Proto), Kind: r.Kind, Description: str(r.Description)}
	lo, hi, ok := strings.Cut(r.Port, "-")
	if !ok {
		hi = lo
	}
	if l, err := strconv.Atoi(lo); err == nil {
		if h, err := strconv.Atoi(hi); err == nil {
			out.Low, out.High = &l, &h
		}
	}
	return out
}

// MarshalJSON writes the row with its span as low and high.
func (r RowRef) MarshalJSON() ([]byte, error) { return json.Marshal(r.jsonForm()) }

// MarshalJSON writes the row as RowRef does, with the changed fields.
func (c RowChanged) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		rowRefJSON
		Fields []FieldChange `json:"fields"`
	}{c.RowRef.jsonForm(), c.Fields})
}

// MarshalJSON writes an empty old or new cell as null.
func (f FieldChange) MarshalJSON() ([]byte, error) {
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return json.Marshal(struct {
		Field string  `json:"field"`
		Old   *string `json:"old"`
		New   *string `json:"new"`
	}{f.Field, str(f.Old), str(f.New)})
}
