package sockets

// Parser for /proc/net/{tcp,tcp6,udp,udp6}, the fallback when netlink
// sock_diag is refused. The format is the one printed by get_tcp4_sock,
// tcp6_sock_seq_show and udp4_format_sock/udp6_sock_seq_show in the kernel:
//
//	sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
//	0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 12345 ...
//
// Addresses are %08X of each 32-bit word as the kernel holds it (network
// order bytes read as a host integer), so they are decoded with the host's
// byte order. Untagged so it is tested and fuzzed everywhere.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
)

// procNetEntry is one row of a /proc/net socket table.
type procNetEntry struct {
	Local, Remote netip.Addr
	LPort, RPort  uint16
	State         uint8
	UID           uint32
	Inode         uint64
}

// maxProcNetRows bounds the work on a corrupt or hostile file.
const maxProcNetRows = 1 << 22

// parseProcNet reads a /proc/net socket table and calls fn for each row.
// Rows are parsed in place from the bufio buffer: no allocation per row.
func parseProcNet(r io.Reader, fn func(*procNetEntry)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var fields [10][]byte
	for row := 0; ; row++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return errors.New("/proc/net: line too long")
		}
		if len(line) > 0 && row > 0 {
			if row > maxProcNetRows {
				return errors.New("/proc/net: too many rows")
			}
			n := splitFields(line, fields[:])
			if n < len(fields) {
				return fmt.Errorf("/proc/net: row %d has %d fields", row, n)
			}
			var e procNetEntry
			var ok bool
			if e.Local, e.LPort, ok = parseHexAddrPort(fields[1]); !ok {
				return fmt.Errorf("/proc/net: row %d: bad local address %q", row, fields[1])
			}
			if e.Remote, e.RPort, ok = parseHexAddrPort(fields[2]); !ok {
				return fmt.Errorf("/proc/net: row %d: bad remote address %q", row, fields[2])
			}
			st, ok := parseUint(fields[3], 16, 8)
			if !ok {
				return fmt.Errorf("/proc/net: row %d: bad state %q", row, fields[3])
			}
			e.State = uint8(st)
			uid, ok := parseUint(fields[7], 10, 32)
			if !ok {
				return fmt.Errorf("/proc/net: row %d: bad uid %q", row, fields[7])
			}
			e.UID = uint32(uid)
			if e.Inode, ok = parseUint(fields[9], 10, 64); !ok {
				return fmt.Errorf("/proc/net: row %d: bad inode %q", row, fields[9])
			}
			fn(&e)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// splitFields stores up to len(out) space-separated fields of line in out and
// returns how many it found.
func splitFields(line []byte, out [][]byte) int {
	n := 0
	i := 0
	for n < len(out) {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\n') {
			i++
		}
		if i >= len(line) {
			break
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != '\n' {
			j++
		}
		out[n] = line[i:j]
		n++
		i = j
	}
	return n
}

// parseUint parses an unsigned number in base 10 or 16 without allocating.
func parseUint(b []byte, base int, bits uint) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if v > (math.MaxUint64-d)/uint64(base) {
			return 0, false
		}
		v = v*uint64(base) + d
	}
	if bits < 64 && v>>bits != 0 {
		return 0, false
	}
	return v, true
}

// parseHexAddrPort parses "0100007F:0277" (IPv4) or a 32-hex-digit IPv6
// address followed by ":PORT".
func parseHexAddrPort(b []byte) (netip.Addr, uint16, bool) {
	colon := -1
	for i, c := range b {
		if c == ':' {
			colon = i
			break
		}
	}
	if colon < 0 {
		return netip.Addr{}, 0, false
	}
	port, ok := parseUint(b[colon+1:], 16, 16)
	if !ok {
		return netip.Addr{}, 0, false
	}
	a := b[:colon]
	switch len(a) {
	case 8:
		w, ok := parseUint(a, 16, 32)
		if !ok {
			return netip.Addr{}, 0, false
		}
		var ip [4]byte
		binary.NativeEndian.PutUint32(ip[:], uint32(w))
		return netip.AddrFrom4(ip), uint16(port), true
	case 32:
		var ip [16]byte
		for i := 0; i < 4; i++ {
			w, ok := parseUint(a[i*8:i*8+8], 16, 32)
			if !ok {
				return netip.Addr{}, 0, false
			}
			binary.NativeEndian.PutUint32(ip[i*4:], uint32(w))
		}
		return netip.AddrFrom16(ip), uint16(port), true
	}
	return netip.Addr{}, 0, false
}
