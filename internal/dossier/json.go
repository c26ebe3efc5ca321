package dossier

import (
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/jsonw"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
)

// The JSON forms below follow docs/json.md: every field is always present,
// an empty or unknown string is null (never ""), a port is a number (a
// registry row's span is low and high), and the protocol is "proto"
// everywhere. The Go fields keep their types for the text and web
// renderers.

// str is s, or null when s is empty.
func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// MarshalJSON writes the verdict with null for the parts that do not apply.
func (v Verdict) MarshalJSON() ([]byte, error) {
	return jsonw.Marshal(struct {
		Registry string  `json:"registry"`
		Name     *string `json:"name"`
		Summary  *string `json:"summary"`
		Threat   *string `json:"threat"`
		Past     bool    `json:"past"`
		Use      *string `json:"use"`
	}{v.Registry, str(v.Name), str(v.Summary), str(v.Threat), v.Past, str(v.Use)})
}

// MarshalJSON writes a registry row: its span as low and high (null for a
// row without a port), and null for every empty cell.
func (s Service) MarshalJSON() ([]byte, error) {
	var low, high *int
	if s.Low >= 0 && s.Port != "" {
		low, high = &s.Low, &s.High
	}
	fn := s.Footnotes
	if fn == nil {
		fn = []int{}
	}
	return jsonw.Marshal(struct {
		Name            *string `json:"name"`
		Proto           *string `json:"proto"`
		Low             *int    `json:"low"`
		High            *int    `json:"high"`
		Kind            string  `json:"kind"`
		Description     *string `json:"description"`
		Assignee        *string `json:"assignee"`
		Contact         *string `json:"contact"`
		Registered      *string `json:"registered"`
		Modified        *string `json:"modified"`
		Reference       *string `json:"reference"`
		ServiceCode     *string `json:"service_code"`
		UnauthorizedUse *string `json:"unauthorized_use"`
		Notes           *string `json:"notes"`
		Footnotes       []int   `json:"footnotes"`
	}{str(s.Name), str(s.Protocol), low, high, s.Kind, str(s.Description), str(s.Assignee), str(s.Contact),
		str(s.Registered), str(s.Modified), str(s.Reference), str(s.ServiceCode), str(s.UnauthorizedUse),
		str(s.Notes), fn})
}

// MarshalJSON writes an intel entry as it bears on the port; proto is null
// when the entry covers every protocol.
func (in Intel) MarshalJSON() ([]byte, error) {
	aliases, fn := in.Aliases, in.Footnotes
	if aliases == nil {
		aliases = []string{}
	}
	if fn == nil {
		fn = []int{}
	}
	type source struct {
		Title string  `json:"title"`
		URL   string  `json:"url"`
		Kind  *string `json:"kind"`
	}
	src := make([]source, len(in.Sources))
	for i, s := range in.Sources {
		src[i] = source{s.Title, s.URL, str(string(s.Kind))}
	}
	return jsonw.Marshal(struct {
		ID            string   `json:"id"`
		Name          string   `json:"name"`
		Aliases       []string `json:"aliases"`
		Kind          string   `json:"kind"`
		Category      string   `json:"category"`
		Proto         *string  `json:"proto"`
		Years         *string  `json:"years"`
		Confidence    string   `json:"confidence"`
		Description   string   `json:"description"`
		DescriptionKO *string  `json:"description_ko"`
		Legit         *string  `json:"legit"`
		Sources       any      `json:"sources"`
		Footnotes     []int    `json:"footnotes"`
	}{in.ID, in.Name, aliases, in.Kind, in.Category, str(in.Protocol), str(in.Years), in.Confidence,
		in.Description, str(in.DescriptionKO), str(in.Legit), src, fn})
}

// MarshalJSON writes a neighbour with a null name when it has none.
func (n Neighbour) MarshalJSON() ([]byte, error) {
	return jsonw.Marshal(struct {
		Port int     `json:"port"`
		Name *string `json:"name"`
	}{n.Port, str(n.Name)})
}

// MarshalJSON writes the listener as its Row.
func (l Listener) MarshalJSON() ([]byte, error) { return l.Row().MarshalJSON() }

// AppendJSON writes the listener as its Row.
func (l *Listener) AppendJSON(w *jsonw.W) {
	r := l.Row()
	r.AppendJSON(w)
}

// UnmarshalJSON reads a listener as MarshalJSON writes it (tests read
// porthole's output back); a protocol or an address it cannot read is an
// error. A null uid is -1, unknown, as in Listener.
func (l *Listener) UnmarshalJSON(b []byte) error {
	r := ListenerRow{UID: -1}
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	return r.listener(l)
}

// listener sets l to the listener r describes.
func (r *ListenerRow) listener(l *Listener) error {
	proto, ok := ports.ParseProto(r.Proto)
	if !ok {
		return fmt.Errorf("listener: unknown proto %q", clip(r.Proto))
	}
	var addr netip.Addr
	if r.Address != "" {
		a, err := netip.ParseAddr(r.Address)
		if err != nil {
			return fmt.Errorf("listener: address %q: not an IP address", clip(r.Address))
		}
		addr = a
	}
	*l = Listener{
		Proto: proto, Family: r.Family, Addr: addr, Port: r.Port, PID: r.PID, PIDs: r.PIDs,
		OwnerUnknown: r.OwnerUnknown, Process: r.Process, UID: r.UID, User: r.User, Exe: r.Exe, ExeDeleted: r.ExeDeleted,
		Cmdline: r.Cmdline, NetNS: r.NetNS, NetNSName: r.NetNSName, HostNetNS: r.HostNetNS, Container: r.Container,
		ContainerName: r.ContainerName, Unit: r.Unit, DualStack: r.DualStack, Inode: r.Inode,
		Service: r.Service, Status: registry.Status(r.Status), Threat: r.Threat, ThreatConfidence: intel.Confidence(r.ThreatConfidence),
		ThreatID: r.ThreatID, ThreatKind: intel.Kind(r.ThreatKind), Use: r.Use, Expected: r.Expected,
		ExpectedPrograms: r.ExpectedPrograms, ThreatSignal: r.ThreatSignal, Flag: r.Flag, FlagSeverity: r.FlagSeverity,
	}
	return nil
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// AppendJSON writes a listener, the one definition of its JSON form
// (docs/json.md): pid, uid, netns and inode are null when unknown (uid 0 is
// root, never "unknown"), pids lists every holder ([] when none is
// visible), cmdline, expected and expected_programs are always lists, and
// every empty string is null. <, > and & are left alone.
func (r *ListenerRow) AppendJSON(w *jsonw.W) {
	w.ObjectStart()
	w.Key("proto")
	w.String(r.Proto)
	w.Key("family")
	w.Int(r.Family)
	w.Key("address")
	w.String(r.Address)
	w.Key("port")
	w.Int(r.Port)
	w.Key("pid")
	if r.PID != nil {
		w.Int(*r.PID)
	} else {
		w.Null()
	}
	w.Key("pids")
	switch {
	case len(r.PIDs) > 0:
		w.Ints(r.PIDs)
	case r.PID != nil:
		w.Ints([]int{*r.PID})
	default:
		w.Ints(nil)
	}
	w.Key("owner_unknown")
	w.StringOrNull(r.OwnerUnknown.String())
	w.Key("owner_unknown_reason")
	w.StringOrNull(r.OwnerUnknownReason)
	w.Key("process")
	w.StringOrNull(r.Process)
	w.Key("uid")
	if r.UID >= 0 {
		w.Int(r.UID)
	} else {
		w.Null()
	}
	w.Key("user")
	w.StringOrNull(r.User)
	w.Key("exe")
	w.StringOrNull(r.Exe)
	w.Key("exe_deleted")
	w.Bool(r.ExeDeleted)
	w.Key("cmdline")
	w.Strings(r.Cmdline)
	w.Key("netns")
	uintOrNull(w, r.NetNS)
	w.Key("netns_name")
	w.StringOrNull(r.NetNSName)
	w.Key("host_netns")
	w.Bool(r.HostNetNS)
	w.Key("container")
	w.StringOrNull(r.Container)
	w.Key("container_name")
	w.StringOrNull(r.ContainerName)
	w.Key("unit")
	w.StringOrNull(r.Unit)
	w.Key("dual_stack")
	w.Bool(r.DualStack)
	w.Key("loopback")
	w.Bool(r.Loopback)
	w.Key("inode")
	uintOrNull(w, r.Inode)
	w.Key("service")
	w.StringOrNull(r.Service)
	w.Key("status")
	w.String(r.Status)
	w.Key("threat")
	w.StringOrNull(r.Threat)
	w.Key("threat_confidence")
	w.StringOrNull(r.ThreatConfidence)
	w.Key("threat_id")
	w.StringOrNull(r.ThreatID)
	w.Key("threat_kind")
	w.StringOrNull(r.ThreatKind)
	w.Key("use")
	w.StringOrNull(r.Use)
	w.Key("expected")
	w.Strings(r.Expected)
	w.Key("expected_programs")
	w.Strings(r.ExpectedPrograms)
	w.Key("threat_signal")
	w.StringOrNull(string(r.ThreatSignal))
	w.Key("flag")
	w.StringOrNull(r.Flag)
	w.Key("flag_severity")
	w.StringOrNull(r.FlagSeverity)
	w.ObjectEnd()
}

// uintOrNull writes n, or null for 0 (unknown).
func uintOrNull(w *jsonw.W, n uint64) {
	if n == 0 {
		w.Null()
		return
	}
	w.Uint(n)
}

// MarshalJSON writes the row compactly (AppendJSON).
func (r ListenerRow) MarshalJSON() ([]byte, error) {
	var w jsonw.W
	r.AppendJSON(&w)
	return w.B, nil
}

// MarshalJSON writes the relevance with null signal and basis when the
// port has no threat on record.
func (r Relevance) MarshalJSON() ([]byte, error) {
	exp := r.Expected
	if exp == nil {
		exp = []Occupant{}
	}
	return jsonw.Marshal(struct {
		Expected []Occupant `json:"expected"`
		Signal   *string    `json:"threat_signal"`
		Basis    *string    `json:"threat_signal_basis"`
	}{exp, str(string(r.Signal)), str(r.Basis)})
}

// MarshalJSON writes an occupant with its programs always a list.
func (o Occupant) MarshalJSON() ([]byte, error) {
	progs := o.Programs
	if progs == nil {
		progs = []string{}
	}
	return jsonw.Marshal(struct {
		ID         string   `json:"id"`
		Name       string   `json:"name"`
		Confidence string   `json:"confidence"`
		Programs   []string `json:"programs"`
		Narrow     bool     `json:"narrow"`
	}{o.ID, o.Name, o.Confidence, progs, o.Narrow})
}

// MarshalJSON writes a footnote; kind is null for the registry's own
// references.
func (f Footnote) MarshalJSON() ([]byte, error) {
	return jsonw.Marshal(struct {
		N     int     `json:"n"`
		Title string  `json:"title"`
		URL   string  `json:"url"`
		Kind  *string `json:"kind"`
	}{f.N, f.Title, f.URL, str(f.Kind)})
}
