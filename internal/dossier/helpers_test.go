package dossier

import "testing"

func TestFirstLineAndShortID(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		"  Secure Shell  ":          "Secure Shell",
		"first line\nsecond line":   "first line",
		"\nstarts with a newline":   "",
		"tabs\tstay inside\r\nnext": "tabs\tstay inside",
	} {
		if got := FirstLine(in); got != want {
			t.Errorf("FirstLine(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"":             "",
		"0123456789ab": "0123456789ab",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": "0123456789ab",
	} {
		if got := ShortID(in); got != want {
			t.Errorf("ShortID(%q) = %q, want %q", in, got, want)
		}
	}
}
