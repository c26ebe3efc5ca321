// Package tmplgen compiles a page of html/template templates into Go code
// that writes the same bytes without reflection: the generated code is the
// templates' escaped parse trees (html/template itself decides every
// escaper) turned into statements, with the types of the data read from
// the package's Go source. The templates stay the one source of truth; the
// generated file is made by `go generate` and a test fails when it is stale.
//
// It compiles what porthole's pages use: text, actions, if/else, with,
// range over slices, template calls (inlined), variables, fields of
// structs, pointers and string-keyed maps, the builtins and, or, not, eq,
// ne, len, index (of a map) and print, functions of the FuncMap that are
// named package-level functions, and the escapers of HTML text,
// attributes, RCDATA and URLs. Anything else is an error naming the node.
package tmplgen

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/format"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"html/template"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template/parse"
)

// runtimePath is the package the generated code calls.
const runtimePath = "github.com/porthole/porthole/internal/web/internal/tmplrt"

// Config says what to compile.
type Config struct {
	Dir     string   // the Go package's directory; template files are relative to it
	Output  string   // the generated file's name in Dir, left out when reading the package
	Files   []string // template files, parsed into one set in this order
	Entry   string   // the template that renders the page
	Func    string   // the generated function's name
	Data    string   // the Go type of the data the page is executed with
	FuncMap string   // the package-level function that returns the template.FuncMap
	// MissingKeyError: the templates run with Option("missingkey=error").
	MissingKeyError bool
	// Dynamic gives the types of interface fields, which the source does
	// not: "pageData.P": "*portView", or for one template only
	// "intel/tmplArgs.V": "[]intelView".
	Dynamic map[string]string
	Command string // how to regenerate, for the header
}

// Generate returns the gofmt-ed source of the generated file.
func Generate(c Config) ([]byte, error) {
	g := &gen{c: c, imports: map[string]string{}, fset: token.NewFileSet(), done: map[string]string{}}
	if err := g.load(); err != nil {
		return nil, err
	}
	set, err := g.parseTemplates()
	if err != nil {
		return nil, err
	}
	g.set = set
	dataT, err := g.typeOf(c.Data)
	if err != nil {
		return nil, err
	}
	g.tmpl = c.Entry
	g.dataType = g.typeString(dataT)
	g.imports[runtimePath] = "tmplrt"
	root := val{x: "d", t: dataT, nonNil: true}
	g.frame = []*variable{{name: "$", v: root}}
	tree := set.Lookup(c.Entry)
	if tree == nil || tree.Tree == nil {
		return nil, fmt.Errorf("no template %q", c.Entry)
	}
	g.calls = []string{c.Entry}
	if err := g.list(tree.Tree.Root, root); err != nil {
		return nil, err
	}
	g.flush()
	return g.file()
}

type gen struct {
	c       Config
	fset    *token.FileSet
	pkg     *types.Package
	files   []*ast.File
	info    *types.Info
	funcs   map[string]*types.Func
	set     *template.Template
	imports map[string]string // path → name
	body    bytes.Buffer
	n       int
	frame   []*variable // the template variables in scope, $ first
	calls   []string    // the template calls being inlined, for recursion
	tmpl    string      // the template being compiled
	// dataType is Config.Data as the generated code spells it.
	dataType string
	run      string            // the writes not yet written as a statement
	done     map[string]string // template, argument type → function
	subs     []sub
}

// sub is the function made from a called template.
type sub struct {
	name, tmpl, data string
	body             []byte
}

type variable struct {
	name string
	v    val
}

// val is a Go expression and its type.
type val struct {
	x      string
	t      types.Type
	nonNil bool // a pointer known not to be nil (the dot of a with)
	// boolOnly: the value of and/or, which is compiled to its truth only.
	boolOnly bool
	// iface is the interface a Config.Dynamic value was taken from: a nil
	// interface is false, whatever the truth of the type's zero value.
	iface string
}

// load reads and type-checks the package without the generated file, with
// its imports from their export data (`go list -export`).
func (g *gen) load() error {
	bp, err := build.ImportDir(g.c.Dir, 0)
	if err != nil {
		return err
	}
	imports := map[string]bool{}
	for _, name := range bp.GoFiles {
		if name == g.c.Output {
			continue
		}
		f, err := parser.ParseFile(g.fset, filepath.Join(g.c.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		g.files = append(g.files, f)
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			imports[p] = true
		}
	}
	path, err := goList(g.c.Dir, "-find", "-f", "{{.ImportPath}}", ".")
	if err != nil {
		return err
	}
	exports := map[string]string{}
	if len(imports) > 0 {
		args := []string{"-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}
		for p := range imports {
			if p != "C" && p != "unsafe" {
				args = append(args, p)
			}
		}
		out, err := goList(g.c.Dir, args...)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(out, "\n") {
			if p, file, ok := strings.Cut(line, "\t"); ok {
				exports[p] = file
			}
		}
	}
	imp := importer.ForCompiler(g.fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	g.info = &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}}
	// The package does not compile without the generated file (it calls
	// the generated function): those errors are expected, and the
	// declarations the generator needs check without it.
	conf := types.Config{Importer: imp, Error: func(error) {}}
	g.pkg, _ = conf.Check(strings.TrimSpace(path), g.fset, g.files, g.info)
	return g.readFuncMap()
}

func goList(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// readFuncMap finds the template.FuncMap literal in the function named
// Config.FuncMap and the package-level function behind each name.
func (g *gen) readFuncMap() error {
	g.funcs = map[string]*types.Func{}
	var lit *ast.CompositeLit
	for _, f := range g.files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || fd.Name.Name != g.c.FuncMap {
				continue
			}
			ast.Inspect(fd, func(n ast.Node) bool {
				if cl, ok := n.(*ast.CompositeLit); ok && lit == nil {
					if named, ok := types.Unalias(g.info.Types[cl].Type).(*types.Named); ok && named.Obj().Name() == "FuncMap" {
						lit = cl
					}
				}
				return lit == nil
			})
		}
	}
	if lit == nil {
		return fmt.Errorf("no template.FuncMap literal in func %s", g.c.FuncMap)
	}
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			return fmt.Errorf("%s: not a key: value", g.fset.Position(e.Pos()))
		}
		bl, ok := kv.Key.(*ast.BasicLit)
		if !ok {
			return fmt.Errorf("%s: a FuncMap key must be a string literal", g.fset.Position(kv.Pos()))
		}
		name, _ := strconv.Unquote(bl.Value)
		var id *ast.Ident
		switch v := kv.Value.(type) {
		case *ast.Ident:
			id = v
		case *ast.SelectorExpr:
			id = v.Sel
		}
		fn, _ := g.info.Uses[id].(*types.Func)
		if id == nil || fn == nil || fn.Type().(*types.Signature).Recv() != nil {
			return fmt.Errorf("%s: template function %q must be a named package-level function", g.fset.Position(kv.Value.Pos()), name)
		}
		g.funcs[name] = fn
	}
	return nil
}

// parseTemplates parses the files as html/template does and executes the
// entry once, which escapes it and every template it calls: the escaped
// trees hold html/template's escapers as pipeline commands.
func (g *gen) parseTemplates() (*template.Template, error) {
	fm := template.FuncMap{}
	for name := range g.funcs {
		fm[name] = func(...any) any { return nil }
	}
	var set *template.Template
	for _, file := range g.c.Files {
		b, err := os.ReadFile(filepath.Join(g.c.Dir, file))
		if err != nil {
			return nil, err
		}
		name := filepath.Base(file)
		t := set
		if t == nil {
			set = template.New(name).Funcs(fm)
			t = set
		} else {
			t = set.New(name)
		}
		if _, err := t.Parse(string(b)); err != nil {
			return nil, err
		}
	}
	if set == nil {
		return nil, errors.New("no template files")
	}
	err := set.ExecuteTemplate(io.Discard, g.c.Entry, struct{}{})
	var terr *template.Error
	if errors.As(err, &terr) {
		return nil, err
	}
	return set, nil
}

// typeOf evaluates a type expression in the package's scope.
func (g *gen) typeOf(expr string) (types.Type, error) {
	tv, err := types.Eval(g.fset, g.pkg, token.NoPos, expr)
	if err != nil {
		return nil, fmt.Errorf("type %s: %w", expr, err)
	}
	if !tv.IsType() {
		return nil, fmt.Errorf("%s is not a type", expr)
	}
	return tv.Type, nil
}

func (g *gen) qual(p *types.Package) string {
	if p == g.pkg {
		return ""
	}
	g.imports[p.Path()] = p.Name()
	return p.Name()
}

func (g *gen) typeString(t types.Type) string { return types.TypeString(t, g.qual) }

// p writes a statement.
func (g *gen) p(format string, args ...any) {
	g.flush()
	fmt.Fprintf(&g.body, format, args...)
	g.body.WriteByte('\n')
}

// write adds a call of w's method (S, HTML or Int) to the run of writes
// that becomes one statement: w.S("<p>").HTML(v).S("</p>").
func (g *gen) write(method, arg string) {
	if g.run == "" {
		g.run = "w"
	}
	g.run += "." + method + "(" + arg + ")"
}

func (g *gen) flush() {
	if g.run != "" {
		g.body.WriteString(g.run + "\n")
		g.run = ""
	}
}

func (g *gen) newName() string {
	g.n++
	return "v" + strconv.Itoa(g.n)
}

// local declares a Go variable holding v and returns it in its place.
func (g *gen) local(v val) val {
	name := g.newName()
	g.p("%s := %s", name, v.x)
	g.p("_ = %s", name)
	v.x = name
	return v
}

var (
	blankLine = regexp.MustCompile(`(?m)^\s*_ = (v[0-9]+)\n`)
	blankPair = regexp.MustCompile(`(?m)^\s*_, _ = (v[0-9]+), (v[0-9]+)\n`)
	forLine   = regexp.MustCompile(`(?m)^(\s*)for (v[0-9]+), (v[0-9]+) := range `)
	word      = regexp.MustCompile(`\bv[0-9]+\b`)
)

// tidy drops the "_ = v" lines of variables that are used, and the range
// variables that are not, so that the code reads as if written by hand.
func tidy(src []byte) []byte {
	uses := map[string]int{}
	for _, w := range word.FindAll(src, -1) {
		uses[string(w)]++
	}
	src = blankLine.ReplaceAllFunc(src, func(line []byte) []byte {
		if v := blankLine.FindSubmatch(line)[1]; uses[string(v)] > 2 {
			return nil
		}
		return line
	})
	src = blankPair.ReplaceAll(src, nil)
	return forLine.ReplaceAllFunc(src, func(line []byte) []byte {
		m := forLine.FindSubmatch(line)
		idx, el := string(m[2]), string(m[3])
		// Each was counted in the for line and in the dropped "_, _ =".
		idxUsed, elUsed := uses[idx] > 2, uses[el] > 2
		switch {
		case elUsed && idxUsed:
			return line
		case elUsed:
			return []byte(string(m[1]) + "for _, " + el + " := range ")
		case idxUsed:
			return []byte(string(m[1]) + "for " + idx + " := range ")
		}
		return []byte(string(m[1]) + "for range ")
	})
}

func (g *gen) errorf(n parse.Node, format string, args ...any) error {
	loc := g.tmpl
	if n != nil {
		if t := g.set.Lookup(g.tmpl); t != nil && t.Tree != nil {
			loc, _ = t.Tree.ErrorContext(n)
		}
	}
	return fmt.Errorf("%s: %s", loc, fmt.Sprintf(format, args...))
}

func (g *gen) list(l *parse.ListNode, dot val) error {
	if l == nil {
		return nil
	}
	mark := len(g.frame)
	defer func() { g.frame = g.frame[:mark] }()
	for _, n := range l.Nodes {
		if err := g.node(n, dot); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) node(n parse.Node, dot val) error {
	switch n := n.(type) {
	case *parse.TextNode:
		if len(n.Text) > 0 {
			g.write("S", strconv.Quote(string(n.Text)))
		}
		return nil
	case *parse.CommentNode:
		return nil
	case *parse.ActionNode:
		v, esc, err := g.pipe(n.Pipe, dot)
		if err != nil {
			return err
		}
		if len(n.Pipe.Decl) > 0 {
			return g.declare(n.Pipe, v)
		}
		return g.output(n, v, esc)
	case *parse.IfNode:
		return g.branch(n, n.Pipe, n.List, n.ElseList, dot, false)
	case *parse.WithNode:
		return g.branch(n, n.Pipe, n.List, n.ElseList, dot, true)
	case *parse.RangeNode:
		return g.rangeNode(n, dot)
	case *parse.TemplateNode:
		return g.call(n, dot)
	}
	return g.errorf(n, "%s is not supported", n)
}

func (g *gen) declare(p *parse.PipeNode, v val) error {
	if p.IsAssign || len(p.Decl) != 1 {
		return g.errorf(p, "only {{$x := ...}} declarations are supported")
	}
	if v.boolOnly {
		return g.errorf(p, "the value of and/or is not supported")
	}
	v = g.local(v)
	g.frame = append(g.frame, &variable{name: p.Decl[0].Ident[0], v: v})
	return nil
}

// branch compiles if (with=false) and with.
func (g *gen) branch(n parse.Node, p *parse.PipeNode, list, elseList *parse.ListNode, dot val, with bool) error {
	mark := len(g.frame)
	v, esc, err := g.pipe(p, dot)
	if err != nil {
		return err
	}
	if len(esc) > 0 {
		return g.errorf(n, "escaper in a condition")
	}
	inner := dot
	if v.boolOnly && !with && len(p.Decl) == 0 {
		g.p("if %s {", v.x)
	} else {
		if v.boolOnly {
			return g.errorf(n, "the value of and/or is not supported")
		}
		if p.IsAssign || len(p.Decl) > 1 {
			return g.errorf(p, "only {{$x := ...}} declarations are supported")
		}
		lv := v
		lv.x = g.newName()
		cond, err := g.truth(n, lv)
		if err != nil {
			return err
		}
		g.p("if %s := %s; %s {", lv.x, v.x, cond)
		g.p("_ = %s", lv.x)
		if len(p.Decl) > 0 {
			g.frame = append(g.frame, &variable{name: p.Decl[0].Ident[0], v: lv})
		}
		if with {
			inner = lv
			inner.nonNil = true
		}
	}
	if err := g.list(list, inner); err != nil {
		return err
	}
	if elseList != nil {
		g.p("} else {")
		if err := g.list(elseList, dot); err != nil {
			return err
		}
	}
	g.p("}")
	g.frame = g.frame[:mark]
	return nil
}

func (g *gen) rangeNode(n *parse.RangeNode, dot val) error {
	if n.Pipe.IsAssign || len(n.Pipe.Decl) > 2 {
		return g.errorf(n, "range assigns no variables, or declares one or two")
	}
	p := *n.Pipe
	p.Decl = nil
	v, esc, err := g.pipe(&p, dot)
	if err != nil {
		return err
	}
	if len(esc) > 0 || v.boolOnly {
		return g.errorf(n, "range over this value is not supported")
	}
	var elem types.Type
	switch u := v.t.Underlying().(type) {
	case *types.Slice:
		elem = u.Elem()
	case *types.Array:
		elem = u.Elem()
	default:
		return g.errorf(n, "range over %s is not supported", g.typeString(v.t))
	}
	if n.ElseList != nil {
		name := g.newName()
		g.p("if %s := %s; len(%s) == 0 {", name, v.x, name)
		if err := g.list(n.ElseList, dot); err != nil {
			return err
		}
		g.p("} else {")
		v.x = name
	}
	idx, el := g.newName(), g.newName()
	g.p("for %s, %s := range %s {", idx, el, v.x)
	g.p("_, _ = %s, %s", idx, el)
	mark := len(g.frame)
	ev := val{x: el, t: elem}
	switch len(n.Pipe.Decl) {
	case 1:
		g.frame = append(g.frame, &variable{name: n.Pipe.Decl[0].Ident[0], v: ev})
	case 2:
		g.frame = append(g.frame, &variable{name: n.Pipe.Decl[0].Ident[0], v: val{x: idx, t: types.Typ[types.Int]}},
			&variable{name: n.Pipe.Decl[1].Ident[0], v: ev})
	}
	if err := g.list(n.List, ev); err != nil {
		return err
	}
	g.frame = g.frame[:mark]
	g.p("}")
	if n.ElseList != nil {
		g.p("}")
	}
	return nil
}

// call compiles a template call into a call of a function made from the
// template (one for each template and type of argument), which sees only
// its argument, as dot and as $.
func (g *gen) call(n *parse.TemplateNode, dot val) error {
	t := g.set.Lookup(n.Name)
	if t == nil || t.Tree == nil {
		return g.errorf(n, "no template %q", n.Name)
	}
	if slices.Contains(g.calls, n.Name) {
		return g.errorf(n, "template %q calls itself", n.Name)
	}
	if n.Pipe == nil {
		return g.errorf(n, "a template call without an argument is not supported")
	}
	v, esc, err := g.pipe(n.Pipe, dot)
	if err != nil {
		return err
	}
	if len(esc) > 0 || v.boolOnly {
		return g.errorf(n, "template argument not supported")
	}
	key := fmt.Sprintf("%s\x00%s\x00%v", n.Name, types.TypeString(v.t, nil), v.nonNil)
	name, ok := g.done[key]
	if !ok {
		name = g.funcName(n.Name)
		g.done[key] = name
		g.flush()
		body, frame, tmpl := g.body, g.frame, g.tmpl
		g.body = bytes.Buffer{}
		arg := val{x: "d", t: v.t, nonNil: v.nonNil}
		g.frame, g.tmpl = []*variable{{name: "$", v: arg}}, n.Name
		g.calls = append(g.calls, n.Name)
		err = g.list(t.Tree.Root, arg)
		g.flush()
		g.calls = g.calls[:len(g.calls)-1]
		g.subs = append(g.subs, sub{name: name, tmpl: n.Name, data: g.typeString(v.t), body: g.body.Bytes()})
		g.body, g.frame, g.tmpl = body, frame, tmpl
		if err != nil {
			return err
		}
	}
	g.p("%s(w, %s)", name, v.x)
	return nil
}

// funcName is a new Go name for the function of template tmpl.
func (g *gen) funcName(tmpl string) string {
	var b strings.Builder
	b.WriteString(g.c.Func)
	up := true
	for _, r := range tmpl {
		switch {
		case 'a' <= r && r <= 'z' && up:
			b.WriteRune(r - 'a' + 'A')
			up = false
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	name := b.String()
	for i := 2; slices.ContainsFunc(g.subs, func(s sub) bool { return s.name == name }) || g.taken(name); i++ {
		name = b.String() + strconv.Itoa(i)
	}
	return name
}

func (g *gen) taken(name string) bool {
	for _, n := range g.done {
		if n == name {
			return true
		}
	}
	return false
}

func isEscaper(name string) bool { return strings.HasPrefix(name, "_html_template_") }

// pipe evaluates a pipeline to a value, and returns the escapers that
// html/template appended to it apart.
func (g *gen) pipe(p *parse.PipeNode, dot val) (val, []string, error) {
	var (
		v   val
		esc []string
		has bool
	)
	for _, c := range p.Cmds {
		if id, ok := c.Args[0].(*parse.IdentifierNode); ok && isEscaper(id.Ident) && len(c.Args) == 1 && has {
			esc = append(esc, id.Ident)
			continue
		}
		if len(esc) > 0 {
			return val{}, nil, g.errorf(c, "a command after an escaper")
		}
		var final *val
		if has {
			final = &v
		}
		var err error
		if v, err = g.command(c, dot, final); err != nil {
			return val{}, nil, err
		}
		has = true
	}
	if !has {
		return val{}, nil, g.errorf(p, "empty pipeline")
	}
	return v, esc, nil
}

func (g *gen) command(c *parse.CommandNode, dot val, final *val) (val, error) {
	if id, ok := c.Args[0].(*parse.IdentifierNode); ok {
		var args []val
		for _, a := range c.Args[1:] {
			v, err := g.arg(a, dot)
			if err != nil {
				return val{}, err
			}
			args = append(args, v)
		}
		if final != nil {
			args = append(args, *final)
		}
		return g.fn(c, id.Ident, args)
	}
	if len(c.Args) > 1 || final != nil {
		return val{}, g.errorf(c, "arguments to a non-function")
	}
	return g.arg(c.Args[0], dot)
}

func (g *gen) arg(n parse.Node, dot val) (val, error) {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot, nil
	case *parse.FieldNode:
		return g.fields(n, dot, n.Ident)
	case *parse.VariableNode:
		var v *variable
		for i := len(g.frame) - 1; i >= 0; i-- {
			if g.frame[i].name == n.Ident[0] {
				v = g.frame[i]
				break
			}
		}
		if v == nil {
			return val{}, g.errorf(n, "undefined variable %s", n.Ident[0])
		}
		return g.fields(n, v.v, n.Ident[1:])
	case *parse.StringNode:
		return val{x: strconv.Quote(n.Text), t: types.Typ[types.UntypedString]}, nil
	case *parse.NumberNode:
		if !n.IsInt {
			return val{}, g.errorf(n, "only integer constants are supported")
		}
		return val{x: strconv.FormatInt(n.Int64, 10), t: types.Typ[types.UntypedInt]}, nil
	case *parse.BoolNode:
		return val{x: strconv.FormatBool(n.True), t: types.Typ[types.UntypedBool]}, nil
	case *parse.PipeNode:
		if len(n.Decl) > 0 {
			return val{}, g.errorf(n, "declaration in a parenthesized pipeline")
		}
		v, esc, err := g.pipe(n, dot)
		if err == nil && len(esc) > 0 {
			err = g.errorf(n, "escaper in a parenthesized pipeline")
		}
		return v, err
	case *parse.IdentifierNode:
		return g.fn(n, n.Ident, nil)
	}
	return val{}, g.errorf(n, "%s is not supported", n)
}

// fields follows a chain of field names from v.
func (g *gen) fields(n parse.Node, v val, names []string) (val, error) {
	for _, name := range names {
		if v.boolOnly {
			return val{}, g.errorf(n, "field of and/or")
		}
		what := "." + name
		t := v.t
		if ptr, ok := t.Underlying().(*types.Pointer); ok {
			if !v.nonNil {
				v.x = fmt.Sprintf("tmplrt.Deref(w, %s, %q)", v.x, n.String())
				g.imports[runtimePath] = "tmplrt"
			}
			t = ptr.Elem()
		}
		switch u := t.Underlying().(type) {
		case *types.Map:
			if b, ok := u.Key().Underlying().(*types.Basic); !ok || b.Kind() != types.String {
				return val{}, g.errorf(n, "%s: field of a map without string keys", what)
			}
			if g.c.MissingKeyError {
				g.imports[runtimePath] = "tmplrt"
				v = val{x: fmt.Sprintf("tmplrt.Key(w, %s, %q)", v.x, name), t: u.Elem()}
			} else {
				v = val{x: fmt.Sprintf("%s[%q]", v.x, name), t: u.Elem()}
			}
			continue
		case *types.Struct:
		default:
			return val{}, g.errorf(n, "%s: field of %s", what, g.typeString(v.t))
		}
		obj, _, _ := types.LookupFieldOrMethod(t, true, g.pkg, name)
		if obj == nil || !obj.Exported() {
			return val{}, g.errorf(n, "%s: %s has no exported field or method %s", n, g.typeString(t), name)
		}
		switch obj := obj.(type) {
		case *types.Var:
			v = val{x: v.x + "." + name, t: obj.Type()}
		case *types.Func:
			sig := obj.Type().(*types.Signature)
			if sig.Params().Len() != 0 || sig.Results().Len() != 1 {
				return val{}, g.errorf(n, "method %s: only methods without arguments and with one result are supported", name)
			}
			v = val{x: v.x + "." + name + "()", t: sig.Results().At(0).Type()}
		}
		if _, ok := v.t.Underlying().(*types.Interface); ok {
			key := typeName(t) + "." + name
			hint, ok := g.c.Dynamic[g.tmpl+"/"+key]
			if !ok {
				hint, ok = g.c.Dynamic[key]
			}
			if ok {
				ht, err := g.typeOf(hint)
				if err != nil {
					return val{}, err
				}
				g.imports[runtimePath] = "tmplrt"
				v = val{x: fmt.Sprintf("tmplrt.As[%s](w, %s, %q)", g.typeString(ht), v.x, key), t: ht, iface: v.x}
			}
		}
	}
	return v, nil
}

func typeName(t types.Type) string {
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Obj().Name()
	}
	return t.String()
}

// truth is text/template's truth of v as a Go condition.
func (g *gen) truth(n parse.Node, v val) (string, error) {
	if v.boolOnly {
		return v.x, nil
	}
	if v.iface != "" {
		iface := v.iface
		v.iface = ""
		c, err := g.truth(n, v)
		return "(" + iface + " != nil && " + c + ")", err
	}
	switch u := v.t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsBoolean != 0:
			return v.x, nil
		case u.Info()&types.IsString != 0:
			return v.x + ` != ""`, nil
		case u.Info()&types.IsNumeric != 0:
			return v.x + " != 0", nil
		}
	case *types.Slice, *types.Map, *types.Array:
		return "len(" + v.x + ") > 0", nil
	case *types.Pointer, *types.Interface, *types.Signature, *types.Chan:
		return v.x + " != nil", nil
	case *types.Struct:
		return "true", nil
	}
	return "", g.errorf(n, "truth of %s", g.typeString(v.t))
}

// str converts v to a string as fmt.Sprint does, and says whether it is
// trusted HTML (template.HTML) or an int.
func (g *gen) str(n parse.Node, v val) (s string, kind string, err error) {
	if v.boolOnly {
		return "", "", g.errorf(n, "the value of and/or is not supported")
	}
	if named, ok := types.Unalias(v.t).(*types.Named); ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() == "html/template" {
		if named.Obj().Name() == "HTML" {
			return "string(" + v.x + ")", "html", nil
		}
		return "", "", g.errorf(n, "template.%s values are not supported", named.Obj().Name())
	}
	ms := types.NewMethodSet(v.t)
	for _, m := range []string{"Error", "String"} {
		if sel := ms.Lookup(nil, m); sel != nil {
			if sig := sel.Type().(*types.Signature); sig.Params().Len() == 0 && sig.Results().Len() == 1 {
				return v.x + "." + m + "()", "", nil
			}
		}
	}
	if b, ok := v.t.Underlying().(*types.Basic); ok {
		switch {
		case b.Kind() == types.String || b.Kind() == types.UntypedString:
			if types.Identical(v.t, b) {
				return v.x, "", nil
			}
			return "string(" + v.x + ")", "", nil
		case b.Kind() == types.Int || b.Kind() == types.UntypedInt:
			return v.x, "int", nil
		case b.Info()&types.IsInteger != 0 && b.Info()&types.IsUnsigned != 0:
			g.imports["strconv"] = "strconv"
			return "strconv.FormatUint(uint64(" + v.x + "), 10)", "", nil
		case b.Info()&types.IsInteger != 0:
			g.imports["strconv"] = "strconv"
			return "strconv.FormatInt(int64(" + v.x + "), 10)", "", nil
		case b.Info()&types.IsBoolean != 0:
			g.imports["strconv"] = "strconv"
			return "strconv.FormatBool(" + v.x + ")", "", nil
		}
	}
	if _, ok := v.t.Underlying().(*types.Pointer); ok {
		return "", "", g.errorf(n, "printing a pointer (%s) is not supported", g.typeString(v.t))
	}
	g.imports["fmt"] = "fmt"
	return "fmt.Sprint(" + v.x + ")", "", nil
}

// output writes v through the escapers html/template chose.
func (g *gen) output(n parse.Node, v val, esc []string) error {
	s, kind, err := g.str(n, v)
	if err != nil {
		return err
	}
	g.imports[runtimePath] = "tmplrt"
	if kind == "int" {
		// Digits and a minus sign pass every escaper unchanged.
		g.write("Int", s)
		return nil
	}
	for i, e := range esc {
		last := i == len(esc)-1
		switch e {
		case "_html_template_htmlescaper", "_html_template_attrescaper", "_html_template_rcdataescaper":
			if !last {
				return g.errorf(n, "%s before another escaper", e)
			}
			if kind == "html" {
				if e != "_html_template_htmlescaper" {
					return g.errorf(n, "template.HTML in an attribute or RCDATA is not supported")
				}
				g.write("S", s)
			} else {
				g.write("HTML", s)
			}
			return nil
		case "_html_template_urlfilter":
			s = "tmplrt.URLFilter(" + s + ")"
		case "_html_template_urlnormalizer":
			s = "tmplrt.URLNormalize(" + s + ")"
		case "_html_template_urlescaper":
			s = "tmplrt.URLEscape(" + s + ")"
		default:
			return g.errorf(n, "escaper %s is not supported", e)
		}
		kind = ""
	}
	g.write("S", s)
	return nil
}

// fn calls a builtin or a FuncMap function.
func (g *gen) fn(n parse.Node, name string, args []val) (val, error) {
	boolT := types.Typ[types.Bool]
	switch name {
	case "and", "or":
		if len(args) < 1 {
			return val{}, g.errorf(n, "%s needs arguments", name)
		}
		op := " && "
		if name == "or" {
			op = " || "
		}
		var parts []string
		for _, a := range args {
			c, err := g.truth(n, a)
			if err != nil {
				return val{}, err
			}
			parts = append(parts, "("+c+")")
		}
		return val{x: "(" + strings.Join(parts, op) + ")", t: boolT, boolOnly: true}, nil
	case "not":
		if len(args) != 1 {
			return val{}, g.errorf(n, "not takes one argument")
		}
		c, err := g.truth(n, args[0])
		if err != nil {
			return val{}, err
		}
		return val{x: "!(" + c + ")", t: boolT}, nil
	case "eq", "ne":
		if len(args) != 2 {
			return val{}, g.errorf(n, "%s with other than two arguments is not supported", name)
		}
		a, err := g.comparable(n, args[0])
		if err != nil {
			return val{}, err
		}
		b, err := g.comparable(n, args[1])
		if err != nil {
			return val{}, err
		}
		op := " == "
		if name == "ne" {
			op = " != "
		}
		return val{x: "(" + a + op + b + ")", t: boolT}, nil
	case "len":
		if len(args) != 1 {
			return val{}, g.errorf(n, "len takes one argument")
		}
		switch args[0].t.Underlying().(type) {
		case *types.Slice, *types.Map, *types.Array, *types.Basic:
			return val{x: "len(" + args[0].x + ")", t: types.Typ[types.Int]}, nil
		}
		return val{}, g.errorf(n, "len of %s", g.typeString(args[0].t))
	case "index":
		if len(args) != 2 {
			return val{}, g.errorf(n, "index with other than one key is not supported")
		}
		m, ok := args[0].t.Underlying().(*types.Map)
		if !ok {
			return val{}, g.errorf(n, "index of %s is not supported (maps only)", g.typeString(args[0].t))
		}
		// A missing key is the zero value, as text/template's index has it.
		return val{x: args[0].x + "[" + args[1].x + "]", t: m.Elem()}, nil
	case "print":
		var parts []string
		allStrings := true
		for _, a := range args {
			b, ok := a.t.Underlying().(*types.Basic)
			if !ok || b.Info()&types.IsString == 0 {
				allStrings = false
			}
			s, _, err := g.str(n, a)
			if err != nil {
				return val{}, err
			}
			parts = append(parts, s)
		}
		if allStrings && len(parts) > 0 {
			return val{x: "(" + strings.Join(parts, " + ") + ")", t: types.Typ[types.String]}, nil
		}
		var xs []string
		for _, a := range args {
			xs = append(xs, a.x)
		}
		g.imports["fmt"] = "fmt"
		return val{x: "fmt.Sprint(" + strings.Join(xs, ", ") + ")", t: types.Typ[types.String]}, nil
	}
	if isEscaper(name) {
		return val{}, g.errorf(n, "escaper %s as a value", name)
	}
	f, ok := g.funcs[name]
	if !ok {
		return val{}, g.errorf(n, "function %q is not supported", name)
	}
	sig := f.Type().(*types.Signature)
	np := sig.Params().Len()
	if len(args) < np-1 || !sig.Variadic() && len(args) != np {
		return val{}, g.errorf(n, "%s takes %d arguments, has %d", name, np, len(args))
	}
	var xs []string
	for i, a := range args {
		var pt types.Type
		if sig.Variadic() && i >= np-1 {
			pt = sig.Params().At(np - 1).Type().(*types.Slice).Elem()
		} else {
			pt = sig.Params().At(i).Type()
		}
		if a.boolOnly {
			return val{}, g.errorf(n, "the value of and/or as an argument is not supported")
		}
		if !types.AssignableTo(a.t, pt) {
			return val{}, g.errorf(n, "argument %d of %s: %s is not assignable to %s", i+1, name, g.typeString(a.t), g.typeString(pt))
		}
		xs = append(xs, a.x)
	}
	if sig.Results().Len() != 1 {
		return val{}, g.errorf(n, "%s: only functions with one result are supported", name)
	}
	q := f.Name()
	if p := g.qual(f.Pkg()); p != "" {
		q = p + "." + q
	}
	return val{x: q + "(" + strings.Join(xs, ", ") + ")", t: sig.Results().At(0).Type()}, nil
}

// comparable is an operand of eq or ne as a Go expression of a basic type.
func (g *gen) comparable(n parse.Node, v val) (string, error) {
	b, ok := v.t.Underlying().(*types.Basic)
	if !ok || v.boolOnly {
		return "", g.errorf(n, "eq/ne of %s is not supported", g.typeString(v.t))
	}
	switch {
	case b.Info()&types.IsString != 0:
		return "string(" + v.x + ")", nil
	case b.Info()&types.IsInteger != 0 && b.Info()&types.IsUnsigned == 0:
		return "int64(" + v.x + ")", nil
	case b.Info()&types.IsBoolean != 0:
		return "bool(" + v.x + ")", nil
	}
	return "", g.errorf(n, "eq/ne of %s is not supported", g.typeString(v.t))
}

func (g *gen) file() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by %s from %s; DO NOT EDIT.\n\n", g.c.Command, strings.Join(g.c.Files, ", "))
	fmt.Fprintf(&b, "package %s\n\n", g.pkg.Name())
	var paths []string
	for p := range g.imports {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	b.WriteString("import (\n")
	// The standard library first, as goimports groups them.
	for _, std := range []bool{true, false} {
		if !std {
			b.WriteString("\n")
		}
		for _, p := range paths {
			first, _, _ := strings.Cut(p, "/")
			if strings.Contains(first, ".") == std {
				continue
			}
			if name := g.imports[p]; name != filepath.Base(p) {
				fmt.Fprintf(&b, "%s %q\n", name, p)
			} else {
				fmt.Fprintf(&b, "%q\n", p)
			}
		}
	}
	b.WriteString(")\n\n")
	fmt.Fprintf(&b, "// %s writes what template %q of %s writes for d, which is not nil,\n", g.c.Func, g.c.Entry, strings.Join(g.c.Files, ", "))
	fmt.Fprintf(&b, "// escaped as html/template escapes it. The first error is w.Err().\n")
	fmt.Fprintf(&b, "func %s(w *tmplrt.Writer, d %s) {\n", g.c.Func, g.dataType)
	b.Write(g.body.Bytes())
	b.WriteString("}\n")
	for _, s := range g.subs {
		fmt.Fprintf(&b, "\n// %s writes template %q for d.\n", s.name, s.tmpl)
		fmt.Fprintf(&b, "func %s(w *tmplrt.Writer, d %s) {\n", s.name, s.data)
		b.Write(s.body)
		b.WriteString("}\n")
	}
	out, err := format.Source(tidy(b.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("generated code does not parse: %w", err)
	}
	return out, nil
}
