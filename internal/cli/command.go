package cli

import (
	"context"
	"errors"
	"flag"
)

// A command is two steps. Parsing turns the arguments into the command's
// options struct (typed values: a ports.Spec, an i18n.Lang, a duration),
// every flag and positional argument checked, and touches nothing else;
// running does the work with those options and an Env. The two are joined
// in one place, cmdDef.bind, so parsing is tested on its own (flags in,
// options or an error naming the bad token out) and a command's behaviour
// is tested through Main.
//
// Each command file holds its options type, its cmdDef (name, synopsis,
// --help text and the flags function) and its run function; commands() in
// cli.go lists them.

// cmdDef is one command (or subcommand, such as "fleet token"): what its
// --help says, and how its flags fill an options value O.
type cmdDef[O any] struct {
	name string // "info", or "fleet token"
	args string // the synopsis after the name: "PORT...", "DIR [flags]"
	help string // the long description of --help
	// flags defines the command's flags on fs, bound to fields of o, and
	// returns the check that runs once they are parsed: it validates the
	// values, fills o's typed fields from them and takes the positional
	// arguments rest. It must not read files or the network.
	flags func(fs *cmdFlags, o *O) (check func(rest []string) error)
	// badUsage, when set, turns a usage error into the command's own
	// (audit's exit status 64).
	badUsage func(error) error
}

// usage is what --help, the completions and the man page need of a
// command: its flag set, with defaults and descriptions.
type usage interface {
	usageFlags() *cmdFlags
}

func (d *cmdDef[O]) usageFlags() *cmdFlags {
	var o O
	fs := newFlags(d.name, d.args, d.help)
	d.flags(fs, &o)
	return fs
}

// parse turns args into the command's options. -h and --help give
// flag.ErrHelp; anything wrong is a usage error naming the bad token.
func (d *cmdDef[O]) parse(args []string) (O, error) {
	var o O
	fs := newFlags(d.name, d.args, d.help)
	check := d.flags(fs, &o)
	rest, err := parseFlags(fs, args)
	if err == nil {
		err = check(rest)
	}
	if err != nil && d.badUsage != nil && !errors.Is(err, flag.ErrHelp) {
		err = d.badUsage(err)
	}
	return o, err
}

// bind makes the dispatcher's entry for the command: parse, print the
// usage for --help, else run.
func (d *cmdDef[O]) bind(run func(context.Context, *Env, O) error) func(context.Context, *Env, []string) error {
	return func(ctx context.Context, env *Env, args []string) error {
		o, err := d.parse(args)
		if errors.Is(err, flag.ErrHelp) {
			printFlagUsage(env.Stdout, d.usageFlags())
			return err
		}
		if err != nil {
			return err
		}
		return run(ctx, env, o)
	}
}

// cmd is a command of commands() made of one cmdDef and its run function.
func cmd[O any](summary string, d *cmdDef[O], run func(context.Context, *Env, O) error) command {
	return command{name: d.name, summary: summary, run: d.bind(run), defs: []usage{d}}
}

// noArgs is the check of a command that takes no positional argument.
func noArgs(name string) func(rest []string) error {
	return func(rest []string) error {
		if len(rest) > 0 {
			return usagef("%s takes no arguments (got %s)", name, quoteArg(rest[0]))
		}
		return nil
	}
}
