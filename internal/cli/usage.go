package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/porthole/porthole/internal/jsonw"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
)

// helpFor prints the usage of the command called name. It never dispatches
// again, so every help path ends: `help help` and `help --help` print the
// main usage, and `help bogus` is an unknown command (exit 2).
func helpFor(ctx context.Context, env *Env, name string) error {
	switch name {
	case "help", "-h", "-help", "--help":
		printUsage(env.Stdout)
		return nil
	case "-v", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, env, []string{"--help"})
		}
	}
	return unknownCommand(name)
}

// unknownCommand is the usage error for a word that names no command, with
// the nearest command when one is close.
func unknownCommand(name string) error {
	msg := "unknown command " + quoteArg(name)
	if s := nearestCommand(name); s != "" {
		msg += "; did you mean '" + s + "'?"
	}
	return &usageError{msg: msg, token: name}
}

// mistypedCommand returns an unknown-command error for a word that reached
// the `porthole PORT` shortcut but is a typo of a command (`porthole lst`)
// rather than a service name in the registry; otherwise nil.
func mistypedCommand(word string, getenv func(string) string) error {
	if looksLikePort(word) || nearestCommand(word) == "" {
		return nil
	}
	spec, err := ports.ParseSpec(word)
	if err != nil || !spec.IsService() {
		return nil
	}
	if reg, err := registry.Default(getenv); err == nil && len(reg.Name(spec.Service)) > 0 {
		return nil
	}
	return unknownCommand(word)
}

// nearestCommand returns the command within a small edit distance of s
// (one edit for words up to four letters, two beyond), or "".
func nearestCommand(s string) string {
	s = strings.ToLower(s)
	limit := 1
	if utf8.RuneCountInString(s) > 4 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, c := range commands() {
		if d := editDistance(s, c.name); d < bestD {
			best, bestD = c.name, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours each cost one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 20 // nothing that long is a command
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// checkAddr validates a HOST:PORT flag value (serve --addr, watch
// --metrics) before anything listens, so that a malformed value is a usage
// error (exit 2) wherever it appears; only a well-formed address that
// cannot be bound is a failure (exit 3).
func checkAddr(flagName, v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return badToken(v, "%s %s: want HOST:PORT, as in 127.0.0.1:8080 or [::1]:8080", flagName, quoteArg(v))
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > ports.Max || port != strconv.Itoa(n) {
		return badToken(v, "%s %s: the port must be a number from 0 to 65535", flagName, quoteArg(v))
	}
	if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
		return badToken(v, "%s %s: %s is neither an IP address nor a host name", flagName, quoteArg(v), quoteArg(host))
	}
	return nil
}

// validHostname accepts letters, digits, '-' and '.' (RFC 1123 labels).
func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// wantsJSON reports whether the command line asks for JSON (--json, -json
// or --json=true among the arguments before a "--").
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "-json", "--json=true", "-json=true", "--json=1", "-json=1":
			return true
		}
	}
	return false
}

// maxToken bounds the token echoed in a JSON error.
const maxToken = 120

// errorJSON is what a command prints on stderr instead of its message when
// --json was given: the message, and the offending input or null.
type errorJSON struct {
	Error string  `json:"error"`
	Token *string `json:"token"`
}

// writeJSONError prints err as one JSON object on one line.
func writeJSONError(w io.Writer, err error) {
	out := errorJSON{Error: err.Error()}
	if tok, ok := errToken(err); ok {
		if utf8.RuneCountInString(tok) > maxToken {
			tok = string([]rune(tok)[:maxToken-1]) + "…"
		}
		out.Token = &tok
	}
	if out.Error == "" {
		out.Error = "exit status " + strconv.Itoa(exitCode(err))
	}
	b, _ := jsonw.Marshal(out)
	w.Write(append(b, '\n'))
}

// jsonLines makes stderr machine-readable under --json: each line a
// command writes becomes one JSON object, {"warning": …} for "porthole:
// warning: …" and {"message": …} for any other note; a line that is
// already a JSON object (the error, a JSON log record) passes unchanged.
type jsonLines struct {
	w   io.Writer
	buf []byte
}

func (j *jsonLines) Write(p []byte) (int, error) {
	j.buf = append(j.buf, p...)
	for {
		i := bytes.IndexByte(j.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if err := j.line(string(j.buf[:i])); err != nil {
			return len(p), err
		}
		j.buf = j.buf[i+1:]
	}
}

func (j *jsonLines) line(s string) error {
	if strings.HasPrefix(s, "{") && json.Valid([]byte(s)) {
		_, err := io.WriteString(j.w, s+"\n")
		return err
	}
	key := "message"
	if rest, ok := strings.CutPrefix(s, "porthole: warning: "); ok {
		key, s = "warning", rest
	} else {
		s = strings.TrimPrefix(s, "porthole: ")
	}
	if strings.TrimSpace(s) == "" {
		return nil
	}
	b, err := jsonw.Marshal(map[string]string{key: s})
	if err != nil {
		return err
	}
	_, err = j.w.Write(append(b, '\n'))
	return err
}

// flush writes a last line that had no newline (a prompt, say).
func (j *jsonLines) flush() {
	if len(j.buf) > 0 {
		j.line(string(j.buf))
		j.buf = nil
	}
}

// errToken finds the input an error blames, if any.
func errToken(err error) (string, bool) {
	var ue *usageError
	var se *ports.SpecError
	switch {
	case errors.As(err, &ue) && ue.token != "":
		return ue.token, true
	case errors.As(err, &se):
		return se.Token, true
	}
	return "", false
}

// flagToken picks the offending argument out of a flag package error:
// "flag provided but not defined: -x", "flag needs an argument: -x",
// `invalid value "abc" for flag -count: ...`.
func flagToken(err error) string {
	s := err.Error()
	if rest, ok := strings.CutPrefix(s, "invalid value "); ok {
		if v, err := strconv.QuotedPrefix(rest); err == nil {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
		}
	}
	if rest, ok := strings.CutPrefix(s, "invalid boolean value "); ok {
		if v, err := strconv.QuotedPrefix(rest); err == nil {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
		}
	}
	if i := strings.LastIndex(s, ": -"); i >= 0 {
		return s[i+2:]
	}
	return ""
}

// usageTail ends `porthole help`: what PORT is, --json, exit statuses.
const usageTail = `
PORT is 2556, tcp/2556, udp/53, 6000-6063, or a service name such as http.
Run 'porthole help <command>' for a command's flags.

Every command takes --json: one JSON document (watch: one object per line)
on stdout, described in docs/json.md. With --json, every line on stderr is
a JSON object too: {"warning": ...} or {"message": ...} notes, and on
failure {"error": "...", "token": "the offending input" or null}.
Text fits the terminal (80 columns when stdout is not one); list and who
take --wide for whole rows.

Exit status: 0 success; 1 no answer (nothing listens, nothing matches);
2 bad input (arguments, flags, PORT, --addr/--metrics values); 3 the
command failed (I/O, permissions, network). audit has its own statuses
(porthole help audit).
`

// printCommands lists the commands, each summary wrapped to 80 columns.
func printCommands(w io.Writer) {
	t := &text{w: w}
	col := 0 // the longest name ("completion") sets the summaries' column
	for _, c := range commands() {
		col = max(col, len(c.name))
	}
	indent := 2 + col + 2
	for _, c := range commands() {
		for i, l := range wrap(c.summary, width-indent, width-indent) {
			if i == 0 {
				t.line(fmt.Sprintf("  %-*s  %s", col, c.name, l))
			} else {
				t.line(strings.Repeat(" ", indent) + l)
			}
		}
	}
}

// printFlagUsage prints a command's usage to w: the synopsis, its
// description and its flags, wrapped to 80 columns.
func printFlagUsage(w io.Writer, fs *cmdFlags) {
	t := &text{w: w}
	t.hang(0, 7, "Usage: porthole "+fs.Name()+" "+fs.args)
	t.blank()
	for _, para := range strings.Split(fs.summary, "\n\n") {
		if strings.Contains(para, "\n  ") {
			// A preformatted block (audit's exit table) keeps its lines.
			for _, l := range strings.Split(para, "\n") {
				t.line(l)
			}
		} else {
			t.para(0, strings.Join(strings.Fields(para), " "))
		}
		t.blank()
	}
	t.line("Flags:")
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		head := "  --" + f.Name
		if len(f.Name) == 1 {
			head = "  -" + f.Name
		}
		if name != "" {
			head += " " + name
		}
		t.line(head)
		switch f.DefValue {
		case "", "false", "0", "0s", "[]":
		default:
			usage += " (default " + f.DefValue + ")"
		}
		t.para(8, usage)
	})
}
