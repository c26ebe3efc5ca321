// Package cli is porthole's command line: one file per command, each an
// options type, a cmdDef that parses flags into it and a run function (see
// command.go), the text and JSON renderers, and the one table that maps
// errors to exit statuses. Main is called by cmd/porthole and, in
// process, by the tests.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/sockets"
)

// Exit statuses shared by every command. `porthole audit` has its own
// scheme, because its low bits report findings (see audit.go).
const (
	ExitOK       = 0 // success
	ExitNotFound = 1 // the question had no answer: nothing listens, nothing matches
	ExitUsage    = 2 // bad arguments or a bad PORT; nothing was done
	ExitFailure  = 3 // the command could not do its work (I/O, permissions, network)
)

// Env is what a command may touch of the outside world. Tests fill it with
// buffers, a fixed clock and a temporary cache directory.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time
	// Color forces colour on or off; nil decides from the terminal and
	// NO_COLOR.
	Color *bool
	// Ephemeral reads this machine's ephemeral port range.
	Ephemeral func() (low, high int, err error)
	// Columns is the text width; 0 asks the terminal (80 when stdout is
	// not one).
	Columns int
}

// command is one subcommand: run parses its arguments and runs it, and
// defs are its flag definitions (one per subcommand word for fleet and
// feedback), for --help, the completions and the man page.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
	defs    []usage
}

func commands() []command {
	return []command{
		cmd("what a port is: registry, threats, uses, how to check (also: porthole PORT)", infoCmd, runInfo),
		cmd("find ports by service name, description, or threat name", searchCmd, runSearch),
		cmd("registry figures per range and protocol, ghosts, intel coverage", statsCmd, runStats),
		cmd("download IANA's registry and swap it in atomically", updateCmd, runUpdate),
		cmd("write the reference site as static files (every port, en and ko)", exportCmd, runExport),
		{name: "feedback", summary: "export the answers of the site's \"Was this page helpful?\" widget", run: runFeedback, defs: []usage{feedbackExportCmd}},
		cmd("serve the port reference site and JSON API (local section on loopback)", serveCmd, runServe),
		{name: "fleet", summary: "manage the hosts of a fleet inventory: token NAME, revoke NAME", run: runFleet, defs: []usage{fleetTokenCmd, fleetRevokeCmd}},
		cmd("report this host's listeners to a fleet server: full state, changes, heartbeats", agentCmd, runAgent),
		cmd("who listens on PORT here: owner process, user, executable, container", whoCmd, runWho),
		cmd("every listening socket here, with owner, service name and threat flags", listCmd, runList),
		cmd("pick free, unassigned, clean ports for a new service", suggestCmd, runSuggest),
		cmd("findings: known-bad ports, unexplained listeners, exe in tmp or deleted, baseline drift", auditCmd, runAudit),
		cmd("write the listeners here as a baseline file to edit and keep", baselineCmd, runBaseline),
		cmd("events when listeners appear, vanish or change owner; Prometheus metrics", watchCmd, runWatch),
		cmd("print the program and registry versions", versionCmd, runVersion),
		cmd("print a shell completion script: bash, zsh, fish or powershell", completionCmd, runCompletion),
		cmd("print the manual page (roff)", manCmd, runMan),
	}
}

// usageError is a bad invocation: the message is shown with a hint to
// --help, and the exit status is ExitUsage. Token is the offending input,
// when one argument is to blame (the JSON error's "token").
type usageError struct{ msg, token string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// badToken is a usage error blaming one input.
func badToken(token, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), token: token}
}

// notFound is a question with no answer; its message is printed to stderr
// (for search, after nothing was printed to stdout) and the status is 1.
type notFound struct{ msg string }

func (e *notFound) Error() string { return e.msg }

// exitError carries a command's own exit status (audit's finding bits) with
// an optional message and the error behind it (for a JSON error's token).
type exitError struct {
	code  int
	msg   string
	cause error
}

func (e *exitError) Error() string { return e.msg }
func (e *exitError) Unwrap() error { return e.cause }

// exitCode is the one table from errors to exit statuses.
func exitCode(err error) int {
	var ue *usageError
	var nf *notFound
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue), errors.Is(err, ports.ErrBadSpec), errors.Is(err, flag.ErrHelp):
		return ExitUsage
	case errors.As(err, &nf):
		return ExitNotFound
	}
	return ExitFailure
}

// Main runs porthole with args (without the program name) and returns the
// exit status. It never panics on user input; an internal panic is reported
// as a one-line error, not a stack trace.
func Main(ctx context.Context, args []string, env *Env) (code int) {
	env.fill()
	if wantsJSON(args) {
		jl := &jsonLines{w: env.Stderr}
		env.Stderr = jl
		defer jl.flush()
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(env.Stderr, "porthole: internal error: %v (please report it)\n", r)
			code = ExitFailure
		}
	}()
	err := dispatch(ctx, env, args)
	code = exitCode(err)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return code
	}
	if wantsJSON(args) {
		if err.Error() != "" {
			writeJSONError(env.Stderr, err)
		}
		return code
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(env.Stderr, "porthole: "+msg)
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(env.Stderr, "Run 'porthole help' for usage.")
	}
	return code
}

func (env *Env) fill() {
	if env.Stdin == nil {
		env.Stdin = os.Stdin
	}
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Ephemeral == nil {
		env.Ephemeral = sockets.EphemeralRange
	}
}

func dispatch(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		printUsage(env.Stderr)
		return usagef("no command given")
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		// "help help", "--help --help": asking for help on help is the
		// overview. Skipping them all, and helpFor never dispatching
		// again, ends every help path.
		rest := args[1:]
		for len(rest) > 0 && isHelpWord(rest[0]) {
			rest = rest[1:]
		}
		if len(rest) > 0 {
			return helpFor(ctx, env, rest[0])
		}
		printUsage(env.Stdout)
		return nil
	case "-v", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, env, args[1:])
		}
	}
	// `porthole --json 2556` and `porthole --offline 2556` are `info` too:
	// a flag of info's (or "--") before the port.
	if isInfoFlag(name) {
		return infoCmd.bind(runInfo)(ctx, env, args)
	}
	// `porthole 2556`, `porthole tcp/2556`, `porthole http` are `info`;
	// a word that is no service but close to a command is a typo.
	if !strings.HasPrefix(name, "-") {
		if _, err := ports.ParseSpec(name); err == nil || looksLikePort(name) {
			if err := mistypedCommand(name, env.Getenv); err != nil {
				return err
			}
			return infoCmd.bind(runInfo)(ctx, env, args)
		}
	}
	return unknownCommand(name)
}

// isInfoFlag reports whether arg is "--" or one of info's flags
// ("--json", "-offline", "--lang=ko"), so that `porthole FLAG PORT` is
// `porthole info FLAG PORT` rather than an unknown command.
func isInfoFlag(arg string) bool {
	if arg == "--" {
		return true
	}
	name, ok := strings.CutPrefix(arg, "-")
	if !ok {
		return false
	}
	name = strings.TrimPrefix(name, "-")
	name, _, _ = strings.Cut(name, "=")
	return name != "" && infoCmd.usageFlags().Lookup(name) != nil
}

func isHelpWord(s string) bool {
	switch s {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// looksLikePort is true for arguments that were meant as a port, so that
// `porthole 65536` says what is wrong with the port rather than calling it
// an unknown command.
func looksLikePort(s string) bool {
	return s != "" && (s[0] >= '0' && s[0] <= '9' || strings.Contains(s, "/"))
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `porthole answers two questions about a TCP/UDP port: what is it, and what
is on it here?

Usage:
  porthole [flags] PORT...         same as porthole info [flags] PORT...
  porthole <command> [flags] [args]

Commands:
`)
	printCommands(w)
	fmt.Fprint(w, usageTail)
}

// cmdFlags is a command's flag set with what its usage text needs.
type cmdFlags struct {
	*flag.FlagSet
	args, summary string
}

// newFlags makes a command's flag set. Parse errors come back as one-line
// usage errors; -h comes back as flag.ErrHelp, and cmdDef.bind prints the
// usage.
func newFlags(name, args, summary string) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // the flag package calls it on every error; we print on -h only
	return &cmdFlags{FlagSet: fs, args: args, summary: summary}
}

// parseFlags parses flags anywhere among the arguments ("info 22 --json"),
// as people type them. An argument such as "-1" is a (bad) port, not a flag.
func parseFlags(fs *cmdFlags, args []string) ([]string, error) {
	var rest []string
	for {
		for len(args) > 0 && negativeNumber(args[0]) {
			rest = append(rest, args[0])
			args = args[1:]
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{msg: fs.Name() + ": " + err.Error(), token: flagToken(err)}
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

func negativeNumber(s string) bool {
	return len(s) > 1 && s[0] == '-' && s[1] >= '0' && s[1] <= '9'
}
