// Package dossier joins the sources porthole knows — the IANA registry, the
// project's intel and (when the caller supplies it) this machine — into one
// view model per port. The text and JSON renderers of the CLI, the web pages
// and the JSON API all render a Dossier, so they cannot disagree. Every
// sentence is computed from data here or taken from a cited intel entry.
package dossier

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
)

// Dossier is everything porthole says about one port. Its JSON form is the
// contract of `porthole info --json` and /api/v1/ports/{n}, documented in
// docs/json.md and docs/porthole.schema.json: fields may be added, never
// renamed; every field is present, and an unknown or empty value is null
// (json.go).
type Dossier struct {
	Port     int               `json:"port"`
	Range    Range             `json:"range"`
	Title    string            `json:"title"`
	Verdict  Verdict           `json:"verdict"`
	Status   map[string]string `json:"status"`
	Ghost    bool              `json:"ghost"`
	Services []Service         `json:"services"`
	Threats  []Intel           `json:"threats"`
	Uses     []Intel           `json:"uses"`
	// Relevance says what usually listens on the port and how distinctive
	// its threats are (see RelevanceOf).
	Relevance  Relevance  `json:"relevance"`
	Check      Check      `json:"check"`
	Context    Context    `json:"context"`
	Neighbours Neighbours `json:"neighbours"`
	Footnotes  []Footnote `json:"footnotes"`
	Registry   string     `json:"registry_version"`
	// Ephemeral is this machine's ephemeral port range, when the caller
	// knows it.
	Ephemeral *Ephemeral `json:"ephemeral"`
}

// Range is the RFC 6335 range of the port.
type Range struct {
	Name string `json:"name"`
	Low  int    `json:"low"`
	High int    `json:"high"`
	Size int    `json:"size"`
}

// Verdict is the title's reasoning in structured form, so that each language
// can phrase it: the registry's answer, the name it is about, and the intel
// entry that colours it.
type Verdict struct {
	Registry string `json:"registry"` // assigned, ghost, reserved, unassigned, dynamic
	Name     string `json:"name,omitempty"`
	Summary  string `json:"summary,omitempty"` // the primary row's description
	Threat   string `json:"threat,omitempty"`  // kind of the intel threat in the title
	Past     bool   `json:"past,omitempty"`    // the threat is historical
	Use      string `json:"use,omitempty"`     // name of the common use in the title
	UseKO    string `json:"use_ko,omitempty"`  // its Korean name, when the entry has one
}

// Service is one IANA registry row covering the port.
type Service struct {
	Name            string `json:"name"`
	Protocol        string `json:"protocol"`
	Port            string `json:"port"` // "2556", or "6000-6063" for a range row (text only; JSON has low and high)
	Low, High       int    `json:"-"`    // the row's span
	Kind            string `json:"kind"` // assigned, reserved, unassigned, other
	Description     string `json:"description"`
	Assignee        string `json:"assignee"`
	Contact         string `json:"contact"`
	Registered      string `json:"registered"`
	Modified        string `json:"modified"`
	Reference       string `json:"reference"`
	ServiceCode     string `json:"service_code"`
	UnauthorizedUse string `json:"unauthorized_use"`
	Notes           string `json:"notes"`
	Footnotes       []int  `json:"footnotes,omitempty"`
}

// Intel is one intel entry as it bears on this port.
type Intel struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	NameKO        string   `json:"name_ko,omitempty"` // Name in Korean, when it has common words
	Aliases       []string `json:"aliases"`
	Kind          string   `json:"kind"`
	Category      string   `json:"category"`
	Protocol      string   `json:"protocol"` // "" for any protocol
	Years         string   `json:"years"`
	Confidence    string   `json:"confidence"`
	Description   string   `json:"description"`
	DescriptionKO string   `json:"description_ko,omitempty"`
	Legit         string   `json:"legit,omitempty"`    // products and history: never a registry fact
	LegitKO       string   `json:"legit_ko,omitempty"` // Legit in Korean
	// Registry is what the IANA registry says about this port on each
	// protocol the entry covers here; renderers phrase it with
	// RegistrySentence, so that no registry fact comes from intel text.
	Registry  []Registration `json:"registry"`
	Sources   []intel.Source `json:"sources"`
	Footnotes []int          `json:"footnotes"`

	lastYear int // last year seen; 0 when still seen or unknown
}

// NameIn is the entry's name in lang: the Korean name for Korean when the
// entry has one, else the name as written.
func (in *Intel) NameIn(lang i18n.Lang) string {
	return nameIn(lang, in.Name, in.NameKO)
}

func nameIn(lang i18n.Lang, name, ko string) string {
	if lang == i18n.KO && ko != "" {
		return ko
	}
	return name
}

// Check holds the commands that show what listens on the port.
type Check struct {
	Linux    string `json:"linux"`
	MacOS    string `json:"macos"`
	Windows  string `json:"windows"`
	Porthole string `json:"porthole"`
}

// Context places the port in its range with figures from the registry.
type Context struct {
	// Assigned is how many numbers of the range carry a named service for
	// any protocol; Percent is that share of Size.
	Assigned int     `json:"assigned"`
	Size     int     `json:"size"`
	Percent  float64 `json:"percent"`
	// Position is the port's 1-based place in its range.
	Position int `json:"position"`
}

// Ephemeral is the machine's ephemeral port range and whether the port is
// inside it.
type Ephemeral struct {
	Low    int  `json:"low"`
	High   int  `json:"high"`
	Inside bool `json:"inside"`
}

// Neighbours are the ports around this one and the other ports of its
// primary service.
type Neighbours struct {
	Prev        *Neighbour `json:"prev"`
	Next        *Neighbour `json:"next"`
	SameService []int      `json:"same_service"`
}

// Neighbour is an adjacent port and its primary name, if any.
type Neighbour struct {
	Port int    `json:"port"`
	Name string `json:"name,omitempty"`
}

// Footnote is a numbered source.
type Footnote struct {
	N     int    `json:"n"`
	Title string `json:"title"`
	URL   string `json:"url"`
	// Kind is the intel source's kind (vendor, docs, advisory, news, list,
	// …; see intel.SourceKind); "" for the registry's own references.
	Kind string `json:"kind,omitempty"`
}

// Registration is the registry's answer for one port and protocol.
type Registration struct {
	Port     int      `json:"port"`
	Protocol string   `json:"protocol"`
	Status   string   `json:"status"`          // assigned, reserved, unassigned, dynamic
	Names    []string `json:"names,omitempty"` // the service names of the named rows, in registry order
	Since    string   `json:"since,omitempty"` // the first named row's registration date, when IANA gives one
}

// Sources are what Build joins. Registry is required; Intel may be nil, and
// then IntelLookup, if set, answers for one port (a one-shot command uses
// intel.Lookup there rather than loading every entry).
type Sources struct {
	Registry    *registry.Index
	Intel       *intel.DB
	IntelLookup func(port int) []intel.Match
	// Ephemeral is this machine's ephemeral range; zero when unknown.
	EphemeralLow, EphemeralHigh int
	// Now is the clock, for telling historical threats from current ones.
	Now func() time.Time
}

// Build computes the dossier of port (0..65535) in English; Localize renders
// its prose in another language.
func Build(port int, src Sources) *Dossier {
	x := src.Registry
	r := ports.RangeOf(port)
	d := &Dossier{
		Port:     port,
		Range:    Range{Name: r.Name, Low: r.Low, High: r.High, Size: r.Size()},
		Status:   map[string]string{},
		Ghost:    x.Ghost(port),
		Services: []Service{},
		Threats:  []Intel{},
		Uses:     []Intel{},
		Registry: x.Version(),
	}
	for _, p := range ports.Protos {
		d.Status[p.String()] = string(x.StatusOf(port, p))
	}
	notes := &footnotes{}
	for _, row := range x.Port(port) {
		s := service(row)
		for _, ref := range splitRefs(row.Reference) {
			if u := refURL(ref); u != "" {
				s.Footnotes = append(s.Footnotes, notes.add(i18n.T(i18n.EN, "source.ref", ref), u))
			}
		}
		d.Services = append(d.Services, s)
	}
	var matches []intel.Match
	switch {
	case src.Intel != nil:
		matches = src.Intel.ForPort(port)
	case src.IntelLookup != nil:
		matches = src.IntelLookup(port)
	}
	{
		for _, m := range matches {
			in := intelOf(m)
			in.Registry = registrations(x, port, m)
			for _, s := range m.Entry.Sources {
				in.Footnotes = append(in.Footnotes, notes.addKind(s.Title, s.URL, string(s.Kind)))
			}
			if m.Entry.IsThreat() {
				d.Threats = append(d.Threats, in)
			} else {
				d.Uses = append(d.Uses, in)
			}
		}
	}
	d.Relevance = RelevanceOf(port, ports.ProtoNone, matches, x)
	notes.add(i18n.T(i18n.EN, "source.iana", strconv.Itoa(port)), SearchURL(strconv.Itoa(port)))
	notes.add(i18n.T(i18n.EN, "source.rfc6335"), "https://www.rfc-editor.org/rfc/rfc6335#section-6")
	d.Footnotes = notes.list

	d.Check = checks(port)
	st := x.Stats()
	for _, rs := range st.Ranges {
		if rs.Name == r.Name {
			d.Context = Context{Assigned: rs.Assigned.Any, Size: rs.Size,
				Percent: rs.AssignedPercent(), Position: port - r.Low + 1}
		}
	}
	if src.EphemeralHigh > 0 {
		d.Ephemeral = &Ephemeral{Low: src.EphemeralLow, High: src.EphemeralHigh,
			Inside: port >= src.EphemeralLow && port <= src.EphemeralHigh}
	}
	d.Neighbours = neighbours(x, port, d.Services)
	now := time.Now
	if src.Now != nil {
		now = src.Now
	}
	d.Verdict = verdict(d, now())
	d.Title = Title(d, i18n.EN)
	return d
}

func service(row registry.Row) Service {
	port := strconv.Itoa(row.Low)
	if row.Range {
		port = fmt.Sprintf("%d-%d", row.Low, row.High)
	}
	return Service{
		Name: row.Name, Protocol: row.Proto.String(), Port: port, Low: row.Low, High: row.High, Kind: row.Kind().String(),
		Description: row.Description, Assignee: row.Assignee, Contact: row.Contact,
		Registered: row.Registered, Modified: row.Modified, Reference: row.Reference,
		ServiceCode: row.ServiceCode, UnauthorizedUse: row.Unauthorized, Notes: row.Notes,
	}
}

func intelOf(m intel.Match) Intel {
	e := m.Entry
	aliases := e.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	return Intel{
		ID: e.ID, Name: e.Name, NameKO: e.NameKO, Aliases: aliases, Kind: string(e.Kind), Category: string(e.Category),
		Protocol: m.Proto.String(), Years: e.Years.String(), Confidence: string(e.Confidence),
		Description: e.Description, DescriptionKO: e.DescriptionKO, Legit: e.Legit, LegitKO: e.LegitKO, Sources: e.Sources,
		lastYear: e.Years.To,
	}
}

// splitRefs splits a registry Reference cell into its bracketed tokens.
func splitRefs(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '[')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], ']')
		if j < 0 {
			return out
		}
		out = append(out, s[i+1:i+j])
		s = s[i+j+1:]
	}
}

// refURL links a registry reference: RFCs to the RFC Editor, anything else
// to nothing (drafts and people are not linked reliably by their token).
func refURL(ref string) string {
	if n, ok := strings.CutPrefix(ref, "RFC"); ok {
		if _, err := strconv.Atoi(n); err == nil {
			return "https://www.rfc-editor.org/rfc/rfc" + n
		}
	}
	return ""
}

type footnotes struct{ list []Footnote }

// add numbers a source, reusing the number of a URL already listed.
func (f *footnotes) add(title, u string) int { return f.addKind(title, u, "") }

// addKind is add for a source of a known kind.
func (f *footnotes) addKind(title, u, kind string) int {
	for _, n := range f.list {
		if n.URL == u {
			return n.N
		}
	}
	n := len(f.list) + 1
	f.list = append(f.list, Footnote{N: n, Title: title, URL: u, Kind: kind})
	return n
}

func checks(port int) Check {
	p := strconv.Itoa(port)
	return Check{
		Linux:    "ss -tulpn 'sport = :" + p + "'",
		MacOS:    "lsof -nP -i :" + p,
		Windows:  "netstat -ano | findstr :" + p,
		Porthole: "porthole who " + p,
	}
}

func neighbours(x *registry.Index, port int, services []Service) Neighbours {
	n := Neighbours{SameService: []int{}}
	name := func(p int) string {
		for _, r := range x.Port(p) {
			if r.Name != "" {
				return r.Name
			}
		}
		return ""
	}
	if port > 0 {
		n.Prev = &Neighbour{Port: port - 1, Name: name(port - 1)}
	}
	if port < ports.Max {
		n.Next = &Neighbour{Port: port + 1, Name: name(port + 1)}
	}
	primary := primaryName(services)
	if primary == "" {
		return n
	}
	seen := map[int]bool{port: true}
	for _, r := range x.Name(primary) {
		if r.HasPort() && !seen[r.Low] {
			seen[r.Low] = true
			n.SameService = append(n.SameService, r.Low)
		}
	}
	return n
}

// primaryName picks the name a port is known by: the first named tcp row,
// else the first named row. Registry order puts the canonical name before
// its aliases (80: http before www and www-http).
func primaryName(services []Service) string {
	first := ""
	for _, s := range services {
		if s.Name == "" {
			continue
		}
		if s.Protocol == "tcp" {
			return s.Name
		}
		if first == "" {
			first = s.Name
		}
	}
	return first
}

func primaryService(services []Service) *Service {
	name := primaryName(services)
	for i := range services {
		if services[i].Name == name && name != "" {
			return &services[i]
		}
	}
	return nil
}

// historicalAfter is how many years without a sighting make a threat
// historical ("once …").
const historicalAfter = 5

func verdict(d *Dossier, now time.Time) Verdict {
	var v Verdict
	switch {
	case d.Range.Name == ports.Dynamic.Name:
		v.Registry = "dynamic"
	case d.Ghost:
		v.Registry = "ghost"
	case anyStatus(d, "assigned"):
		v.Registry = "assigned"
	case anyStatus(d, "reserved"):
		v.Registry = "reserved"
	default:
		v.Registry = "unassigned"
	}
	if s := primaryService(d.Services); s != nil {
		v.Name = s.Name
		if !strings.EqualFold(s.Description, s.Name) {
			v.Summary = FirstLine(s.Description)
		}
	}
	// Only a threat we are sure of belongs in the title: confidence, not
	// alarm.
	for _, t := range d.Threats {
		if t.Confidence == "high" {
			v.Threat = t.Kind
			v.Past = t.lastYear != 0 && now.Year()-t.lastYear > historicalAfter
			break
		}
	}
	// Likewise only a use whose sources are strong is named in the title as
	// what the port is commonly used by: a medium entry (a hobby tool's
	// default, a fork's code) is listed with the other uses, not promoted.
	if v.Registry != "assigned" && v.Registry != "ghost" && v.Threat == "" {
		for _, u := range d.Uses {
			if u.Confidence == "high" && !intel.Kind(u.Kind).IsNote() {
				v.Use, v.UseKO = u.Name, u.NameKO
				break
			}
		}
	}
	return v
}

func anyStatus(d *Dossier, want string) bool {
	for _, s := range d.Status {
		if s == want {
			return true
		}
	}
	return false
}

// FirstLine is the first line of a registry or intel description, trimmed:
// what a one-line listing shows.
func FirstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// ShortID is a container ID cut to the 12 characters docker and podman show.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Title renders the one-line verdict in lang, e.g. "Port 2556: nicetec-nmsvc
// — a registration with an empty record, once a worm's backdoor".
func Title(d *Dossier, lang i18n.Lang) string {
	v := d.Verdict
	var head string
	switch v.Registry {
	case "ghost":
		head = i18n.T(lang, "verdict.ghost", v.Name)
	case "assigned":
		if v.Summary != "" {
			head = i18n.T(lang, "verdict.assigned", v.Name, v.Summary)
		} else {
			head = i18n.T(lang, "verdict.named", v.Name)
		}
	default:
		head = i18n.T(lang, "verdict."+v.Registry)
	}
	switch {
	case v.Threat != "":
		tail := "tail.now"
		if v.Past {
			tail = "tail.once"
		} else if v.Registry == "assigned" || v.Registry == "ghost" {
			tail = "tail.also"
		}
		head = i18n.T(lang, "verdict.join", head, i18n.T(lang, tail, i18n.T(lang, "kind."+v.Threat)))
	case v.Use != "":
		use := v.Use
		if lang == i18n.KO && v.UseKO != "" {
			use = v.UseKO
		}
		head = i18n.T(lang, "verdict.use", head, i18n.T(lang, "use.lead", use))
	}
	return i18n.T(lang, "title", strconv.Itoa(d.Port), head)
}

// SearchURL is the IANA search page for a query.
func SearchURL(q string) string {
	return "https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.xhtml?search=" + url.QueryEscape(q)
}
