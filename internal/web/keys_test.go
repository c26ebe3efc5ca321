package web

import (
	"slices"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/porthole/porthole/internal/i18n"
)

// TestTemplateKeysExist fails when a template names a catalog key that the
// catalogs lack ({{t $.Lang "web.no.such"}} would render "[web.no.such]"),
// or a key prefix ({{t $l (print "source.kind." .Kind)}}) that no key has.
func TestTemplateKeysExist(t *testing.T) {
	keys := i18n.Keys(i18n.EN)
	base := layoutTemplate()
	checked := 0
	for _, name := range append([]string{"port"}, pageNames...) {
		for _, tm := range pageTemplate(base, name).Templates() {
			if tm.Tree == nil {
				continue
			}
			walk(tm.Tree.Root, func(c *parse.CommandNode) {
				if id, ok := c.Args[0].(*parse.IdentifierNode); !ok || id.Ident != "t" || len(c.Args) < 3 {
					return
				}
				switch k := c.Args[2].(type) {
				case *parse.StringNode:
					checked++
					if !slices.Contains(keys, k.Text) {
						t.Errorf("%s: %s names key %q, which the catalogs lack", tm.Name(), c, k.Text)
					}
				case *parse.PipeNode:
					if len(k.Cmds) != 1 || len(k.Cmds[0].Args) < 2 {
						return
					}
					p, ok := k.Cmds[0].Args[1].(*parse.StringNode)
					if id, isID := k.Cmds[0].Args[0].(*parse.IdentifierNode); !isID || id.Ident != "print" || !ok {
						return
					}
					checked++
					if !slices.ContainsFunc(keys, func(key string) bool { return strings.HasPrefix(key, p.Text) }) {
						t.Errorf("%s: %s names keys %q…, which the catalogs lack", tm.Name(), c, p.Text)
					}
				}
			})
		}
	}
	if checked < 50 {
		t.Fatalf("found %d keys in the templates; the walk misses them", checked)
	}
}

// walk calls f on every command below n.
func walk(n parse.Node, f func(*parse.CommandNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walk(c, f)
			}
		}
	case *parse.ActionNode:
		walk(n.Pipe, f)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, f)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, f)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, f)
	case *parse.TemplateNode:
		walk(n.Pipe, f)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				walk(c, f)
			}
		}
	case *parse.CommandNode:
		f(n)
		for _, a := range n.Args {
			walk(a, f)
		}
	}
}

func walkBranch(n *parse.BranchNode, f func(*parse.CommandNode)) {
	walk(n.Pipe, f)
	walk(n.List, f)
	walk(n.ElseList, f)
}
