package dossier

import (
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/i18n"
)

// IntelView is an intel entry as every renderer presents it, in one
// language: the text and the web page lay out the same words. The JSON
// carries the entry's codes instead (see Intel.MarshalJSON).
type IntelView struct {
	ID   string
	Name string // in the view's language when the entry has a name in it
	// Facts are the entry's kind, protocol ("tcp/udp" for any), years when
	// known and confidence, in that order, each phrased in the language.
	Facts      []string
	Aliases    string // "also known as a; b", or "" without aliases
	Confidence string // the entry's confidence code, for colour or style
	// Description is in the view's language when the entry has it in that
	// language; DescEn says it is English in a view of another language.
	Description string
	DescEn      bool
	Legit       LegitText
	Footnotes   []int
}

// IntelViews presents a list of entries (the threats or the uses of one
// port) in lang.
func IntelViews(lang i18n.Lang, list []Intel) []IntelView {
	T := func(key string, args ...any) string { return i18n.T(lang, key, args...) }
	legit := LegitTexts(lang, list)
	out := make([]IntelView, len(list))
	for i, e := range list {
		proto := e.Protocol
		if proto == "" {
			proto = "tcp/udp"
		}
		facts := []string{T("web.kindname." + e.Kind), proto}
		if e.Years != "" {
			facts = append(facts, YearsText(lang, e.Years))
		}
		facts = append(facts, T("threats.confidence", T("web.conf."+e.Confidence)))
		v := IntelView{ID: e.ID, Name: e.NameIn(lang), Facts: facts, Confidence: e.Confidence,
			Description: e.Description, DescEn: lang != i18n.EN, Legit: legit[i], Footnotes: e.Footnotes}
		if lang == i18n.KO && e.DescriptionKO != "" {
			v.Description, v.DescEn = e.DescriptionKO, false
		}
		if len(e.Aliases) > 0 {
			v.Aliases = T("threats.aliases", strings.Join(e.Aliases, "; "))
		}
		out[i] = v
	}
	return out
}

// Sentences says in lang how much a port's threats weigh: what usually runs
// there, or that nothing ordinary does, then the programs that usually
// listen there. nil when the port has no threats to weigh.
func (r *Relevance) Sentences(lang i18n.Lang) []string {
	if r.Signal == "" {
		return nil
	}
	var out []string
	if len(r.byProto) > 0 {
		port := strconv.Itoa(r.port)
		for _, pr := range r.byProto {
			p := pr.proto.String()
			switch pr.rel.Basis {
			case BasisUseEntry:
				out = append(out, i18n.T(lang, "relevance.proto.common.use", p, port, usualNames(&pr.rel, lang)))
			case BasisSystemPort:
				out = append(out, i18n.T(lang, "relevance.proto.common.iana", p, port))
			default:
				out = append(out, i18n.T(lang, "relevance.proto.distinctive", p, port))
			}
		}
		// Programs per protocol: on 4444 krb524d is a udp program, and the
		// strong signal is about tcp.
		for _, pr := range r.byProto {
			if ps := pr.rel.Programs(); len(ps) > 0 {
				out = append(out, i18n.T(lang, "relevance.proto.programs", pr.proto.String(), port, strings.Join(ps, ", ")))
			}
		}
		return out
	}
	switch r.Basis {
	case BasisUseEntry:
		out = append(out, i18n.T(lang, "relevance.common.use", usualNames(r, lang)))
	case BasisSystemPort:
		out = append(out, i18n.T(lang, "relevance.common.iana"))
	default:
		out = append(out, i18n.T(lang, "relevance.distinctive"))
	}
	if p := r.Programs(); len(p) > 0 {
		out = append(out, i18n.T(lang, "relevance.programs", strings.Join(p, ", ")))
	}
	return out
}

// usualNames joins the names of r.Usual() in lang.
func usualNames(r *Relevance, lang i18n.Lang) string {
	var names []string
	for _, o := range r.Usual() {
		names = append(names, o.NameIn(lang))
	}
	return strings.Join(names, "; ")
}
