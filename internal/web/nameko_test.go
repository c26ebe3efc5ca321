package web

import (
	"net/url"
	"strings"
	"testing"
)

// TestKoreanIntelNames checks that Korean pages name intel entries by their
// name-ko and English pages by their name: port pages, search results and
// range lists.
func TestKoreanIntelNames(t *testing.T) {
	h := testSite(t, Options{}).Handler()
	const en, ko = "Bagle (Beagle) worm backdoor", "Bagle (Beagle) 웜 백도어"
	for _, tc := range []struct{ path, want, not string }{
		{"/ports/2556", en, ko},
		{"/ko/ports/2556", ko, en},
		{"/search?q=" + url.QueryEscape("beagle"), en, ko},
		{"/ko/search?q=" + url.QueryEscape("beagle"), ko, en},
		{"/ko/search?q=" + url.QueryEscape("웜 백도어"), ko, en},
		{"/ports/2304-49151", en, ko},
		{"/ko/ports/2304-49151", ko, en},
	} {
		r := get(t, h, tc.path)
		if r.status != 200 || !strings.Contains(r.body, tc.want) || strings.Contains(r.body, tc.not) {
			t.Errorf("%s: status %d, want %q and not %q", tc.path, r.status, tc.want, tc.not)
		}
	}
}
