package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// The completions and the man page are generated from the commands' own
// flag sets: describe runs every command with --help, with an Env that
// collects the flag sets newFlags makes, so a flag added to a command shows
// up in `porthole completion` and `porthole man` without another list to
// keep in step.

// subcommands names the words a command takes before its flags, for
// commands whose flag set belongs to a subcommand (`feedback export`).
// TestDescribeEveryCommand fails for a command that makes no flag set, so a
// new command of this kind cannot be forgotten here.
var subcommands = map[string][]string{
	"feedback": {"export"},
	"fleet":    {"token", "revoke"},
}

// cmdDoc is what the completions and the man page know of one command.
type cmdDoc struct {
	name    string // "info", or "feedback export"
	summary string // one line, from commands()
	args    string // the synopsis after the name: "PORT...", "DIR [flags]"
	help    string // the long description of --help
	flags   []flagDoc
}

// top is the command word (the first word of name).
func (d cmdDoc) top() string {
	top, _, _ := strings.Cut(d.name, " ")
	return top
}

// sub is the subcommand word, or "".
func (d cmdDoc) sub() string {
	_, sub, _ := strings.Cut(d.name, " ")
	return sub
}

// flagDoc is one flag of a command.
type flagDoc struct {
	name  string // without dashes
	arg   string // the value's name ("FILE", "string"); "" for a boolean flag
	usage string
	def   string // the default worth showing, or ""
}

// spelling is the flag as --help shows it: -o for one letter, --name else.
func (f flagDoc) spelling() string {
	if len(f.name) == 1 {
		return "-" + f.name
	}
	return "--" + f.name
}

// valueKind says what completes a flag's value or a positional argument:
// "file", "dir", or "" (nothing: the user types it).
func valueKind(arg string) string {
	switch a := strings.ToUpper(arg); {
	case strings.Contains(a, "DIR"):
		return "dir"
	case strings.Contains(a, "FILE"):
		return "file"
	}
	return ""
}

// choices returns the words of an argument written as alternatives
// ("bash|zsh|fish|powershell"), or nil.
func choices(args string) []string {
	f := strings.Fields(args)
	if len(f) != 1 || !strings.Contains(f[0], "|") {
		return nil
	}
	return strings.Split(f[0], "|")
}

// describe returns every command with its flags, in the order of
// commands(). It runs each command's --help into io.Discard with a
// cancelled context: every command defines its flags and parses them before
// it does anything, and --help stops it there.
func describe() ([]cmdDoc, error) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var docs []cmdDoc
	for _, c := range commands() {
		paths := [][]string{{"--help"}}
		if subs, ok := subcommands[c.name]; ok {
			paths = nil
			for _, s := range subs {
				paths = append(paths, []string{s, "--help"})
			}
		}
		for _, args := range paths {
			var sets []*cmdFlags
			env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, flagSets: &sets}
			env.fill()
			_ = c.run(ctx, env, args) // --help: flag.ErrHelp
			if len(sets) == 0 {
				return nil, fmt.Errorf("porthole %s made no flag set; add its subcommands to cli.subcommands", strings.Join(append([]string{c.name}, args[:len(args)-1]...), " "))
			}
			fs := sets[0]
			d := cmdDoc{name: fs.Name(), summary: c.summary, args: fs.args, help: fs.summary}
			fs.VisitAll(func(f *flag.Flag) {
				arg, usage := flag.UnquoteUsage(f)
				fd := flagDoc{name: f.Name, arg: arg, usage: usage}
				switch f.DefValue {
				case "", "false", "0", "0s", "[]":
				default:
					fd.def = f.DefValue
				}
				d.flags = append(d.flags, fd)
			})
			docs = append(docs, d)
		}
	}
	return docs, nil
}
