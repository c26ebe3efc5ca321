// Package intel holds what the IANA registry does not say about a port: the
// malware, backdoors, C2 frameworks and remote-access tools known to have used
// it, and its common unofficial uses (game servers, dev servers, vendor
// defaults). Every entry is written by this project, carries years, vendor
// aliases and a confidence, and cites at least one public source.
//
// The data lives in human-editable stanza files under data/ (see
// data/README.md for the format), embedded in the binary. The package is
// pure: parsing and lookups do no I/O beyond reading the embedded files.
package intel

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/ports"
)

// Kind says what an entry is. The vocabulary is fixed; each kind has a
// default Category (see Kind.Category).
type Kind string

// The kinds of entry. Threat kinds first, then dual-use tools, then uses.
const (
	Worm       Kind = "worm"       // self-propagating malware
	Backdoor   Kind = "backdoor"   // a listener planted for remote access
	Trojan     Kind = "trojan"     // malware posing as something else; old "trojan port" lists
	RAT        Kind = "rat"        // remote-access trojan with a controller GUI
	Rootkit    Kind = "rootkit"    // Unix rootkit components (rkhunter's list)
	Botnet     Kind = "botnet"     // bot herding channels (IRC and the like)
	C2         Kind = "c2"         // command-and-control framework or implant listener
	Exploit    Kind = "exploit"    // offensive or post-exploitation tooling and default listeners
	DDoS       Kind = "ddos"       // DDoS agents, reflection/amplification vectors
	Miner      Kind = "miner"      // cryptocurrency mining pools and miners
	Ransomware Kind = "ransomware" // ransomware
	RMM        Kind = "rmm"        // remote monitoring/management and remote-desktop tools
	Tunnel     Kind = "tunnel"     // tunnels and reverse proxies that cross firewalls
	Proxy      Kind = "proxy"      // forward proxies and anonymity networks
	VPN        Kind = "vpn"        // VPN software
	P2P        Kind = "p2p"        // peer-to-peer file sharing and sync
	Scanner    Kind = "scanner"    // vulnerability scanners
	GameServer Kind = "game-server"
	DevServer  Kind = "dev-server"     // development servers and debuggers
	Database   Kind = "database"       // database and data-store defaults
	Vendor     Kind = "vendor-default" // a product's default port, not in IANA or not under its name
	Unofficial Kind = "unofficial-service"
	// ScanNote explains what a scan's report on a port means where nothing
	// usually listens on that protocol (a TCP service's port probed over
	// UDP): it is a use entry, but never an occupant of the port.
	ScanNote Kind = "scan-note"
	// OSRange says which operating system hands out the ports of a range to
	// programs that ask for no particular port (the ephemeral range,
	// bindresvport's reserved ports): a listener there is whatever program
	// got the number, so it is a use entry but never an occupant.
	OSRange Kind = "os-range"
)

// Kinds lists every kind, in the order above.
var Kinds = []Kind{
	Worm, Backdoor, Trojan, RAT, Rootkit, Botnet, C2, Exploit, DDoS, Miner, Ransomware,
	RMM, Tunnel, Proxy, VPN, P2P, Scanner,
	GameServer, DevServer, Database, Vendor, Unofficial, ScanNote, OSRange,
}

// Category splits entries into threats (show them as history to weigh) and
// uses (show them as what else may be listening).
type Category string

// The two categories.
const (
	Threat Category = "threat"
	Use    Category = "use"
)

// Category returns the default category of a kind.
//
// Dual-use tools (RMM, tunnels, proxies, VPNs, P2P, scanners) default to Use:
// the software is legitimate and widely deployed, and a listener on its port
// is far more often the real product than an intrusion. Abuse is documented
// in the entry's description, and an entry whose subject is the abuse (for
// example a RAT sold as an "admin tool") sets "category: threat". Offensive
// frameworks (C2, exploit tooling) default to Threat: on a machine that is
// not a red-team box, their listener is a finding.
func (k Kind) Category() Category {
	switch k {
	case RMM, Tunnel, Proxy, VPN, P2P, Scanner, GameServer, DevServer, Database, Vendor, Unofficial, ScanNote, OSRange:
		return Use
	}
	return Threat
}

// Valid reports whether k is in the vocabulary.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Valid reports whether c is Threat or Use.
func (c Category) Valid() bool { return c == Threat || c == Use }

// Confidence says how sure the project is that the association holds.
type Confidence string

// The confidence levels.
const (
	High   Confidence = "high"
	Medium Confidence = "medium"
	Low    Confidence = "low"
)

// Rank orders confidence: high 3, medium 2, low 1, anything else 0.
func (c Confidence) Rank() int {
	switch c {
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	}
	return 0
}

// Valid reports whether c is high, medium or low.
func (c Confidence) Valid() bool { return c.Rank() > 0 }

// Source is one public document backing an entry.
type Source struct {
	Title string `json:"title"`
	URL   string `json:"url"`
	// Kind is derived from URL by data/sources.txt; "" when the table has
	// no rule for it (CheckSources reports that).
	Kind SourceKind `json:"kind,omitempty"`
}

// PortRef is a port or a range of ports on one protocol. Proto is
// ports.ProtoNone for "any protocol".
type PortRef struct {
	Proto ports.Proto `json:"-"`
	Low   int         `json:"low"`
	High  int         `json:"high"`
}

// Contains reports whether port lies in the reference's range.
func (r PortRef) Contains(port int) bool { return port >= r.Low && port <= r.High }

// String renders the reference in the data-file syntax: "tcp/2556",
// "any/12345", "tcp/6666-6669".
func (r PortRef) String() string {
	p := r.Proto.String()
	if p == "" {
		p = "any"
	}
	if r.Low == r.High {
		return p + "/" + strconv.Itoa(r.Low)
	}
	return p + "/" + strconv.Itoa(r.Low) + "-" + strconv.Itoa(r.High)
}

// MarshalJSON renders the reference as its string form.
func (r PortRef) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

// Years is the span in which an association was seen. A single year has
// From == To; an open span ("2019-", still seen) has To == 0; the zero value
// means the entry gives no years.
type Years struct {
	From int
	To   int
}

// Open reports whether the span is still running ("2019-").
func (y Years) Open() bool { return y.From != 0 && y.To == 0 }

// Contains reports whether year lies in the span; an open span runs to any
// later year.
func (y Years) Contains(year int) bool {
	return y.From != 0 && year >= y.From && (y.To == 0 || year <= y.To)
}

// String renders the span as the data files write it: "2004", "2003-2005",
// "2019-", or "" for no years.
func (y Years) String() string {
	switch {
	case y.From == 0:
		return ""
	case y.To == 0:
		return strconv.Itoa(y.From) + "-"
	case y.To == y.From:
		return strconv.Itoa(y.From)
	}
	return strconv.Itoa(y.From) + "-" + strconv.Itoa(y.To)
}

// MarshalJSON renders the span as its string form.
func (y Years) MarshalJSON() ([]byte, error) { return json.Marshal(y.String()) }

// UnmarshalJSON reads the string form written by MarshalJSON.
func (y *Years) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, msg := parseYears(s, maxYear())
	if msg != "" {
		return fmt.Errorf("years %q: %s", s, msg)
	}
	*y = v
	return nil
}

// Entry is one stanza of the data files.
type Entry struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	NameKO        string     `json:"name_ko,omitempty"` // Korean rendering of Name; "" when Name reads the same
	Aliases       []string   `json:"aliases,omitempty"`
	Kind          Kind       `json:"kind"`
	Category      Category   `json:"category"`
	Ports         []PortRef  `json:"ports"`
	Years         Years      `json:"years"`
	Confidence    Confidence `json:"confidence"`
	Description   string     `json:"description"`
	DescriptionKO string     `json:"description_ko,omitempty"`
	Legit         string     `json:"legit,omitempty"`    // products and history, never a registry fact
	LegitKO       string     `json:"legit_ko,omitempty"` // Korean rendering of Legit
	Programs      []string   `json:"programs,omitempty"` // executable base names that usually listen there (use entries)
	Sources       []Source   `json:"sources"`
	File          string     `json:"file"` // data file the stanza came from
	Line          int        `json:"line"` // line where the stanza starts
}

// Covers reports whether the entry covers port, and on which protocol: the
// protocol of the covering references when they agree, ports.ProtoNone when
// a reference is for any protocol or when several protocols cover the port
// (an entry listing tcp/2556 and udp/2556 is about the number, whatever the
// transport).
func (e *Entry) Covers(port int) (ports.Proto, bool) {
	found := false
	var proto ports.Proto
	for _, r := range e.Ports {
		if !r.Contains(port) {
			continue
		}
		if !found {
			found, proto = true, r.Proto
		} else if proto != r.Proto {
			proto = ports.ProtoNone
		}
	}
	return proto, found
}

// IsThreat reports whether the entry's category is Threat.
func (e *Entry) IsThreat() bool { return e.Category == Threat }

// IsOccupant reports whether the entry names something that listens on its
// ports: every use entry except a note (see IsNote).
func (e *Entry) IsOccupant() bool { return e.Category == Use && !e.IsNote() }

// IsNote reports whether the entry explains a port without naming what
// listens there: a scan note or an operating system's port range. A note
// documents no port for coverage figures.
func (e *Entry) IsNote() bool { return e.Kind.IsNote() }

// IsNote reports whether entries of kind k are notes (see Entry.IsNote).
func (k Kind) IsNote() bool { return k == ScanNote || k == OSRange }

// Validate checks an entry on its own: known kind, category and confidence,
// ports in 0..65535 with low <= high, a plausible span of years, a
// description, and at least one source with an absolute http(s) URL. The
// error names the first offending key.
func (e *Entry) Validate() error {
	return e.validate(maxYear())
}

func (e *Entry) validate(maxYear int) error {
	bad := func(key, format string, args ...any) error {
		return &Error{File: e.File, Line: e.Line, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if msg := checkID(e.ID); msg != "" {
		return bad("id", "%s", msg)
	}
	if strings.TrimSpace(e.Name) == "" {
		return bad("name", "missing")
	}
	if e.NameKO != "" && strings.TrimSpace(e.NameKO) == "" {
		return bad("name-ko", "empty value")
	}
	if !e.Kind.Valid() {
		return bad("kind", "unknown kind %q", e.Kind)
	}
	if !e.Category.Valid() {
		return bad("category", "unknown category %q (threat or use)", e.Category)
	}
	if len(e.Ports) == 0 {
		return bad("ports", "missing")
	}
	for _, r := range e.Ports {
		if r.Low < 0 || r.High > ports.Max || r.Low > r.High {
			return bad("ports", "bad port range %d-%d", r.Low, r.High)
		}
		if r.Proto > ports.DCCP {
			return bad("ports", "bad protocol")
		}
	}
	if e.Years != (Years{}) {
		if e.Years.From < minYear || e.Years.From > maxYear ||
			(e.Years.To != 0 && (e.Years.To < e.Years.From || e.Years.To > maxYear)) {
			return bad("years", "implausible years %d-%d", e.Years.From, e.Years.To)
		}
	}
	if !e.Confidence.Valid() {
		return bad("confidence", "unknown confidence %q (high, medium or low)", e.Confidence)
	}
	if strings.TrimSpace(e.Description) == "" {
		return bad("description", "missing")
	}
	for _, name := range e.Programs {
		if name == "" || strings.ContainsAny(name, "/ \t") {
			return bad("programs", "bad program name %q", name)
		}
	}
	if len(e.Sources) == 0 {
		return bad("source", "missing: every entry needs at least one source")
	}
	for _, s := range e.Sources {
		if strings.TrimSpace(s.Title) == "" {
			return bad("source", "a source needs a title before the |")
		}
		if msg := checkURL(s.URL); msg != "" {
			return bad("source", "%s", msg)
		}
	}
	return nil
}

// Error is a problem in a data file. Its message reads
// "file:line: key: message".
type Error struct {
	File string
	Line int
	Key  string // the offending key, "" when the line has none
	Msg  string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}
