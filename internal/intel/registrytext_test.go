package intel

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/registry"
)

// registryPhrase matches intel text that states what the registry says.
// Those sentences are generated from the registry (dossier.RegistrySentence);
// intel keeps products, vendors and history.
var registryPhrase = regexp.MustCompile(`(?i)\bIANA\b|\b(un)?assigned\b|\bregister(s|ed)\b|\bregistry\b|미할당|등록`)

// serviceToken matches words shaped like registry service names that cannot
// be ordinary words: with a hyphen or a digit (ms-wbt-server, krb524).
var serviceToken = regexp.MustCompile(`[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)+|[A-Za-z]+[0-9][A-Za-z0-9]*`)

// sentenceNumbers returns the numbers written in a sentence.
var numberRe = regexp.MustCompile(`[0-9]+`)

// TestNoRegistryStatements fails when intel text, in any field of any file,
// states a registry fact by hand ("IANA registers …", "unassigned") or
// names a registry service that the registry does not give for the entry's
// ports, unless the sentence names one of that service's own ports
// ("ircu on 6665-6669"). Plain words that are also service names (ssh,
// http, irc, echo) are read as protocol or English words, not as claims.
func TestNoRegistryStatements(t *testing.T) {
	x := registry.Embedded()
	db := mustDefault(t)
	for i := range db.Entries() {
		e := &db.Entries()[i]
		fields := map[string]string{
			"name": e.Name, "name-ko": e.NameKO, "aliases": strings.Join(e.Aliases, "; "), "description": e.Description,
			"description-ko": e.DescriptionKO, "legit": e.Legit, "legit-ko": e.LegitKO,
		}
		for key, text := range fields {
			if m := registryPhrase.FindString(text); m != "" {
				t.Errorf("%s:%d %s: %s states a registry fact by hand (%q): %q", e.File, e.Line, e.ID, key, m, text)
			}
			for _, sentence := range splitSentences(text) {
				for _, tok := range serviceToken.FindAllString(sentence, -1) {
					rows := exactName(x.Name(tok), tok)
					if len(rows) == 0 || registeredOnEntry(rows, e) || mentionsOwnPort(rows, sentence) {
						continue
					}
					t.Errorf("%s:%d %s: %s names %q, which the registry gives to other ports: %q",
						e.File, e.Line, e.ID, key, tok, sentence)
				}
			}
		}
	}
}

// exactName keeps the rows whose name is written exactly as tok: a product
// written in capitals ("C3") is not the service c3.
func exactName(rows []registry.Row, tok string) []registry.Row {
	var out []registry.Row
	for _, r := range rows {
		if r.Name == tok {
			out = append(out, r)
		}
	}
	return out
}

func registeredOnEntry(rows []registry.Row, e *Entry) bool {
	for _, r := range rows {
		for _, p := range e.Ports {
			if r.HasPort() && r.Low <= p.High && p.Low <= r.High {
				return true
			}
		}
	}
	return false
}

func mentionsOwnPort(rows []registry.Row, sentence string) bool {
	for _, s := range numberRe.FindAllString(sentence, -1) {
		n, err := strconv.Atoi(s)
		if err != nil {
			continue
		}
		for _, r := range rows {
			if r.Covers(n) {
				return true
			}
		}
	}
	return false
}

func splitSentences(s string) []string {
	return regexp.MustCompile(`[.;]\s+`).Split(s, -1)
}

// TestKoreanText checks every entry's Korean: no particle written in both
// forms, no dangling year, no paragraph without Hangul.
func TestKoreanText(t *testing.T) {
	db := mustDefault(t)
	for i := range db.Entries() {
		e := &db.Entries()[i]
		for key, text := range map[string]string{"description-ko": e.DescriptionKO, "legit-ko": e.LegitKO} {
			if text == "" {
				continue
			}
			if why := i18n.KoreanProblem(text); why != "" {
				t.Errorf("%s:%d %s: %s: %s: %q", e.File, e.Line, e.ID, key, why, text)
			}
		}
		if e.Legit != "" && e.DescriptionKO != "" && e.LegitKO == "" {
			t.Errorf("%s:%d %s: legit has no legit-ko", e.File, e.Line, e.ID)
		}
	}
}
