package dossier

import (
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
)

// ListenerRow is one live listener as `porthole who` and `porthole list`
// print it, `--json` emits it, the audit judges it and the web page shows
// it: the socket, its owner, and what the registry and intel say about the
// port. PID is null (never 0) when no owner is visible, and
// OwnerUnknownReason says why.
type ListenerRow struct {
	Proto              string   `json:"proto"`
	Family             int      `json:"family"`
	Address            string   `json:"address"`
	Port               int      `json:"port"`
	PID                *int     `json:"pid"`
	PIDs               []int    `json:"pids,omitempty"` // every process holding the socket, when several do
	OwnerUnknownReason string   `json:"owner_unknown_reason"`
	Process            string   `json:"process"`
	UID                int      `json:"uid"` // the socket's owner uid; -1 when unknown
	User               string   `json:"user"`
	Exe                string   `json:"exe"`
	ExeDeleted         bool     `json:"exe_deleted"`
	Cmdline            []string `json:"cmdline"`
	NetNS              uint64   `json:"netns"`
	HostNetNS          bool     `json:"host_netns"`
	Container          string   `json:"container"`
	Unit               string   `json:"unit"`
	DualStack          bool     `json:"dual_stack"`
	Loopback           bool     `json:"loopback"`
	Inode              uint64   `json:"inode,omitempty"`
	// Service is the IANA name for the port and protocol ("" if none);
	// Status is the registry's status for them.
	Service string `json:"service"`
	Status  string `json:"status"`
	// Threat is the name of the strongest intel threat on record for the
	// port and protocol ("" if none), with its confidence and id.
	Threat           string `json:"threat"`
	ThreatConfidence string `json:"threat_confidence,omitempty"`
	ThreatID         string `json:"threat_id,omitempty"`
	// Use is the name of an unofficial use on record for the port, if any.
	Use string `json:"use,omitempty"`
}

// Annotate turns listeners into rows, joined with the registry and intel
// (db may be nil).
func Annotate(ls []sockets.Listener, x *registry.Index, db *intel.DB) []ListenerRow {
	rows := make([]ListenerRow, 0, len(ls))
	type key struct {
		port  int
		proto string
	}
	names := map[key][3]string{}
	for _, l := range ls {
		r := ListenerRow{
			Proto: l.Proto, Family: l.Family, Address: l.Addr.String(), Port: l.Port,
			OwnerUnknownReason: l.OwnerUnknownReason, UID: l.UID, NetNS: l.NetNS, HostNetNS: l.HostNetNS,
			DualStack: l.DualStack, Loopback: l.Addr.IsLoopback(), Inode: l.Inode, Cmdline: []string{},
		}
		if len(l.Owners) > 0 {
			o := l.Owners[0]
			pid := o.PID
			r.PID = &pid
			r.Process, r.Exe, r.ExeDeleted, r.User = o.Name, o.Exe, o.ExeDeleted, o.User
			r.Container, r.Unit = o.Container, o.Unit
			if o.Cmdline != nil {
				r.Cmdline = o.Cmdline
			}
			if r.UID < 0 {
				r.UID = o.UID
			}
			if len(l.Owners) > 1 {
				for _, o := range l.Owners {
					r.PIDs = append(r.PIDs, o.PID)
				}
			}
			r.OwnerUnknownReason = ""
		}
		k := key{l.Port, l.Proto}
		ann, ok := names[k]
		if !ok {
			ann = annotate(l.Port, l.Proto, x, db)
			names[k] = ann
		}
		r.Service, r.Status = ann[0], string(x.StatusOf(l.Port, protoOf(l.Proto)))
		if ann[1] != "" {
			r.Threat = ann[1]
			if m := strongestThreat(l.Port, l.Proto, db); m != nil {
				r.ThreatConfidence, r.ThreatID = string(m.Entry.Confidence), m.Entry.ID
			}
		}
		r.Use = ann[2]
		rows = append(rows, r)
	}
	return rows
}

func protoOf(s string) ports.Proto {
	p, _ := ports.ParseProto(s)
	return p
}

// annotate returns the IANA name, the strongest threat's name and the first
// use's name for a port and protocol.
func annotate(port int, proto string, x *registry.Index, db *intel.DB) [3]string {
	var out [3]string
	p := protoOf(proto)
	for _, r := range x.Port(port) {
		if r.Name != "" && (r.Proto == p || r.Proto == ports.ProtoNone) {
			out[0] = r.Name
			break
		}
	}
	if m := strongestThreat(port, proto, db); m != nil {
		out[1] = m.Entry.Name
	}
	if db != nil {
		for _, m := range db.ForPort(port) {
			if !m.Entry.IsThreat() && (m.Proto == ports.ProtoNone || m.Proto == p) {
				out[2] = m.Entry.Name
				break
			}
		}
	}
	return out
}

// strongestThreat is the first intel threat on record for port on proto
// ("tcp"/"udp"), in intel's order (confidence first), or nil.
func strongestThreat(port int, proto string, db *intel.DB) *intel.Match {
	if db == nil {
		return nil
	}
	p := protoOf(proto)
	for _, m := range db.ForPort(port) {
		if m.Entry.IsThreat() && (m.Proto == ports.ProtoNone || m.Proto == p) {
			return &m
		}
	}
	return nil
}
