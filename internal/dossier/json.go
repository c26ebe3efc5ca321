package dossier

import (
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/porthole/porthole/internal/intel"
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
	return json.Marshal(struct {
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
	return json.Marshal(struct {
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
	return json.Marshal(struct {
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
	return json.Marshal(struct {
		Port int     `json:"port"`
		Name *string `json:"name"`
	}{n.Port, str(n.Name)})
}

// MarshalJSON writes the listener as its Row.
func (l Listener) MarshalJSON() ([]byte, error) { return l.Row().MarshalJSON() }

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

// MarshalJSON writes a listener: pid, uid, netns and inode are null when
// unknown (uid 0 is root, never "unknown"), pids lists every holder ([] when
// none is visible), and every empty string is null.
func (r ListenerRow) MarshalJSON() ([]byte, error) {
	var uid *int
	if r.UID >= 0 {
		uid = &r.UID
	}
	pids := r.PIDs
	if len(pids) == 0 {
		pids = []int{}
		if r.PID != nil {
			pids = []int{*r.PID}
		}
	}
	var netns, inode *uint64
	if r.NetNS != 0 {
		netns = &r.NetNS
	}
	if r.Inode != 0 {
		inode = &r.Inode
	}
	cmd := r.Cmdline
	if cmd == nil {
		cmd = []string{}
	}
	expected, programs := r.Expected, r.ExpectedPrograms
	if expected == nil {
		expected = []string{}
	}
	if programs == nil {
		programs = []string{}
	}
	return json.Marshal(listenerJSON{
		Proto: r.Proto, Family: r.Family, Address: r.Address, Port: r.Port, PID: r.PID, PIDs: pids,
		OwnerUnknown: str(r.OwnerUnknown.String()), OwnerUnknownReason: str(r.OwnerUnknownReason), Process: str(r.Process), UID: uid, User: str(r.User),
		Exe: str(r.Exe), ExeDeleted: r.ExeDeleted, Cmdline: cmd, NetNS: netns, NetNSName: str(r.NetNSName),
		HostNetNS: r.HostNetNS, Container: str(r.Container), ContainerName: str(r.ContainerName), Unit: str(r.Unit), DualStack: r.DualStack,
		Loopback: r.Loopback, Inode: inode, Service: str(r.Service), Status: r.Status, Threat: str(r.Threat),
		ThreatConfidence: str(r.ThreatConfidence), ThreatID: str(r.ThreatID), ThreatKind: str(r.ThreatKind),
		Use: str(r.Use), Expected: expected, ExpectedPrograms: programs, ThreatSignal: str(string(r.ThreatSignal)),
		Flag: str(r.Flag), FlagSeverity: str(r.FlagSeverity),
	})
}

type listenerJSON struct {
	Proto              string   `json:"proto"`
	Family             int      `json:"family"`
	Address            string   `json:"address"`
	Port               int      `json:"port"`
	PID                *int     `json:"pid"`
	PIDs               []int    `json:"pids"`
	OwnerUnknown       *string  `json:"owner_unknown"`
	OwnerUnknownReason *string  `json:"owner_unknown_reason"`
	Process            *string  `json:"process"`
	UID                *int     `json:"uid"`
	User               *string  `json:"user"`
	Exe                *string  `json:"exe"`
	ExeDeleted         bool     `json:"exe_deleted"`
	Cmdline            []string `json:"cmdline"`
	NetNS              *uint64  `json:"netns"`
	NetNSName          *string  `json:"netns_name"`
	HostNetNS          bool     `json:"host_netns"`
	Container          *string  `json:"container"`
	ContainerName      *string  `json:"container_name"`
	Unit               *string  `json:"unit"`
	DualStack          bool     `json:"dual_stack"`
	Loopback           bool     `json:"loopback"`
	Inode              *uint64  `json:"inode"`
	Service            *string  `json:"service"`
	Status             string   `json:"status"`
	Threat             *string  `json:"threat"`
	ThreatConfidence   *string  `json:"threat_confidence"`
	ThreatID           *string  `json:"threat_id"`
	ThreatKind         *string  `json:"threat_kind"`
	Use                *string  `json:"use"`
	Expected           []string `json:"expected"`
	ExpectedPrograms   []string `json:"expected_programs"`
	ThreatSignal       *string  `json:"threat_signal"`
	Flag               *string  `json:"flag"`
	FlagSeverity       *string  `json:"flag_severity"`
}

// MarshalJSON writes the relevance with null signal and basis when the
// port has no threat on record.
func (r Relevance) MarshalJSON() ([]byte, error) {
	exp := r.Expected
	if exp == nil {
		exp = []Occupant{}
	}
	return json.Marshal(struct {
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
	return json.Marshal(struct {
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
	return json.Marshal(struct {
		N     int     `json:"n"`
		Title string  `json:"title"`
		URL   string  `json:"url"`
		Kind  *string `json:"kind"`
	}{f.N, f.Title, f.URL, str(f.Kind)})
}
