package process

import (
	"strings"
	"testing"
)

func TestParseContainerName(t *testing.T) {
	for in, want := range map[string]string{
		"/web": "web", "web_1": "web_1", "": "", "/": "", "/a b": "", "/x\x1b[31m": "",
		"/" + strings.Repeat("a", 129): "", "/my.app-2": "my.app-2",
	} {
		if got := ParseContainerName(in); got != want {
			t.Errorf("ParseContainerName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseContainerName(f *testing.F) {
	f.Add("/web")
	f.Fuzz(func(t *testing.T, s string) {
		got := ParseContainerName(s)
		if got != "" && (strings.ContainsAny(got, " /\n\x1b") || len(got) > 128) {
			t.Fatalf("ParseContainerName(%q) = %q", s, got)
		}
	})
}
