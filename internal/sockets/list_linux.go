package sockets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/process"
	"golang.org/x/sys/unix"
)

// netns is one network namespace to list.
type netns struct {
	ino  uint64
	pid  int    // a process inside it (0 if known only by path)
	path string // what to open for setns; "" for our own namespace
	host bool
}

func list(ctx context.Context, q Query) ([]Listener, error) {
	// For a full listing the BPF owner source reads every process's
	// listening sockets at once, beside the dump (it does not depend on
	// it), and describes those processes right away. A port query needs
	// the dump first: its sockets' cgroups and inodes say where to look
	// (findOwners).
	var bpf chan bpfResult
	if !q.NoOwners && !q.ranged() {
		bpf = make(chan bpfResult, 1)
		go func() {
			var r bpfResult
			if r.recs, r.err = bpfOwnerRecords(); r.err == nil {
				r.infos = lookupAll(r.recs.pids())
			}
			bpf <- r
		}()
	}
	self := selfNetNS()
	nss := []netns{{ino: self, host: true}}
	switch {
	case q.NetNS != "":
		ns, err := netnsAt(q.NetNS, self)
		if err != nil {
			return nil, err
		}
		nss = []netns{ns}
	case q.AllNetNS:
		nss = append(nss, otherNetNS(self)...)
	}
	var out []Listener
	for _, ns := range nss {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ls, err := listNetNS(ns, q)
		if err != nil {
			if ns.host || q.NetNS != "" {
				return nil, err
			}
			continue // another namespace that vanished or cannot be read
		}
		if out == nil {
			out = ls
		} else {
			out = append(out, ls...)
		}
	}
	if q.NoOwners {
		for i := range out {
			out[i].OwnerUnknown = OwnerSkipped
		}
		return out, nil
	}
	if err := attachOwners(ctx, out, q.ranged(), q.ranged() && !q.AllOwners, bpf); err != nil {
		return nil, err
	}
	return out, nil
}

func readNSInode(path string) uint64 {
	link, err := os.Readlink(path)
	if err != nil {
		return 0
	}
	ino, _ := parseNSLink([]byte(link))
	return ino
}

func selfNetNS() uint64 { return readNSInode("/proc/self/ns/net") }

// netnsAt is the namespace at path (Query.NetNS): porthole's own when it
// is the same inode.
func netnsAt(path string, self uint64) (netns, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return netns{}, fmt.Errorf("network namespace %s: %w", path, err)
	}
	if st.Ino == self {
		return netns{ino: self, host: true}, nil
	}
	// A namespace file is on nsfs; anything else cannot be entered.
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return netns{}, fmt.Errorf("network namespace %s: not a namespace file", path)
	}
	return netns{ino: st.Ino, path: path}, nil
}

// otherNetNS finds the distinct network namespaces held by processes
// (/proc/*/ns/net) or pinned by name (/run/netns/*, as "ip netns add" does),
// except self.
func otherNetNS(self uint64) []netns {
	seen := map[uint64]bool{self: true}
	var out []netns
	procfd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == nil {
		var link [64]byte
		for _, pid := range listPIDs(procfd) {
			p := strconv.AppendInt(make([]byte, 0, 24), int64(pid), 10)
			p = append(p, "/ns/net\x00"...)
			n, err := readlinkat(procfd, &p[0], link[:])
			if err != nil {
				continue
			}
			ino, ok := parseNSLink(link[:n])
			if !ok || seen[ino] {
				continue
			}
			seen[ino] = true
			out = append(out, netns{ino: ino, pid: pid, path: "/proc/" + strconv.Itoa(pid) + "/ns/net"})
		}
		unix.Close(procfd)
	}
	for _, dir := range []string{"/run/netns", "/var/run/netns"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			var st unix.Stat_t
			path := dir + "/" + e.Name()
			if unix.Stat(path, &st) != nil || seen[st.Ino] {
				continue
			}
			seen[st.Ino] = true
			out = append(out, netns{ino: st.Ino, path: path})
		}
	}
	return out
}

// listNetNS lists one namespace: netlink first (opened inside the namespace
// with setns when it is not ours), /proc/PID/net/* when that is refused.
func listNetNS(ns netns, q Query) ([]Listener, error) {
	var fd int
	var err error
	if ns.host {
		fd, err = openDiag()
	} else {
		fd, err = diagSocketIn(ns.path)
	}
	c := &collector{ino: ns.ino, host: ns.host}
	procDir := "/proc/self/net/"
	if !ns.host {
		procDir = "/proc/" + strconv.Itoa(ns.pid) + "/net/"
	}
	if err != nil {
		if !ns.host && ns.pid == 0 {
			return nil, err
		}
		if err := listProcNet(procDir, q, c); err != nil {
			return nil, err
		}
		return c.out, nil
	}
	defer unix.Close(fd)
	var seq uint32
	buf := make([]byte, 64<<10)
	one := func(t table) error {
		seq++
		err := dumpTable(fd, seq, t, q, buf, c)
		if err == nil {
			return nil
		}
		if !netlinkRefused(err) {
			return fmt.Errorf("sock_diag %s%d: %w", t.proto, t.family, err)
		}
		// e.g. ENOENT: udp_diag not loaded. Fall back for this table only.
		if !ns.host && ns.pid == 0 {
			return err
		}
		return readProcNetTable(procDir, t, q, c)
	}
	ts := tables(q)
	if q.TCP && q.Ports == nil && !tcpPerFamily {
		// Both TCP families in one walk of the listening hash
		// (TCPDIAG_GETSOCK), where one per family walks it twice: the
		// IPv6 walk of a host with 10,000 IPv4 listeners costs a few ms
		// of kernel time to find none. A kernel without the legacy
		// request gets one dump per family.
		seq++
		err := dumpTable(fd, seq, table{ports.TCP, 0}, q, buf, c)
		switch {
		case err == nil:
			ts = ts[2:] // tables(q) starts with TCP 4 and TCP 6
		case netlinkRefused(err):
		default:
			return nil, fmt.Errorf("sock_diag tcp: %w", err)
		}
	}
	for _, t := range ts {
		if err := one(t); err != nil {
			return nil, err
		}
	}
	return c.out, nil
}

// tcpPerFamily makes a full listing dump TCP one family at a time, as on
// a kernel without TCPDIAG_GETSOCK (tests compare the two).
var tcpPerFamily = false

// collector gathers the listeners of one namespace.
type collector struct {
	out  []Listener
	ino  uint64
	host bool
}

func (c *collector) add(l Listener) {
	l.NetNS, l.HostNetNS = c.ino, c.host
	if len(c.out) == cap(c.out) {
		// Double: append grows large slices by 1.25x, which copies a
		// 10,000-listener table several times over.
		n := make([]Listener, len(c.out), max(2*cap(c.out), 64))
		copy(n, c.out)
		c.out = n
	}
	c.out = append(c.out, l)
}

// netlinkRefused reports errors after which /proc/net is the way to go.
func netlinkRefused(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case unix.EPERM, unix.EACCES, unix.EPROTONOSUPPORT, unix.EAFNOSUPPORT, unix.ENOENT, unix.EOPNOTSUPP, unix.EINVAL:
		return true
	}
	return false
}

func openDiag() (int, error) {
	return unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
}

// diagSocketIn opens a sock_diag socket inside the network namespace at
// path. A netlink socket stays bound to the namespace it was created in, so
// only the socket() call runs inside it. The work happens on a locked
// goroutine; if switching back fails the goroutine exits still locked and the
// runtime destroys that thread instead of reusing it.
func diagSocketIn(path string) (int, error) {
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{-1, err}
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{-1, err}
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{-1, err}
			return
		}
		fd, serr := openDiag()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			if serr == nil {
				unix.Close(fd)
			}
			ch <- result{-1, fmt.Errorf("returning from netns: %w", err)}
			return // thread stays locked and is discarded
		}
		runtime.UnlockOSThread()
		ch <- result{fd, serr}
	}()
	r := <-ch
	return r.fd, r.err
}

const maxDumpRetries = 8

// dumpTable runs one sock_diag dump and calls add for each listener. An
// interrupted dump is retried from scratch; nothing from it is published.
func dumpTable(fd int, seq uint32, t table, q Query, buf []byte, c *collector) error {
	family, proto, states := uint8(afINET), uint8(ipprotoTCP), uint32(1<<tcpListen)
	if t.family == 6 {
		family = afINET6
	}
	if t.proto == ports.UDP {
		proto, states = ipprotoUDP, 1<<tcpClose
	}
	lo, hi := 0, 65535
	if r := q.Ports; r != nil {
		lo, hi = r.Low, r.High
	}
	// Family 0 is both TCP families in one legacy request (no port
	// filter; listNetNS asks for it only for a full listing).
	request := func(b []byte, seq uint32) []byte {
		if t.family == 0 {
			return appendFingerprintRequest(b, tcpDiagGetSock, seq, 0, proto, states)
		}
		return appendDiagRequest(b, seq, family, proto, states, lo, hi)
	}
	req := request(nil, seq)
	mark := len(c.out)
	for attempt := 0; ; attempt++ {
		c.out = c.out[:mark] // drop what an interrupted attempt added
		err := dumpOnce(fd, seq, req, buf, func(s *diagSocket) {
			if s.SPort == 0 || !q.wantPort(int(s.SPort)) {
				return
			}
			if proto == ipprotoTCP && s.State != tcpListen {
				return
			}
			if proto == ipprotoUDP && !s.Unconnected() {
				return
			}
			fam := 4
			if s.Family == afINET6 {
				fam = 6
			}
			c.add(Listener{
				Proto:     t.proto,
				Family:    fam,
				Addr:      s.LocalAddr(),
				Port:      int(s.SPort),
				Inode:     uint64(s.Inode),
				UID:       int(s.UID),
				Cgroup:    s.CgroupID,
				DualStack: s.Family == afINET6 && s.V6Only == 0 && s.LocalAddr().IsUnspecified(),
			})
		})
		if errors.Is(err, errDumpInterrupted) && attempt < maxDumpRetries {
			seq += 1 << 16 // a fresh sequence so stale replies are ignored
			req = request(req[:0], seq)
			continue
		}
		if err != nil {
			c.out = c.out[:mark]
			return err
		}
		return nil
	}
}

func dumpOnce(fd int, seq uint32, req, buf []byte, fn func(*diagSocket)) error {
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	var failed error
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("sock_diag: netlink socket closed")
		}
		done, err := parseDiagMessages(buf[:n], seq, fn)
		if err != nil && failed == nil {
			failed = err
			// Keep reading until NLMSG_DONE so the socket is clean for the
			// next request; a plain error reply has no DONE after it.
			if !errors.Is(err, errDumpInterrupted) {
				return failed
			}
		}
		if done {
			return failed
		}
	}
}

// listProcNet reads every selected table from a /proc/.../net directory.
func listProcNet(dir string, q Query, c *collector) error {
	for _, t := range tables(q) {
		if err := readProcNetTable(dir, t, q, c); err != nil {
			return err
		}
	}
	return nil
}

func readProcNetTable(dir string, t table, q Query, c *collector) error {
	name := t.proto.String()
	if t.family == 6 {
		name += "6"
	}
	f, err := os.Open(dir + name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && t.family == 6 {
			return nil // IPv6 disabled
		}
		return err
	}
	defer f.Close()
	mark := len(c.out)
	err = parseProcNet(f, func(e *procNetEntry) {
		if e.LPort == 0 || !q.wantPort(int(e.LPort)) {
			return
		}
		if t.proto == ports.TCP && e.State != tcpListen {
			return
		}
		if t.proto == ports.UDP && (e.State != tcpClose || e.RPort != 0 || !e.Remote.IsUnspecified()) {
			return
		}
		c.add(Listener{Proto: t.proto, Family: t.family, Addr: e.Local, Port: int(e.LPort), Inode: e.Inode, UID: int(e.UID)})
	})
	if err != nil {
		c.out = c.out[:mark]
		return fmt.Errorf("%s%s: %w", dir, name, err)
	}
	if t.family == 6 {
		markDualStackGuess(c.out[mark:])
	}
	return nil
}

// markDualStackGuess is the /proc fallback's best effort, since /proc/net has
// no IPV6_V6ONLY flag: an IPv6 wildcard socket is taken as dual-stack when
// net.ipv6.bindv6only is 0 (the default for sockets that do not set it).
func markDualStackGuess(ls []Listener) {
	b, err := os.ReadFile("/proc/sys/net/ipv6/bindv6only")
	if err != nil || len(b) == 0 || b[0] != '0' {
		return
	}
	for i := range ls {
		if ls[i].Addr.IsUnspecified() {
			ls[i].DualStack = true
		}
	}
}

type bpfResult struct {
	recs  ownerRecords
	infos map[int]process.Info // nil: not looked up yet
	err   error
}

// attachOwners fills Owners (or OwnerUnknown) of every listener,
// from the BPF owner source's result when there is one (bpf not nil, and
// it worked), else by walking /proc/*/fd.
func attachOwners(ctx context.Context, ls []Listener, portQuery, firstOnly bool, bpf <-chan bpfResult) error {
	var owners func(ino uint64) []int
	var denied int64
	var infos map[int]process.Info
	r := bpfResult{err: errBPFOff}
	if bpf != nil {
		r = <-bpf
	}
	if r.err == nil {
		// Every socket the iterator reported, by inode: no map of the
		// wanted inodes and no slice per socket.
		idx := r.recs.index()
		owners, infos = idx.get, r.infos
	} else {
		want := make(map[uint64]struct{}, len(ls))
		uids := map[uint32]bool{}
		for _, l := range ls {
			if l.Inode != 0 {
				want[l.Inode] = struct{}{}
				if l.UID >= 0 {
					uids[uint32(l.UID)] = true
				}
			}
		}
		var found map[uint64][]int
		if portQuery && len(want) <= sampleMax {
			found, denied = findOwners(ctx, ls, want, uids, !firstOnly)
		} else {
			found, denied = scanOwners(ctx, want, firstOnly, uids)
		}
		owners = func(ino uint64) []int { return found[ino] }
		var all []int
		for _, ps := range found {
			all = append(all, ps...)
		}
		if ctx.Err() == nil {
			infos = lookupAll(all) // a PID that exited since the scan drops out
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	reason := OwnerNotFound
	if denied > 0 {
		reason = OwnerNoAccess
		if os.Geteuid() != 0 {
			reason = OwnerNotRoot
		}
	}
	// Most sockets have one owner, and a process usually holds many of
	// them: listeners with the same single owner share one Owners slice
	// (capacity 1, so an append by a caller copies).
	single := make(map[int][]process.Info, len(infos))
	for i := range ls {
		var ps []int
		if ls[i].Inode != 0 {
			ps = owners(ls[i].Inode)
		}
		if len(ps) == 1 {
			if info, ok := infos[ps[0]]; ok {
				o, ok := single[ps[0]]
				if !ok {
					o = []process.Info{info}
					single[ps[0]] = o
				}
				ls[i].Owners = o[:1:1]
			}
		} else {
			for _, p := range ps {
				if info, ok := infos[p]; ok {
					ls[i].Owners = append(ls[i].Owners, info)
				}
			}
		}
		if len(ls[i].Owners) == 0 {
			ls[i].OwnerUnknown = reason
			if ls[i].Inode == 0 {
				ls[i].OwnerUnknown = OwnerKernel
			}
		} else if len(ls[i].Owners) > 1 {
			sortInfos(ls[i].Owners)
		}
	}
	return nil
}
