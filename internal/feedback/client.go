package feedback

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientKey identifies a client for rate limiting and logs without keeping its address: a keyed hash of the
// address (of its /64 for IPv6, where one host usually owns the whole prefix), with a key drawn at start-up and
// never stored, so the hash cannot be reversed by trying every address.
type clientKey [16]byte

func (k clientKey) String() string { return hex.EncodeToString(k[:6]) }

type clientHasher struct{ secret [32]byte }

func newClientHasher() *clientHasher {
	h := &clientHasher{}
	rand.Read(h.secret[:])
	return h
}

// key derives the client key of r. X-Forwarded-For is read only when trustProxy is set, and then only its last
// address: the one our own proxy appended, which the client cannot forge.
func (h *clientHasher) key(r *http.Request, trustProxy bool) clientKey {
	addr := remoteAddr(r.RemoteAddr)
	if trustProxy {
		if a, ok := lastForwarded(r.Header.Values("X-Forwarded-For")); ok {
			addr = a
		}
	}
	var b []byte
	if addr.IsValid() {
		addr = addr.Unmap()
		if addr.Is6() {
			addr = netip.PrefixFrom(addr, 64).Masked().Addr()
		}
		b = addr.AsSlice()
	} else {
		b = []byte(r.RemoteAddr) // not an IP (a unix socket, a test); still hashed
	}
	m := hmac.New(sha256.New, h.secret[:])
	m.Write(b)
	var k clientKey
	copy(k[:], m.Sum(nil))
	return k
}

func remoteAddr(s string) netip.Addr {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, _ := netip.ParseAddr(host)
	return a
}

func lastForwarded(values []string) (netip.Addr, bool) {
	if len(values) == 0 {
		return netip.Addr{}, false
	}
	parts := strings.Split(values[len(values)-1], ",")
	a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1]))
	return a, err == nil
}
