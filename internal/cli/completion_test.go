package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
)

// needTool returns the path of an external program a test runs, skipping
// the test when it is missing (failing it under CI, where scripts/test.sh
// installs it).
func needTool(t *testing.T, name string) string {
	t.Helper()
	return testenv.NeedTool(t, name, "")
}

func mustDescribe(t *testing.T) []cmdDoc {
	t.Helper()
	docs, err := describe()
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestDescribeEveryCommand: describe finds every command of commands(),
// each with the flags its --help prints.
func TestDescribeEveryCommand(t *testing.T) {
	docs := mustDescribe(t)
	safe := regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	for _, c := range commands() {
		i := slices.IndexFunc(docs, func(d cmdDoc) bool { return d.top() == c.name })
		if i < 0 {
			t.Errorf("command %s is missing from describe()", c.name)
			continue
		}
		d := docs[i]
		help := run(t, "", strings.Fields(d.name+" --help")...)
		if help.code != ExitOK {
			t.Errorf("%s --help: exit %d, stderr %q", d.name, help.code, help.stderr)
		}
		for _, f := range d.flags {
			if !safe.MatchString(f.name) {
				t.Errorf("%s: flag name %q is not a plain word; the completion scripts assume one", d.name, f.name)
			}
			if !strings.Contains(help.stdout, "-"+f.name) {
				t.Errorf("%s --help does not show the flag %s that describe found", d.name, f.spelling())
			}
		}
	}
	// A command every porthole user has: its flags come through.
	i := slices.IndexFunc(docs, func(d cmdDoc) bool { return d.name == "info" })
	if i < 0 || !slices.ContainsFunc(docs[i].flags, func(f flagDoc) bool { return f.name == "json" }) {
		t.Fatalf("describe() lost info --json: %+v", docs)
	}
}

func TestPositional(t *testing.T) {
	for synopsis, want := range map[string]string{
		"PORT...":                             "PORT",
		"DIR [flags]":                         "DIR",
		"[flags] [PORT...]":                   "PORT",
		"[--db DSN] [--json|--csv] [-o FILE]": "",
		"[-o FILE] [flags]":                   "",
		"[--url URL]":                         "",
		"":                                    "",
		"TEXT":                                "TEXT",
	} {
		if got := positional(synopsis); got != want {
			t.Errorf("positional(%q) = %q, want %q", synopsis, got, want)
		}
	}
}

// completion runs `porthole completion SHELL` and writes the script to a
// file.
func completion(t *testing.T, shell string) (script, path string) {
	t.Helper()
	r := run(t, "", "completion", shell)
	if r.code != ExitOK || r.stderr != "" {
		t.Fatalf("completion %s: exit %d, stderr %q", shell, r.code, r.stderr)
	}
	path = filepath.Join(t.TempDir(), "porthole."+shell)
	if err := os.WriteFile(path, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	return r.stdout, path
}

// TestCompletionScriptsNameEverything: every command and every flag of every
// command is in each shell's script.
func TestCompletionScriptsNameEverything(t *testing.T) {
	docs := mustDescribe(t)
	for _, shell := range shells {
		script, _ := completion(t, shell)
		for _, w := range topWords(docs) {
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(w) + `\b`).MatchString(script) {
				t.Errorf("%s: command %s is missing", shell, w)
			}
		}
		for _, d := range docs {
			for _, f := range d.flags {
				want := f.spelling()
				if shell == "fish" {
					want = "-l " + f.name
					if len(f.name) == 1 {
						want = "-s " + f.name
					}
				}
				if !strings.Contains(script, want) {
					t.Errorf("%s: %s %s is missing", shell, d.name, f.spelling())
				}
			}
		}
	}
	if r := run(t, "", "completion", "tcsh"); r.code != ExitUsage {
		t.Errorf("completion tcsh: exit %d, want %d", r.code, ExitUsage)
	}
}

// TestCompletionSyntax: each shell that is installed parses its script.
func TestCompletionSyntax(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			sh := needTool(t, shell)
			_, path := completion(t, shell)
			out, err := exec.Command(sh, "-n", path).CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Fatalf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
}

// TestBashCompletes asks the bash script, in a real bash, for what it
// offers after each command: every flag of that command, and the
// commands, subcommands, shells and directories where those belong.
func TestBashCompletes(t *testing.T) {
	bash := needTool(t, "bash")
	docs := mustDescribe(t)
	_, path := completion(t, "bash")
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "site-out"), 0o755); err != nil {
		t.Fatal(err)
	}
	ask := func(words ...string) []string {
		t.Helper()
		// The words go in as arguments, never into the script's text.
		prog := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _porthole; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command(bash, append([]string{"--norc", "--noprofile", "-c", prog, "bash", path}, words...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("completing %q: %v\n%s", words, err, stderr.String())
		}
		return strings.Fields(string(out))
	}
	if got := ask("porthole", ""); !slices.Equal(got, topWords(docs)) {
		t.Errorf("porthole <TAB> = %q, want %q", got, topWords(docs))
	}
	for _, d := range docs {
		words := append([]string{"porthole"}, strings.Fields(d.name)...)
		got := ask(append(words, "-")...)
		for _, f := range d.flags {
			if !slices.Contains(got, f.spelling()) {
				t.Errorf("%s -<TAB> = %q, lacks %s", strings.Join(words, " "), got, f.spelling())
			}
		}
	}
	if got := ask("porthole", "feedback", ""); !slices.Equal(got, []string{"export"}) {
		t.Errorf("porthole feedback <TAB> = %q", got)
	}
	if got := ask("porthole", "completion", ""); !slices.Equal(got, shells) {
		t.Errorf("porthole completion <TAB> = %q", got)
	}
	if got := ask("porthole", "help", "se"); !slices.Equal(got, []string{"search", "serve"}) {
		t.Errorf("porthole help se<TAB> = %q", got)
	}
	if got := ask("porthole", "export", filepath.Join(dir, "site")); !slices.Equal(got, []string{filepath.Join(dir, "site-out")}) {
		t.Errorf("porthole export DIR<TAB> = %q", got)
	}
	if got := ask("porthole", "info", "--lang", ""); len(got) != 0 {
		t.Errorf("porthole info --lang <TAB> = %q, want nothing (a value is typed)", got)
	}
}

// TestFishCompletes asks fish itself (complete -C) for the flags of every
// command.
func TestFishCompletes(t *testing.T) {
	fish := needTool(t, "fish")
	docs := mustDescribe(t)
	_, path := completion(t, "fish")
	for _, d := range docs {
		line := "porthole " + d.name + " -"
		cmd := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, path, line)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("fish complete -C %q: %v\n%s", line, err, out)
		}
		var got []string
		for _, l := range strings.Split(string(out), "\n") {
			w, _, _ := strings.Cut(l, "\t")
			got = append(got, w)
		}
		for _, f := range d.flags {
			if !slices.Contains(got, f.spelling()) {
				t.Errorf("fish: %s<TAB> = %q, lacks %s", line, got, f.spelling())
			}
		}
	}
}
