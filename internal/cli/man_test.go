package cli

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func manSource(t *testing.T) string {
	t.Helper()
	r := run(t, "", "man")
	if r.code != ExitOK || r.stderr != "" {
		t.Fatalf("man: exit %d, stderr %q", r.code, r.stderr)
	}
	return r.stdout
}

// TestManPageLints: groff with every warning enabled and mandoc's linter
// find nothing to say about the page.
func TestManPageLints(t *testing.T) {
	page := manSource(t)
	t.Run("groff", func(t *testing.T) {
		groff := needTool(t, "groff")
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
		cmd.Stdin = strings.NewReader(page)
		out, err := cmd.CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Fatalf("groff -man -Tutf8 -ww -z: %v\n%s", err, out)
		}
	})
	t.Run("mandoc", func(t *testing.T) {
		mandoc := needTool(t, "mandoc")
		cmd := exec.Command(mandoc, "-T", "lint", "-W", "warning")
		cmd.Stdin = strings.NewReader(page)
		out, err := cmd.CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Fatalf("mandoc -T lint -W warning: %v\n%s", err, out)
		}
	})
}

// TestManPageNamesEverything renders the page as a reader sees it and
// finds every command, with its synopsis, and every flag of every command.
func TestManPageNamesEverything(t *testing.T) {
	groff := needTool(t, "groff")
	cmd := exec.Command(groff, "-man", "-Tascii", "-rLL=200n", "-P-cbou")
	cmd.Stdin = strings.NewReader(manSource(t))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("groff: %v\n%s", err, stderr.String())
	}
	text := string(out)
	for _, section := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "ENVIRONMENT"} {
		if !regexp.MustCompile(`(?m)^` + section + `$`).MatchString(text) {
			t.Errorf("the page has no %s section", section)
		}
	}
	for _, d := range mustDescribe(t) {
		head := strings.TrimSpace("porthole " + d.name + " " + d.args)
		if !strings.Contains(text, "   "+head+"\n") {
			t.Errorf("no subsection %q", head)
		}
		for _, f := range d.flags {
			want := f.spelling()
			if f.arg != "" {
				want += " " + f.arg
			}
			if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(want) + `(\s|$)`).MatchString(text) {
				t.Errorf("%s: flag %q is not in the page", d.name, want)
			}
		}
	}
	// Generated from `porthole help`: its exit statuses are in the page.
	if !strings.Contains(text, "2 bad") {
		t.Errorf("EXIT STATUS lacks the usage status:\n%s", text)
	}
}

func TestRoffEscape(t *testing.T) {
	for in, want := range map[string]string{
		".starts with a period": `\&.starts with a period`,
		"'starts with a quote":  `\&'starts with a quote`,
		`back\slash --json`:     `back\eslash \-\-json`,
		"IANA’s — 포트":           `IANA\[u2019]s \[u2014] \[uD3EC]\[uD2B8]`,
		"a/b":                   `a/\:b`,
	} {
		if got := roffLine(in); got != want {
			t.Errorf("roffLine(%q) = %q, want %q", in, got, want)
		}
	}
}
