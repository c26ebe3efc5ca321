package audit

import "github.com/porthole/porthole/internal/jsonw"

// JSON forms follow docs/json.md: every field present, null for what a
// line does not say. Each shape has one definition, its AppendJSON method;
// MarshalJSON writes the same compactly. <, > and & are left alone, as in
// the listener rows (dossier.ListenerRow.AppendJSON) a finding holds.

func marshal(v interface{ AppendJSON(*jsonw.W) }) ([]byte, error) {
	var w jsonw.W
	v.AppendJSON(&w)
	return w.B, nil
}

// AppendJSON writes the reference with a null comment when there is none.
func (r *RuleRef) AppendJSON(w *jsonw.W) {
	w.ObjectStart()
	w.Key("file")
	w.String(r.File)
	w.Key("line")
	w.Int(r.Line)
	w.Key("text")
	w.String(r.Text)
	w.Key("comment")
	w.StringOrNull(r.Comment)
	w.ObjectEnd()
}

// MarshalJSON writes the reference compactly (AppendJSON).
func (r RuleRef) MarshalJSON() ([]byte, error) { return marshal(&r) }

// appendRef writes r, or null.
func appendRef(w *jsonw.W, r *RuleRef) {
	if r == nil {
		w.Null()
		return
	}
	r.AppendJSON(w)
}

// AppendJSON writes a finding: its listener is null for a baseline rule
// with no listener, and its baseline_rule null when no rule is involved.
func (f *Finding) AppendJSON(w *jsonw.W) {
	w.ObjectStart()
	w.Key("rule")
	w.String(f.Rule)
	w.Key("severity")
	w.String(f.Severity.String())
	w.Key("listener")
	if f.Listener != nil {
		f.Listener.AppendJSON(w)
	} else {
		w.Null()
	}
	w.Key("reason")
	w.String(f.Reason)
	w.Key("advice")
	w.String(f.Advice)
	w.Key("baseline_rule")
	appendRef(w, f.Baseline)
	w.ObjectEnd()
}

// MarshalJSON writes the finding compactly (AppendJSON).
func (f Finding) MarshalJSON() ([]byte, error) { return marshal(&f) }

// AppendJSON writes a listener the baseline explains, with the rule.
func (e *Explained) AppendJSON(w *jsonw.W) {
	w.ObjectStart()
	w.Key("listener")
	if e.Listener != nil {
		e.Listener.AppendJSON(w)
	} else {
		w.Null()
	}
	w.Key("baseline_rule")
	appendRef(w, e.Baseline)
	w.ObjectEnd()
}

// MarshalJSON writes the explained listener compactly (AppendJSON).
func (e Explained) MarshalJSON() ([]byte, error) { return marshal(&e) }

// AppendJSON writes a baseline line: null for every condition it leaves
// open (proto, exe, name, user, addr, netns, container, unit), and null low
// and high for a line that accepts any port or the ephemeral range.
func (r *Rule) AppendJSON(w *jsonw.W) {
	w.ObjectStart()
	w.Key("file")
	w.String(r.File)
	w.Key("line")
	w.Int(r.Line)
	w.Key("proto")
	w.StringOrNull(r.Proto.String())
	w.Key("low")
	if !r.AnyPort && !r.Ephemeral {
		w.Int(r.Low)
		w.Key("high")
		w.Int(r.High)
	} else {
		w.Null()
		w.Key("high")
		w.Null()
	}
	w.Key("any_port")
	w.Bool(r.AnyPort)
	w.Key("ephemeral")
	w.Bool(r.Ephemeral)
	for _, c := range [...]struct{ k, v string }{
		{"exe", r.Exe}, {"name", r.Name}, {"user", r.User}, {"addr", r.Addr}, {"netns", r.NetNS},
		{"container", r.Container}, {"unit", r.Unit},
	} {
		w.Key(c.k)
		w.StringOrNull(c.v)
	}
	w.Key("optional")
	w.Bool(r.Optional)
	w.Key("comment")
	w.StringOrNull(r.Comment)
	w.ObjectEnd()
}

// MarshalJSON writes the line compactly (AppendJSON).
func (r Rule) MarshalJSON() ([]byte, error) { return marshal(&r) }
