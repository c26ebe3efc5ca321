package sockets

import (
	"net"
	"strconv"
)

// PortFree reports whether port can be bound for proto ("tcp" or "udp") on
// the wildcard addresses of both families right now, which also means no
// loopback or specific-address listener holds it in this namespace. It binds
// and closes immediately. An IPv6 stack that is missing is not held against
// the port. Listeners in other network namespaces do not count.
func PortFree(proto string, port int) bool {
	if port < 1 || port > 65535 {
		return false
	}
	p := strconv.Itoa(port)
	try := func(network, addr string) (ok, unavailable bool) {
		switch proto {
		case "tcp":
			l, err := net.Listen(network, net.JoinHostPort(addr, p))
			if err != nil {
				return false, isAddrNotAvail(err)
			}
			l.Close()
		case "udp":
			c, err := net.ListenPacket(network, net.JoinHostPort(addr, p))
			if err != nil {
				return false, isAddrNotAvail(err)
			}
			c.Close()
		default:
			return false, false
		}
		return true, false
	}
	if ok, _ := try(proto+"4", "0.0.0.0"); !ok {
		return false
	}
	if ok, unavail := try(proto+"6", "::"); !ok && !unavail {
		return false
	}
	// Go's wildcard listeners set SO_REUSEADDR, which on some systems lets a
	// wildcard bind succeed beside a loopback listener; check loopback too.
	if ok, _ := try(proto+"4", "127.0.0.1"); !ok {
		return false
	}
	if ok, unavail := try(proto+"6", "::1"); !ok && !unavail {
		return false
	}
	return true
}
