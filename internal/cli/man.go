package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/porthole/porthole/internal/registry"
)

// manOptions: `porthole man` takes no flags but --help.
type manOptions struct{}

var manCmd = &cmdDef[manOptions]{name: "man", args: "",
	help: `Print porthole's manual page in roff (man(7) macros), generated from the
same commands and flags as --help. Read it with 'porthole man | man -l -', or
install it gzipped as /usr/share/man/man1/porthole.1.gz (the .deb and .rpm
packages do).`,
	flags: func(fs *cmdFlags, o *manOptions) func([]string) error {
		return func(rest []string) error {
			if len(rest) > 0 {
				return usagef("man takes no arguments (got %q)", rest[0])
			}
			return nil
		}
	},
}

func runMan(_ context.Context, env *Env, _ manOptions) error {
	docs, err := describe()
	if err != nil {
		return err
	}
	var usage bytes.Buffer
	printUsage(&usage)
	_, err = fmt.Fprint(env.Stdout, manPage(docs, usage.String(), readBuild().Version, manDate(env)))
	return err
}

// manDate is the page's date: the day of the commit it was built from, or
// else the version of the registry in use (a date too).
func manDate(env *Env) string {
	if t := readBuild().Time; len(t) >= len("2006-01-02") {
		return t[:len("2006-01-02")]
	}
	if reg, err := registry.Default(env.Getenv); err == nil {
		return reg.Version()
	}
	return ""
}

// roffEscape makes s safe as roff text: backslashes and hyphens are
// escaped (so that --json stays two ASCII hyphens when copied), a slash
// may end a line (URLs are longer than a line), and other
// characters than ASCII are written as \[uXXXX], which groff and mandoc
// read whatever the input encoding.
func roffEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r == '/':
			b.WriteString(`/\:`) // a place to break a long path or URL
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			// control characters have no place in a page
		case r > 0x7e:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// roffLine escapes a line of text and protects a leading period or quote,
// which roff would read as a request.
func roffLine(s string) string {
	s = roffEscape(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffQuoted is s as a double-quoted macro argument.
func roffQuoted(s string) string {
	return `"` + strings.ReplaceAll(roffEscape(s), `"`, `\(dq`) + `"`
}

// roffFill writes text as filled roff lines of at most about 72 bytes of
// source (the formatter fills them anyway; short source lines keep the page
// readable and lint-clean).
func roffFill(b *strings.Builder, text string) {
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > 72 {
			b.WriteString(roffLine(line) + "\n")
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		b.WriteString(roffLine(line) + "\n")
	}
}

// roffParagraphs writes text of --help as roff: paragraphs (split at blank
// lines) are filled, and lines that start with two spaces (tables, examples)
// keep their layout. first is true right after a heading, where a paragraph
// macro would be redundant.
func roffParagraphs(b *strings.Builder, text string, first bool) {
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 || !first {
			b.WriteString(".PP\n")
		}
		// Runs of filled lines and of preformatted lines, in order.
		var run []string
		pre := false
		flush := func() {
			if len(run) == 0 {
				return
			}
			if pre {
				b.WriteString(".RS 2\n.nf\n")
				for _, l := range run {
					b.WriteString(roffLine(strings.TrimPrefix(l, "  ")) + "\n")
				}
				b.WriteString(".fi\n.RE\n")
			} else {
				roffFill(b, strings.Join(run, " "))
			}
			run = nil
		}
		for _, l := range strings.Split(para, "\n") {
			if isPre := strings.HasPrefix(l, "  "); isPre != pre {
				flush()
				pre = isPre
			}
			run = append(run, l)
		}
		flush()
	}
}

// splitUsage cuts the text of `porthole help` into its opening paragraph,
// the synopsis lines, and the paragraphs after the command list.
func splitUsage(usage string) (intro string, synopsis []string, tail []string) {
	head, rest, _ := strings.Cut(usage, "\nCommands:\n")
	introText, usageBlock, _ := strings.Cut(head, "\nUsage:\n")
	intro = strings.Join(strings.Fields(introText), " ")
	for _, l := range strings.Split(usageBlock, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		// "porthole PORT...   same as porthole info PORT...": the usage,
		// without its comment.
		if i := strings.Index(l, "   "); i > 0 {
			l = l[:i]
		}
		synopsis = append(synopsis, l)
	}
	if _, after, ok := strings.Cut(rest, "\n\n"); ok {
		tail = strings.Split(strings.TrimSpace(after), "\n\n")
	}
	return intro, synopsis, tail
}

// manPage renders porthole(1) from the commands' flag sets and the text of
// `porthole help`.
func manPage(docs []cmdDoc, usage, version, date string) string {
	var b strings.Builder
	intro, synopsis, tail := splitUsage(usage)
	b.WriteString(`.\" porthole(1), generated by 'porthole man' from the commands' own help.` + "\n")
	if strings.Trim(date, "0123456789-") != "" {
		date = "" // only a plain YYYY-MM-DD goes into .TH unescaped
	}
	fmt.Fprintf(&b, ".TH PORTHOLE 1 \"%s\" %s \"User Commands\"\n", date, roffQuoted("porthole "+version))
	// No hyphenation and a ragged right margin keep flags and URLs whole.
	b.WriteString(".nh\n.ad l\n")
	b.WriteString(".SH NAME\nporthole \\- " + roffLine(strings.TrimPrefix(intro, "porthole ")) + "\n")
	b.WriteString(".SH SYNOPSIS\n.nf\n")
	for _, s := range synopsis {
		name, rest, _ := strings.Cut(s, " ")
		b.WriteString(`\fB` + roffEscape(name) + `\fR ` + roffEscape(rest) + "\n")
	}
	b.WriteString(".fi\n.SH DESCRIPTION\n")
	roffFill(&b, intro)
	var exit []string
	for _, p := range tail {
		if strings.HasPrefix(p, "Exit status") {
			exit = append(exit, p)
			continue
		}
		roffParagraphs(&b, p, false)
	}
	b.WriteString(".SH COMMANDS\n")
	for _, d := range docs {
		b.WriteString(".SS " + roffQuoted(strings.TrimSpace("porthole "+d.name+" "+d.args)) + "\n")
		roffParagraphs(&b, d.help, true)
		if len(d.flags) == 0 {
			continue
		}
		b.WriteString(".PP\nFlags:\n")
		for _, f := range d.flags {
			b.WriteString(".TP\n" + `\fB` + roffEscape(f.spelling()) + `\fR`)
			if f.arg != "" {
				b.WriteString(` \fI` + roffEscape(f.arg) + `\fR`)
			}
			b.WriteString("\n")
			usage := f.usage
			if f.def != "" {
				usage += " (default " + f.def + ")"
			}
			b.WriteString(roffLine(usage) + "\n")
		}
	}
	b.WriteString(".SH EXIT STATUS\n")
	for _, p := range exit {
		roffParagraphs(&b, strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(p, "Exit status"), ":")), true)
	}
	b.WriteString(`.SH ENVIRONMENT
.TP
.B NO_COLOR
when set, text output has no colour (nor with TERM=dumb, nor when standard output is not a terminal).
.TP
.B PORTHOLE_NO_BPF
when set, porthole finds socket owners by walking /proc and never loads its BPF programs.
.TP
.B PORTHOLE_CACHE_DIR
the directory for the registry that \fBporthole update\fR downloads (default: porthole in the user cache directory).
.SH SEE ALSO
.BR ss (8),
.BR lsof (8),
.BR netstat (8)
`)
	return b.String()
}
