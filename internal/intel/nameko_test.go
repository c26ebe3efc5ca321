package intel

import (
	"regexp"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/i18n"
)

// commonWords are lower-case English words that, in an entry's name, are
// not part of a proper noun: a name with one of them needs a name-ko.
// Capitalised words are left alone, since they are usually product names
// ("Chrome Remote Desktop").
var commonWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`worm worms backdoor backdoors trojan trojans rootkit malware
		server servers client port ports range remote desktop default service services agent
		console proxy proxies tunnel database protocol management discovery amplification
		reflection web dev panel listener interface receiver receivers broker brokers
		controller phishing scanner dedicated game mail print traffic tools and or on of with`) {
		commonWords[w] = true
	}
}

// nameWord matches the words of a name, whole: "webpack-dev-server" and
// "http.server" are identifiers, not the words dev and server.
var nameWord = regexp.MustCompile(`[^\s,()/"':;]+`)

// TestNameKO holds every embedded entry whose name has a common English
// word to a Korean name, and every Korean name to the house checks: it
// differs from the English name, reads as Korean, and is one line.
func TestNameKO(t *testing.T) {
	db := mustDefault(t)
	withKO := 0
	for i := range db.Entries() {
		e := &db.Entries()[i]
		if e.NameKO == "" {
			for _, w := range nameWord.FindAllString(e.Name, -1) {
				if commonWords[w] {
					t.Errorf("%s:%d %s: name %q has the common word %q but no name-ko", e.File, e.Line, e.ID, e.Name, w)
					break
				}
			}
			continue
		}
		withKO++
		if e.NameKO == e.Name {
			t.Errorf("%s:%d %s: name-ko repeats the name %q (leave it out)", e.File, e.Line, e.ID, e.Name)
		}
		if why := i18n.KoreanProblem(e.NameKO); why != "" {
			t.Errorf("%s:%d %s: name-ko %q: %s", e.File, e.Line, e.ID, e.NameKO, why)
		}
		for _, w := range nameWord.FindAllString(e.NameKO, -1) {
			if commonWords[w] && w != "or" && w != "on" && w != "of" {
				t.Errorf("%s:%d %s: name-ko %q keeps the English word %q", e.File, e.Line, e.ID, e.NameKO, w)
			}
		}
	}
	if withKO == 0 {
		t.Fatal("no entry has a name-ko")
	}
}

// TestParseNameKO reads name-ko from a stanza and rejects it repeated or
// empty.
func TestParseNameKO(t *testing.T) {
	withKO := strings.Replace(stanza, "\nname: ", "\nname-ko: 테스트 웜 백도어\nname: ", 1)
	es, err := Parse("t.txt", []byte(withKO))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].NameKO != "테스트 웜 백도어" {
		t.Fatalf("got %+v", es)
	}
	for _, bad := range []string{
		strings.Replace(withKO, "\nname: ", "\nname-ko: 또\nname: ", 1),
		strings.Replace(withKO, "name-ko: 테스트 웜 백도어", "name-ko:   ", 1),
	} {
		if _, err := Parse("t.txt", []byte(bad)); err == nil || !strings.Contains(err.Error(), "name-ko") {
			t.Errorf("accepted or misreported %q: %v", bad, err)
		}
	}
	e := es[0]
	e.NameKO = " \t"
	if err := e.Validate(); err == nil || !strings.Contains(err.Error(), "name-ko") {
		t.Errorf("Validate accepted a blank name-ko: %v", err)
	}
}
