// Package sockets answers "what is listening here": TCP sockets in LISTEN and
// unconnected UDP sockets, IPv4 and IPv6, with the processes that hold them.
//
// The API is small:
//
//   - List(ctx, Query) returns the listeners, sorted by protocol, port,
//     address and network namespace. Query selects TCP and/or UDP, an optional
//     port range (filtered in the kernel on Linux), every network namespace
//     (AllNetNS) and whether owners are looked up at all (NoOwners).
//   - Each Listener carries its owners (process.Info). When none could be
//     found, OwnerUnknown says why (a code; the words are in internal/i18n);
//     OwnerWarning folds those reasons into the one warning line a command
//     prints.
//   - EphemeralRange reports the local port range the OS picks from, and
//     PortFree tells whether a port can be bound right now.
//
// Linux uses NETLINK_SOCK_DIAG (state mask LISTEN for TCP, CLOSE for UDP, an
// INET_DIAG_REQ_BYTECODE port filter for ranges; a full listing asks for
// both TCP families in one legacy TCPDIAG_GETSOCK dump) and falls back to
// /proc/net/{tcp,tcp6,udp,udp6} when netlink is refused. For a full
// listing, owners come, as root on a kernel with BTF, from a BPF task-file
// iterator that reports every process's listening sockets in one read
// (bpfiter.go), run beside the dump; otherwise from one parallel walk of
// /proc/*/fd. A port query (a range of at most 63 sockets) first reads the
// processes of the sockets' cgroups (INET_DIAG_CGROUP_ID, cgroup_linux.go)
// when they are few; then, for up to 8 sockets, the processes whose first
// socket's inode number says they could hold one (guide_linux.go); then
// runs the iterator with an inode filter (inodeFileProgram), else walks
// the rest of /proc, and stops as soon as every wanted socket inode has an
// owner. A
// full listing reports every holder of a socket (fork, SO_REUSEPORT) from
// either source; a port query reports the first it finds, unless
// Query.AllOwners asks for all (then the filtered iterator, or a full walk).
// macOS reads the net.inet.{tcp,udp}.pcblist_n sysctls and Windows the
// GetExtendedTcpTable/GetExtendedUdpTable tables; neither runs another
// program. Other systems get ErrUnsupported.
//
// The byte decoders (inetdiag.go, procnet.go, pcblist.go, iphlpapi.go, and
// btf.go and bpfiter.go for the BPF program) are untagged and fuzzed so they are tested on every OS; only the syscall glue is
// OS-specific.
package sockets

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/process"
)

// ErrUnsupported is returned by List and EphemeralRange on systems without a
// collector.
var ErrUnsupported = errors.New("listing sockets is not supported on this operating system")

// Query selects which listeners List returns. The zero Query (neither TCP nor
// UDP, no Ports) means every listener.
type Query struct {
	TCP, UDP bool
	// Ports bounds the local port, inclusive; nil means every port. No
	// number is a wildcard: {0, 0} selects port 0 only, which no listener
	// holds.
	Ports *PortRange
	// AllNetNS also lists the sockets of every other network namespace that
	// a process (or a /run/netns name) holds. On other systems it is ignored.
	AllNetNS bool
	// NetNS, when set, lists only the network namespace at this path
	// (/run/netns/NAME, /proc/PID/ns/net) instead of porthole's own, and
	// AllNetNS is ignored. Its listeners are not HostNetNS unless it is
	// porthole's namespace. Linux only: elsewhere List returns
	// ErrUnsupported.
	NetNS string
	// NoOwners skips the process lookup; Owners stays empty and
	// OwnerUnknown is OwnerSkipped.
	NoOwners bool
	// AllOwners makes a port query (Ports set) find every process holding
	// each socket, as a full listing always does, instead of stopping at
	// the first: a pre-forked server's parent and children all hold one
	// listening socket, and ending only one of them frees nothing.
	AllOwners bool
}

// PortRange is an inclusive span of port numbers.
type PortRange struct{ Low, High int }

// Ports returns the range low..high, for Query.Ports.
func Ports(low, high int) *PortRange { return &PortRange{low, high} }

func (q Query) ranged() bool { return q.Ports != nil }

func (q Query) normalize() (Query, error) {
	if !q.TCP && !q.UDP {
		q.TCP, q.UDP = true, true
	}
	if r := q.Ports; r != nil {
		if r.Low < 0 || r.High > 65535 || r.Low > r.High {
			return q, fmt.Errorf("invalid port range %d-%d", r.Low, r.High)
		}
	}
	return q, nil
}

func (q Query) wantPort(p int) bool {
	return q.Ports == nil || (p >= q.Ports.Low && p <= q.Ports.High)
}

// Listener is one listening TCP socket or unconnected UDP socket.
type Listener struct {
	Proto  ports.Proto // ports.TCP or ports.UDP
	Family int         // 4 or 6
	Addr   netip.Addr
	Port   int
	// Inode is the socket inode on Linux (0 elsewhere).
	Inode uint64
	// UID owns the socket; -1 when unknown (Windows).
	UID int
	// Cgroup is the id of the cgroup v2 the socket was made in (the inode
	// number of its directory) on Linux 5.7 and later; 0 when unknown.
	Cgroup uint64
	// NetNS is the inode of the socket's network namespace on Linux (0
	// elsewhere). HostNetNS is true for the namespace porthole runs in.
	NetNS     uint64
	HostNetNS bool
	// DualStack marks an IPv6 wildcard socket that also accepts IPv4
	// (IPV6_V6ONLY off). It is a single row: there is no IPv4 twin.
	DualStack bool
	// Owners are the processes holding the socket, by PID. It may be empty;
	// then OwnerUnknown says why.
	Owners       []process.Info
	OwnerUnknown OwnerUnknown
}

// OwnerUnknown says why a listener has no owner. It is a code: the words
// live in the i18n catalogs (key "owner.unknown." + String()), and JSON
// carries String(), which never changes.
type OwnerUnknown uint8

// The reasons for a missing owner. The zero value means none: the owner is
// known, or nobody looked yet.
const (
	OwnerKnown      OwnerUnknown = iota
	OwnerSkipped                 // "skipped": the caller asked for no owner lookup
	OwnerNotRoot                 // "not-root": other users' /proc/PID/fd are unreadable without root
	OwnerNoAccess                // "no-access": some /proc/PID/fd are unreadable even as root (a container without CAP_SYS_PTRACE)
	OwnerNotFound                // "not-found": no process in this PID namespace holds the socket
	OwnerNoPID                   // "no-pid": the system reports no owning process (macOS, Windows)
	OwnerKernel                  // "kernel": a kernel socket with no inode, which no process holds
	OwnerOtherNetNS              // "other-netns": the socket's namespace is not readable
	ownerUnknownEnd
)

var ownerUnknownCodes = [...]string{"", "skipped", "not-root", "no-access", "not-found", "no-pid", "kernel", "other-netns"}

// String is the stable code: "", "skipped", "not-root", "no-access",
// "not-found", "no-pid", "kernel" or "other-netns".
func (c OwnerUnknown) String() string {
	if c < ownerUnknownEnd {
		return ownerUnknownCodes[c]
	}
	return "unknown"
}

// MarshalText writes the code.
func (c OwnerUnknown) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a code written by MarshalText.
func (c *OwnerUnknown) UnmarshalText(b []byte) error {
	for i, s := range ownerUnknownCodes {
		if s == string(b) {
			*c = OwnerUnknown(i)
			return nil
		}
	}
	return fmt.Errorf("unknown owner-unknown code %q", b)
}

// OwnerWarning returns one line summarising the listeners without an owner,
// or "" when every listener has one (or the lookup was skipped on purpose).
// Commands print it once instead of a warning per socket; text phrases each
// reason (the i18n catalog's words).
func OwnerWarning(ls []Listener, text func(OwnerUnknown) string) string {
	counts := map[string]int{}
	var order []string
	n := 0
	for _, l := range ls {
		if len(l.Owners) > 0 || l.OwnerUnknown == OwnerSkipped {
			continue
		}
		n++
		r := text(l.OwnerUnknown)
		if counts[r] == 0 {
			order = append(order, r)
		}
		counts[r]++
	}
	if n == 0 {
		return ""
	}
	sort.SliceStable(order, func(i, j int) bool { return counts[order[i]] > counts[order[j]] })
	parts := make([]string, len(order))
	for i, r := range order {
		parts[i] = r
		if len(order) > 1 {
			parts[i] = fmt.Sprintf("%s (%d)", r, counts[r])
		}
	}
	return fmt.Sprintf("no owning process for %d of %d listeners: %s", n, len(ls), strings.Join(parts, "; "))
}

// List returns the listeners selected by q, sorted by protocol, port,
// address and network namespace. A process that exits during the scan is
// skipped, not an error.
func List(ctx context.Context, q Query) ([]Listener, error) {
	q, err := q.normalize()
	if err != nil {
		return nil, err
	}
	if q.NetNS != "" && runtime.GOOS != "linux" {
		return nil, ErrUnsupported
	}
	ls, err := list(ctx, q)
	if err != nil {
		return nil, err
	}
	sortListeners(ls)
	return ls, nil
}

// ListQueries runs List for each query and returns every socket once, in
// the order the queries found them: a socket that several queries select
// (overlapping port ranges, one port asked for twice) is reported by the
// first. Sockets are told apart by inode, which is unique across network
// namespaces; sockets without one (macOS, Windows) are all kept.
func ListQueries(ctx context.Context, qs []Query) ([]Listener, error) {
	if len(qs) == 1 {
		return List(ctx, qs[0])
	}
	var out []Listener
	seen := map[uint64]bool{}
	for _, q := range qs {
		got, err := List(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, l := range got {
			if l.Inode != 0 {
				if seen[l.Inode] {
					continue
				}
				seen[l.Inode] = true
			}
			out = append(out, l)
		}
	}
	return out, nil
}

func sortListeners(ls []Listener) {
	// Sorting the 130-byte rows themselves compares and moves copies of
	// them; sort small keys (protocol and port, which differ for most
	// rows) with the row's index instead, then put the rows in place.
	type key struct {
		k uint32 // protocol in bit 16, port below
		i int32
	}
	if len(ls) > 1<<31-1 {
		slices.SortFunc(ls, compareListeners)
		return
	}
	keys := make([]key, len(ls))
	for i := range ls {
		k := uint32(ls[i].Port) & 0xffff
		if ls[i].Proto != ports.TCP {
			k |= 1 << 16 // udp after tcp (there is no other protocol)
		}
		keys[i] = key{k, int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.k != b.k {
			return cmp.Compare(a.k, b.k)
		}
		return compareListeners(ls[a.i], ls[b.i])
	})
	// Apply the permutation in place, one cycle at a time: the row now at
	// position keys[j].i belongs at j.
	for start := range keys {
		if keys[start].i < 0 {
			continue
		}
		tmp := ls[start]
		j := start
		for {
			src := int(keys[j].i)
			keys[j].i = -1
			if src == start {
				ls[j] = tmp
				break
			}
			ls[j] = ls[src]
			j = src
		}
	}
}

// HostPort is the socket's address and port as people write them:
// "127.0.0.1:2556", "[::1]:2556".
func (l *Listener) HostPort() string {
	return string(AppendHostPort(nil, l.Family, l.Addr, l.Port))
}

// AppendHostPort appends an address of family (4 or 6) and a port to b as
// people write them: "127.0.0.1:2556", "[::1]:2556".
func AppendHostPort(b []byte, family int, addr netip.Addr, port int) []byte {
	if family == 6 {
		b = append(addr.AppendTo(append(b, '[')), ']')
	} else {
		b = addr.AppendTo(b)
	}
	return strconv.AppendInt(append(b, ':'), int64(port), 10)
}

// Place is where a socket listens, in the order List and every listing
// sorts by: protocol, port, address, this network namespace first, then by
// namespace.
type Place struct {
	Proto     ports.Proto
	Port      int
	Addr      netip.Addr
	HostNetNS bool
	NetNS     uint64
}

// Place returns where l listens.
func (l *Listener) Place() Place {
	return Place{Proto: l.Proto, Port: l.Port, Addr: l.Addr, HostNetNS: l.HostNetNS, NetNS: l.NetNS}
}

// Compare orders places: -1 when p comes before q, 1 after, 0 for the same
// place.
func (p Place) Compare(q Place) int {
	if c := cmp.Compare(p.Proto, q.Proto); c != 0 {
		return c
	}
	if c := cmp.Compare(p.Port, q.Port); c != 0 {
		return c
	}
	if c := p.Addr.Compare(q.Addr); c != 0 {
		return c
	}
	if p.HostNetNS != q.HostNetNS {
		if p.HostNetNS {
			return -1
		}
		return 1
	}
	return cmp.Compare(p.NetNS, q.NetNS)
}

// compareListeners is the order of List: by place, then by inode.
func compareListeners(a, b Listener) int {
	if c := a.Place().Compare(b.Place()); c != 0 {
		return c
	}
	return cmp.Compare(a.Inode, b.Inode)
}

// table is one socket table: a protocol and an address family.
type table struct {
	proto  ports.Proto
	family int
}

func tables(q Query) []table {
	var ts []table
	if q.TCP {
		ts = append(ts, table{ports.TCP, 4}, table{ports.TCP, 6})
	}
	if q.UDP {
		ts = append(ts, table{ports.UDP, 4}, table{ports.UDP, 6})
	}
	return ts
}
