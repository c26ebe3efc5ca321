package cli

import (
	"flag"
	"fmt"
	"strings"
)

// The completions and the man page are generated from the commands' own
// flag definitions (each command's cmdDef, listed in commands()), so a flag
// added to a command shows up in `porthole completion` and `porthole man`
// without another list to keep in step.

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
// commands(): one cmdDoc per flag definition, so a command with
// subcommands (fleet token, fleet revoke) gives one per subcommand.
func describe() ([]cmdDoc, error) {
	var docs []cmdDoc
	for _, c := range commands() {
		if len(c.defs) == 0 {
			return nil, fmt.Errorf("porthole %s has no flag definition; give its command entry defs", c.name)
		}
		for _, def := range c.defs {
			fs := def.usageFlags()
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
