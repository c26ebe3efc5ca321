package sockets

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

type fingerprinter struct {
	fd   int // netlink socket + 1; 0 when not open
	seq  uint32
	buf  []byte
	req  []byte
	noV1 bool // the kernel refused the one-walk TCP request

	// The TCP part of the last fingerprint, reused while the listen
	// trigger's count stays at tcpAt, for at most tcpReuse calls in a
	// row: then TCP is dumped anyway, so even a listener that somehow
	// changed without the tracepoint is noticed within that many polls.
	trig         listenTrigger
	tcpSum, tcpN uint64
	tcpAt        uint64
	tcpOK        bool
	tcpAge       int
}

// tcpReuse bounds how many fingerprints in a row reuse the TCP part.
const tcpReuse = 9

var errFingerprint = errors.New("sock_diag fingerprint failed")

// Fingerprint returns an order-independent hash of (protocol, family, port,
// address, inode) over the host namespace's TCP listeners and unconnected
// UDP sockets. Any trouble (netlink refused, an interrupted dump) is an
// error.
func (f *Fingerprinter) Fingerprint() (uint64, error) {
	sum, err := f.fingerprint()
	if err != nil {
		f.closeDiag() // start from a fresh socket next time
	}
	return sum, err
}

// Close releases the netlink socket and the listen trigger; the next
// Fingerprint opens them again.
func (f *Fingerprinter) Close() error {
	f.trig.close()
	return f.closeDiag()
}

// closeDiag releases the netlink socket and forgets the TCP part.
func (f *Fingerprinter) closeDiag() error {
	f.tcpOK = false
	if f.fd == 0 {
		return nil
	}
	err := unix.Close(f.fd - 1)
	f.fd = 0
	return err
}

func (f *Fingerprinter) fingerprint() (uint64, error) {
	if f.fd == 0 {
		fd, err := openDiag()
		if err != nil {
			return 0, err
		}
		f.fd = fd + 1
	}
	if f.buf == nil {
		f.buf = make([]byte, 64<<10)
	}
	fd := f.fd - 1
	var sum, n uint64
	dump := func(typ uint16, family, proto uint8, states uint32) error {
		f.seq++
		f.req = appendFingerprintRequest(f.req[:0], typ, f.seq, family, proto, states)
		// write/read instead of sendto/recvfrom: an unconnected netlink
		// socket talks to the kernel, and no address is allocated.
		if _, err := unix.Write(fd, f.req); err != nil {
			return err
		}
		s, c, err := f.read(fd, f.seq, typ, proto)
		sum += s
		n += c
		return err
	}
	// Read the trigger before dumping: a listener that opens during the
	// dump moves the count past tcpAt, so the next call dumps again.
	at, trigOK := f.trig.count()
	if trigOK && f.tcpOK && at == f.tcpAt && f.tcpAge < tcpReuse {
		sum, n = f.tcpSum, f.tcpN
		f.tcpAge++
	} else {
		if err := f.dumpTCP(dump); err != nil {
			return 0, err
		}
		f.tcpSum, f.tcpN, f.tcpAt, f.tcpOK, f.tcpAge = sum, n, at, trigOK, 0
	}
	for _, fam := range [...]uint8{afINET, afINET6} {
		if err := dump(sockDiagByFamily, fam, ipprotoUDP, 1<<tcpClose); err != nil {
			return 0, err
		}
	}
	return sum ^ n*0x9e3779b97f4a7c15, nil
}

// dumpTCP dumps the TCP listeners with dump: in one walk with the legacy
// request when the kernel has it, else one per family.
func (f *Fingerprinter) dumpTCP(dump func(typ uint16, family, proto uint8, states uint32) error) error {
	if !f.noV1 {
		err := dump(tcpDiagGetSock, 0, ipprotoTCP, 1<<tcpListen)
		var errno unix.Errno
		switch {
		case err == nil:
			return nil
		case errors.As(err, &errno) && netlinkRefused(err):
			f.noV1 = true // no compat handler: one dump per family
		default:
			return err
		}
	}
	for _, fam := range [...]uint8{afINET, afINET6} {
		if err := dump(sockDiagByFamily, fam, ipprotoTCP, 1<<tcpListen); err != nil {
			return err
		}
	}
	return nil
}

// appendFingerprintRequest appends a dump request without a port filter:
// SOCK_DIAG_BY_FAMILY (inet_diag_req_v2) or TCPDIAG_GETSOCK (inet_diag_req).
func appendFingerprintRequest(b []byte, typ uint16, seq uint32, family, proto uint8, states uint32) []byte {
	if typ == sockDiagByFamily {
		return appendDiagRequest(b, seq, family, proto, states, 0, 65535)
	}
	total := nlmsgHdrLen + diagReqV1Len
	start := len(b)
	b = append(b, make([]byte, total)...)
	m := b[start:]
	ne := binary.NativeEndian
	ne.PutUint32(m[0:], uint32(total))
	ne.PutUint16(m[4:], typ)
	ne.PutUint16(m[6:], nlmFRequest|nlmFDump)
	ne.PutUint32(m[8:], seq)
	// struct inet_diag_req: family, src_len, dst_len, ext, sockid (48),
	// states, dbs. The family is ignored for dumps (AF_UNSPEC).
	r := m[nlmsgHdrLen:]
	r[0] = afINET
	ne.PutUint32(r[52:], states)
	return b
}

// read consumes one dump and returns the sum of its sockets' hashes and
// their count. Replies carry the request's message type.
func (f *Fingerprinter) read(fd int, seq uint32, typ uint16, proto uint8) (sum, count uint64, err error) {
	ne := binary.NativeEndian
	for {
		m, err := unix.Read(fd, f.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		if m == 0 {
			return 0, 0, errFingerprint
		}
		b := f.buf[:m]
		for len(b) >= nlmsgHdrLen {
			l := int(ne.Uint32(b[0:]))
			t := ne.Uint16(b[4:])
			flags := ne.Uint16(b[6:])
			if l < nlmsgHdrLen || l > len(b) {
				return 0, 0, errFingerprint
			}
			if ne.Uint32(b[8:]) != seq {
				b = b[min(nlmsgAlign(l), len(b)):]
				continue
			}
			switch {
			case flags&nlmFDumpIntr != 0:
				return 0, 0, errFingerprint
			case t == nlmsgError:
				if l >= nlmsgHdrLen+4 {
					if e := int32(ne.Uint32(b[nlmsgHdrLen:])); e < 0 {
						return 0, 0, unix.Errno(-e)
					}
				}
				return 0, 0, errFingerprint
			case t == nlmsgDone:
				if l >= nlmsgHdrLen+4 {
					if e := int32(ne.Uint32(b[nlmsgHdrLen:])); e < 0 {
						return 0, 0, unix.Errno(-e)
					}
				}
				return sum, count, nil
			case t == typ && l >= nlmsgHdrLen+diagMsgLen:
				d := b[nlmsgHdrLen : nlmsgHdrLen+diagMsgLen]
				if h, ok := fingerprintSocket(d, proto); ok {
					sum += h
					count++
				}
			}
			b = b[min(nlmsgAlign(l), len(b)):]
		}
	}
}

// fingerprintSocket hashes one inet_diag_msg: family, state, timer,
// retrans, then the id (sport, dport big endian, src[16], dst[16], if,
// cookie[8]), then expires, rqueue, wqueue, uid, inode. ok is false for the
// sockets List leaves out: not bound yet, not listening, or a connected UDP
// socket (a client).
func fingerprintSocket(d []byte, proto uint8) (uint64, bool) {
	sport, dport := binary.BigEndian.Uint16(d[4:]), binary.BigEndian.Uint16(d[6:])
	if sport == 0 {
		return 0, false
	}
	if proto == ipprotoTCP && d[1] != tcpListen {
		return 0, false
	}
	if proto == ipprotoUDP && (dport != 0 || !allZero(d[24:40])) {
		return 0, false
	}
	h := uint64(14695981039346656037)
	mix := func(x byte) { h = (h ^ uint64(x)) * 1099511628211 }
	mix(proto)
	mix(d[0])
	mix(d[4]) // sport
	mix(d[5])
	for _, x := range d[8:24] { // src
		mix(x)
	}
	for _, x := range d[68:72] { // inode
		mix(x)
	}
	return h, true
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
