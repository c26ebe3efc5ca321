package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/porthole/porthole/internal/ports"
)

// ErrTooLarge is returned by Decode for a body over MaxReportBytes.
var ErrTooLarge = errors.New("report larger than the limit")

// wireReport is the JSON form of a Report (version 1):
//
//	{"version": 1, "host": "web-1", "agent": "9f…", "boot": "…", "group": "web", "seq": 7,
//	 "kind": "delta", "interval": 30,
//	 "added": [LISTENER…], "removed": [LISTENER…], "changed": [LISTENER…]}
//
// A full report has "listeners" instead of the three delta lists; a
// heartbeat has none. interval is in seconds.
type wireReport struct {
	Version   int            `json:"version"`
	Host      string         `json:"host"`
	Agent     string         `json:"agent"`
	Boot      string         `json:"boot,omitempty"`
	Group     string         `json:"group,omitempty"`
	Seq       int64          `json:"seq"`
	Kind      string         `json:"kind"`
	Interval  int64          `json:"interval"`
	Listeners []wireListener `json:"listeners,omitempty"`
	Added     []wireListener `json:"added,omitempty"`
	Removed   []wireListener `json:"removed,omitempty"`
	Changed   []wireListener `json:"changed,omitempty"`
	Findings  *[]wireFinding `json:"findings,omitempty"` // absent: unchanged; [] none
}

// wireFinding is an audit finding; the listener fields are absent for a
// finding about no listener.
type wireFinding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Proto    string `json:"proto,omitempty"`
	Address  string `json:"address,omitempty"`
	Port     int64  `json:"port,omitempty"`
	NetNS    string `json:"netns,omitempty"`
	Reason   string `json:"reason"`
}

// wireListener is a listener's JSON form; its names match `list --json`. pid
// and uid are null when unknown.
type wireListener struct {
	Proto     string `json:"proto"`
	Address   string `json:"address"`
	Port      int64  `json:"port"`
	NetNS     string `json:"netns,omitempty"`
	PID       *int64 `json:"pid"`
	UID       *int64 `json:"uid"`
	User      string `json:"user,omitempty"`
	Process   string `json:"process,omitempty"`
	Exe       string `json:"exe,omitempty"`
	Container string `json:"container,omitempty"`
}

// Encode returns the JSON form of r. It does not validate r.
func Encode(r Report) ([]byte, error) {
	w := wireReport{
		Version: Version, Host: r.Host, Agent: r.Agent, Boot: r.Boot, Group: r.Group, Seq: int64(r.Seq), Kind: r.Kind.String(),
		Interval:  int64(r.Interval / time.Second),
		Listeners: toWire(r.Listeners), Added: toWire(r.Added), Removed: toWire(r.Removed), Changed: toWire(r.Changed),
	}
	if r.FindingsSet {
		fs := make([]wireFinding, len(r.Findings))
		for i, f := range r.Findings {
			fs[i] = wireFinding{Rule: f.Rule, Severity: f.Severity, NetNS: f.NetNS, Reason: f.Reason}
			if f.Proto != ports.ProtoNone {
				fs[i].Proto, fs[i].Address, fs[i].Port = f.Proto.String(), f.Addr.String(), int64(f.Port)
			}
		}
		w.Findings = &fs
	}
	return json.Marshal(w)
}

func toWire(ls []Listener) []wireListener {
	if len(ls) == 0 {
		return nil
	}
	out := make([]wireListener, len(ls))
	for i, l := range ls {
		w := wireListener{Proto: l.Proto.String(), Address: l.Addr.String(), Port: int64(l.Port), NetNS: l.NetNS,
			User: l.User, Process: l.Process, Exe: l.Exe, Container: l.Container}
		if l.PID > 0 {
			pid := int64(l.PID)
			w.PID = &pid
		}
		if l.UID >= 0 {
			uid := int64(l.UID)
			w.UID = &uid
		}
		out[i] = w
	}
	return out
}

// Decode reads one report from rd: at most MaxReportBytes of JSON holding
// one object of the current version with no unknown fields and nothing after
// it. The report is validated; every error but ErrTooLarge wraps ErrInvalid
// and names the field at fault.
func Decode(rd io.Reader) (Report, error) {
	b, err := io.ReadAll(io.LimitReader(rd, MaxReportBytes+1))
	if err != nil {
		return Report{}, fmt.Errorf("reading report: %w", err)
	}
	if len(b) > MaxReportBytes {
		return Report{}, fmt.Errorf("%w (%d bytes)", ErrTooLarge, MaxReportBytes)
	}
	return DecodeBytes(b)
}

// DecodeBytes is Decode of a body already read.
func DecodeBytes(b []byte) (Report, error) {
	if len(b) > MaxReportBytes {
		return Report{}, fmt.Errorf("%w (%d bytes)", ErrTooLarge, MaxReportBytes)
	}
	// encoding/json would quietly replace invalid UTF-8 with U+FFFD.
	if !utf8.Valid(b) {
		return Report{}, fmt.Errorf("%w: the body is not valid UTF-8", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w wireReport
	if err := dec.Decode(&w); err != nil {
		return Report{}, fmt.Errorf("%w: %s", ErrInvalid, jsonError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Report{}, fmt.Errorf("%w: data after the report object", ErrInvalid)
	}
	if w.Version != Version {
		return Report{}, fmt.Errorf("%w: version: %d, this server reads version %d", ErrInvalid, w.Version, Version)
	}
	if w.Seq < 1 || w.Seq > MaxSeq {
		return Report{}, fmt.Errorf("%w: seq: %d outside 1–%d", ErrInvalid, w.Seq, int64(MaxSeq))
	}
	if w.Interval < int64(MinInterval/time.Second) || w.Interval > int64(MaxInterval/time.Second) {
		return Report{}, fmt.Errorf("%w: interval: %d seconds outside %d–%d", ErrInvalid, w.Interval,
			int64(MinInterval/time.Second), int64(MaxInterval/time.Second))
	}
	kind, ok := ParseKind(w.Kind)
	if !ok {
		return Report{}, fmt.Errorf("%w: kind: %q is not full, delta or heartbeat", ErrInvalid, w.Kind)
	}
	r := Report{Host: w.Host, Agent: w.Agent, Boot: w.Boot, Group: w.Group, Seq: uint64(w.Seq), Kind: kind,
		Interval: time.Duration(w.Interval) * time.Second}
	if n := len(w.Listeners) + len(w.Added) + len(w.Removed) + len(w.Changed); n > MaxListeners {
		return Report{}, fmt.Errorf("%w: listeners: %d in one report, more than %d", ErrInvalid, n, MaxListeners)
	}
	for _, l := range []struct {
		name string
		in   []wireListener
		out  *[]Listener
	}{{"listeners", w.Listeners, &r.Listeners}, {"added", w.Added, &r.Added}, {"removed", w.Removed, &r.Removed}, {"changed", w.Changed, &r.Changed}} {
		if len(l.in) > 0 {
			*l.out = make([]Listener, 0, len(l.in))
		}
		for i, wl := range l.in {
			x, err := fromWire(wl, "")
			if err != nil {
				// Again, naming the field: only an error spells it out.
				_, err = fromWire(wl, fmt.Sprintf("%s[%d]", l.name, i))
				return Report{}, err
			}
			*l.out = append(*l.out, x)
		}
	}
	if w.Findings != nil {
		if len(*w.Findings) > MaxFindings {
			return Report{}, fmt.Errorf("%w: findings: %d, more than %d", ErrInvalid, len(*w.Findings), MaxFindings)
		}
		r.FindingsSet = true
		for i, wf := range *w.Findings {
			field := fmt.Sprintf("findings[%d]", i)
			f := Finding{Rule: wf.Rule, Severity: wf.Severity, Reason: wf.Reason}
			if wf.Proto != "" || wf.Address != "" || wf.Port != 0 || wf.NetNS != "" {
				l, err := fromWire(wireListener{Proto: wf.Proto, Address: wf.Address, Port: wf.Port, NetNS: wf.NetNS}, field)
				if err != nil {
					return Report{}, err
				}
				f.Key = l.Key
			}
			r.Findings = append(r.Findings, f)
		}
	}
	if err := r.Validate(); err != nil {
		return Report{}, err
	}
	return r, nil
}

func fromWire(w wireListener, field string) (Listener, error) {
	proto, ok := ports.ParseProto(w.Proto)
	if !ok || proto == ports.ProtoNone || w.Proto != proto.String() {
		return Listener{}, fmt.Errorf("%w: %s.proto: %q is not tcp, udp, sctp or dccp", ErrInvalid, field, w.Proto)
	}
	addr, err := netip.ParseAddr(w.Address)
	if err != nil {
		return Listener{}, fmt.Errorf("%w: %s.address: %q is not an IP address", ErrInvalid, field, w.Address)
	}
	// One spelling per address, so that one listener has one key.
	if addr.String() != w.Address {
		return Listener{}, fmt.Errorf("%w: %s.address: %q is not in canonical form (%q)", ErrInvalid, field, w.Address, addr.String())
	}
	if w.Port < 0 || w.Port > 65535 {
		return Listener{}, fmt.Errorf("%w: %s.port: %d outside 0–65535", ErrInvalid, field, w.Port)
	}
	l := Listener{Key: Key{Proto: proto, Addr: addr, Port: uint16(w.Port), NetNS: w.NetNS},
		Owner: Owner{UID: -1, User: w.User, Process: w.Process, Exe: w.Exe, Container: w.Container}}
	if w.PID != nil {
		if *w.PID < 1 || *w.PID > MaxPID {
			return Listener{}, fmt.Errorf("%w: %s.pid: %d outside 1–%d (null when unknown)", ErrInvalid, field, *w.PID, int64(MaxPID))
		}
		l.PID = int(*w.PID)
	}
	if w.UID != nil {
		if *w.UID < 0 || *w.UID > MaxUID {
			return Listener{}, fmt.Errorf("%w: %s.uid: %d outside 0–%d (null when unknown)", ErrInvalid, field, *w.UID, int64(MaxUID))
		}
		l.UID = int(*w.UID)
	}
	return l, l.Validate(field)
}

// jsonError phrases a decoding error with the JSON field it concerns.
func jsonError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("%s: a JSON %s where %s was expected", te.Field, te.Value, jsonKind(te.Type.Kind().String()))
		}
		return fmt.Sprintf("a JSON %s where an object was expected", te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.EOF):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	return err.Error()
}

func jsonKind(k string) string {
	switch k {
	case "int64", "int", "uint64":
		return "an integer"
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "ptr":
		return "an object"
	}
	return k
}
