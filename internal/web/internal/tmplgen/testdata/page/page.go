// Package page is what tmplgen's test compiles: a page with every construct
// the generator supports.
package page

import (
	"html/template"
	"strings"
)

type data struct {
	Lang  string
	Title string
	Items []item
	Any   any
	Attrs map[string]string
	Raw   template.HTML
	N     int
	On    bool
	Ptr   *item
}

type item struct {
	Name, Href string
	Count      int64
}

func (i item) Upper() string { return strings.ToUpper(i.Name) }

func funcs() template.FuncMap {
	return template.FuncMap{"join": strings.Join, "repeat": strings.Repeat}
}
