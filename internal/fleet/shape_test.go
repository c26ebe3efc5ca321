package fleet

import (
	"regexp"
	"strings"
	"testing"
)

// The byte-by-byte identifier checks accept exactly what the regular
// expressions they replaced accepted.
func FuzzIdentifierShapes(f *testing.F) {
	for _, s := range []string{"", "a", "A", "0", "-", "tmp-exe", "Tmp", "a.b", "a_b", "a-b", "host.example", "x\n", "é", strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65)} {
		f.Add(s)
	}
	rule := regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)
	name := regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})$`)
	id := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,63}$`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validRule(s), rule.MatchString(s); got != want {
			t.Errorf("validRule(%q) = %v, regexp says %v", s, got, want)
		}
		if got, want := validNameShape(s), name.MatchString(s); got != want {
			t.Errorf("validNameShape(%q) = %v, regexp says %v", s, got, want)
		}
		if got, want := validIDShape(s), id.MatchString(s); got != want {
			t.Errorf("validIDShape(%q) = %v, regexp says %v", s, got, want)
		}
	})
}
