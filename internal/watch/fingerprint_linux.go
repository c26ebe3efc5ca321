package watch

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// fingerprinter hashes the host namespace's listening sockets straight from
// sock_diag replies: no decoding into structs, no sorting, no allocation per
// socket. It only tells Live whether anything may have changed; the listing
// that is published always comes from sockets.List.
type fingerprinter struct {
	buf []byte
	req [72]byte // nlmsghdr (16) + inet_diag_req_v2 (56)
}

const (
	sockDiagByFamily = 20
	nlmsgError       = 2
	nlmsgDone        = 3
	nlmFDumpIntr     = 0x10
	tcpListenState   = 10
	tcpCloseState    = 7
	diagMsgLen       = 72
)

var errFingerprint = errors.New("sock_diag fingerprint failed")

// fingerprint returns an order-independent hash of (protocol, family, port,
// address, inode) over TCP listeners and unconnected UDP sockets. Any
// trouble (netlink refused, an interrupted dump) is an error, and the caller
// falls back to a full listing.
func (f *fingerprinter) fingerprint() (uint64, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	if f.buf == nil {
		f.buf = make([]byte, 64<<10)
	}
	var sum, n uint64
	seq := uint32(0)
	for _, t := range [...]struct {
		family, proto uint8
		states        uint32
	}{
		{unix.AF_INET, unix.IPPROTO_TCP, 1 << tcpListenState},
		{unix.AF_INET6, unix.IPPROTO_TCP, 1 << tcpListenState},
		{unix.AF_INET, unix.IPPROTO_UDP, 1 << tcpCloseState},
		{unix.AF_INET6, unix.IPPROTO_UDP, 1 << tcpCloseState},
	} {
		seq++
		r := f.req[:]
		clear(r)
		binary.NativeEndian.PutUint32(r[0:], uint32(len(r)))
		binary.NativeEndian.PutUint16(r[4:], sockDiagByFamily)
		binary.NativeEndian.PutUint16(r[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
		binary.NativeEndian.PutUint32(r[8:], seq)
		r[16], r[17] = t.family, t.proto
		binary.NativeEndian.PutUint32(r[20:], t.states)
		if err := unix.Sendto(fd, r, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return 0, err
		}
		s, c, err := f.read(fd, seq, t.proto)
		if err != nil {
			return 0, err
		}
		sum += s
		n += c
	}
	return sum ^ n*0x9e3779b97f4a7c15, nil
}

// read consumes one dump and returns the sum of its sockets' hashes and
// their count.
func (f *fingerprinter) read(fd int, seq uint32, proto uint8) (sum, count uint64, err error) {
	for {
		m, _, err := unix.Recvfrom(fd, f.buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		b := f.buf[:m]
		for len(b) >= 16 {
			l := int(binary.NativeEndian.Uint32(b[0:]))
			typ := binary.NativeEndian.Uint16(b[4:])
			flags := binary.NativeEndian.Uint16(b[6:])
			if l < 16 || l > len(b) {
				return 0, 0, errFingerprint
			}
			if binary.NativeEndian.Uint32(b[8:]) != seq {
				b = b[(l+3)&^3:]
				continue
			}
			switch {
			case flags&nlmFDumpIntr != 0, typ == nlmsgError:
				return 0, 0, errFingerprint
			case typ == nlmsgDone:
				return sum, count, nil
			case typ == sockDiagByFamily && l >= 16+diagMsgLen:
				d := b[16 : 16+diagMsgLen]
				// inet_diag_msg: family, state, timer, retrans, then the id:
				// sport, dport (big endian), src[16], dst[16], if, cookie[8];
				// then expires, rqueue, wqueue, uid, inode.
				sport, dport := binary.BigEndian.Uint16(d[4:]), binary.BigEndian.Uint16(d[6:])
				if sport == 0 || (proto == unix.IPPROTO_UDP && (dport != 0 || !zero(d[24:40]))) {
					// Not bound yet, or a connected UDP socket (a client):
					// sockets.List leaves both out, and so does the hash.
					break
				}
				h := uint64(14695981039346656037)
				mix := func(x byte) { h = (h ^ uint64(x)) * 1099511628211 }
				mix(proto)
				mix(d[0])
				for _, x := range d[4:6] { // sport
					mix(x)
				}
				for _, x := range d[8:24] { // src
					mix(x)
				}
				for _, x := range d[68:72] { // inode
					mix(x)
				}
				sum += h
				count++
			}
			b = b[min((l+3)&^3, len(b)):]
		}
	}
}

func zero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
