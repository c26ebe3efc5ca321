package intel

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

// SourceKind says what sort of document a source is. It is derived from the
// source's URL by the table in data/sources.txt, never written on the
// source line, so that one decision covers every entry citing a site.
type SourceKind string

// The kinds of source. Primary material first, then secondary, then weak.
const (
	SrcVendor   SourceKind = "vendor"   // a security vendor's own analysis or write-up
	SrcDocs     SourceKind = "docs"     // a product's official documentation or source
	SrcStandard SourceKind = "standard" // an RFC or another published standard
	SrcAdvisory SourceKind = "advisory" // a government or CERT advisory (or a faithful copy)
	SrcAttack   SourceKind = "attack"   // a MITRE ATT&CK page
	SrcResearch SourceKind = "research" // an academic paper or a researcher's analysis
	SrcNews     SourceKind = "news"     // a news report
	SrcBlog     SourceKind = "blog"     // a blog, forum or mailing-list post
	SrcList     SourceKind = "list"     // a community list or community-edited wiki
	SrcPortPage SourceKind = "portpage" // a per-port page of a port database
)

// SourceKinds lists every kind, primary first.
var SourceKinds = []SourceKind{SrcVendor, SrcDocs, SrcStandard, SrcAdvisory, SrcAttack, SrcResearch,
	SrcNews, SrcBlog, SrcList, SrcPortPage}

// Weight is how much a source kind can carry.
type Weight int

// The three weights, weakest first.
const (
	Weak      Weight = 1 // community lists and port pages: at most low confidence
	Secondary Weight = 2 // news and blogs: at most medium confidence
	Primary   Weight = 3 // vendor analysis, docs, standards, advisories, ATT&CK, research: may be high
)

// Weight returns the kind's weight, 0 for a kind outside the vocabulary.
func (k SourceKind) Weight() Weight {
	switch k {
	case SrcVendor, SrcDocs, SrcStandard, SrcAdvisory, SrcAttack, SrcResearch:
		return Primary
	case SrcNews, SrcBlog:
		return Secondary
	case SrcList, SrcPortPage:
		return Weak
	}
	return 0
}

// Valid reports whether k is in the vocabulary.
func (k SourceKind) Valid() bool { return k.Weight() > 0 }

// MaxConfidence is the highest confidence an entry backed by sources of the
// given best weight may claim: high needs a primary source, secondary
// sources allow medium, weak ones only low.
func MaxConfidence(best Weight) Confidence {
	switch best {
	case Primary:
		return High
	case Secondary:
		return Medium
	}
	return Low
}

//go:embed data/sources.txt
var sourcesTable string

// sourceRule is one line of data/sources.txt: a host, an optional path
// prefix, and the kind of every URL under them.
type sourceRule struct {
	prefix string // "/mthcht" or ""
	kind   SourceKind
}

var (
	tableOnce  sync.Once
	tableRules map[string][]sourceRule // by host, longest prefix first
	tableErr   error
)

func sourceTable() (map[string][]sourceRule, error) {
	tableOnce.Do(func() { tableRules, tableErr = parseSourceTable("data/sources.txt", sourcesTable) })
	return tableRules, tableErr
}

// parseSourceTable reads lines "HOST[/PATH-PREFIX] KIND"; "#" starts a
// comment line. A repeated HOST/PREFIX, an unknown kind or a malformed line
// is an error naming file:line.
func parseSourceTable(file, text string) (map[string][]sourceRule, error) {
	rules := map[string][]sourceRule{}
	n := 0
	for line := range strings.Lines(text) {
		n++
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%s:%d: expected \"HOST[/PATH-PREFIX] KIND\", got %q", file, n, clip(line))
		}
		kind := SourceKind(f[1])
		if !kind.Valid() {
			return nil, fmt.Errorf("%s:%d: unknown source kind %q", file, n, clip(f[1]))
		}
		host, prefix := f[0], ""
		if i := strings.IndexByte(host, '/'); i >= 0 {
			host, prefix = host[:i], strings.TrimSuffix(host[i:], "/")
		}
		if host == "" || !strings.Contains(host, ".") || strings.ToLower(host) != host || strings.ContainsAny(host, ":?#") {
			return nil, fmt.Errorf("%s:%d: bad host %q (lower-case host name, no scheme or port)", file, n, clip(host))
		}
		for _, r := range rules[host] {
			if r.prefix == prefix {
				return nil, fmt.Errorf("%s:%d: %s%s listed twice", file, n, host, prefix)
			}
		}
		rules[host] = append(rules[host], sourceRule{prefix: prefix, kind: kind})
	}
	for host, rs := range rules {
		// Longest prefix first, so that the first match is the longest.
		for i := 1; i < len(rs); i++ {
			for j := i; j > 0 && len(rs[j].prefix) > len(rs[j-1].prefix); j-- {
				rs[j], rs[j-1] = rs[j-1], rs[j]
			}
		}
		rules[host] = rs
	}
	return rules, nil
}

// splitURL returns the lower-cased host and the path (with query) of an
// http(s) URL already accepted by checkURL.
func splitURL(u string) (host, path string) {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		rest, _ = strings.CutPrefix(u, "http://")
	}
	host, path = rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.ToLower(host), path
}

// KindOf returns the kind of a source URL from data/sources.txt: the rule
// for its host with the longest path prefix that the URL's path starts with
// (a prefix matches whole path segments: "/mthcht" matches "/mthcht/x" but
// not "/mthchtx"). ok is false when no rule matches; host is the URL's host
// either way, for error messages.
func KindOf(u string) (kind SourceKind, host string, ok bool) {
	rules, err := sourceTable()
	host, path := splitURL(u)
	if err != nil {
		return "", host, false
	}
	for _, r := range rules[host] {
		if r.prefix == "" || path == r.prefix ||
			strings.HasPrefix(path, r.prefix) && strings.ContainsRune("/?#", rune(path[len(r.prefix)])) {
			return r.kind, host, true
		}
	}
	return "", host, false
}

// CheckSources applies the source rules to an entry: every source URL must
// have a kind in data/sources.txt, and the confidence may not exceed what
// the best source allows (MaxConfidence). The error names the entry's
// file:line.
func (e *Entry) CheckSources() error {
	best := Weight(0)
	for _, s := range e.Sources {
		k, host, ok := KindOf(s.URL)
		if !ok {
			return &Error{File: e.File, Line: e.Line, Key: "source",
				Msg: fmt.Sprintf("%s: host %q (of %s) has no kind in data/sources.txt", e.ID, host, clip(s.URL))}
		}
		best = max(best, k.Weight())
	}
	if limit := MaxConfidence(best); e.Confidence.Rank() > limit.Rank() {
		return &Error{File: e.File, Line: e.Line, Key: "confidence",
			Msg: fmt.Sprintf("%s: %s needs a stronger source; its best source allows at most %s", e.ID, e.Confidence, limit)}
	}
	return nil
}
