package sockets

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/porthole/porthole/internal/ports"
)

// ErrInUse is matched (errors.Is) by a CheckPort error that means the port
// is held: a listener has it, or the system keeps it for itself (a Windows
// excluded port range).
var ErrInUse = errors.New("port in use")

// BindError is a bind that failed for a reason other than "in use": the
// port could not be tested, so nothing can be said about it (permission
// denied, no sockets left, a firewall hook). Callers should stop and say so
// rather than count the port as busy.
type BindError struct {
	Proto ports.Proto
	Port  int
	Err   error
}

func (e *BindError) Error() string {
	return fmt.Sprintf("cannot test %s port %d: %v", e.Proto, e.Port, e.Err)
}

func (e *BindError) Unwrap() error { return e.Err }

// PortFree reports whether port can be bound for proto (ports.TCP or
// ports.UDP) on the wildcard addresses of both families right now; see
// CheckPort.
func PortFree(proto ports.Proto, port int) bool { return CheckPort(proto, port) == nil }

// CheckPort tests whether port can be bound for proto (ports.TCP or ports.UDP) on
// the wildcard addresses of both families right now, which also means no
// loopback or specific-address listener holds it in this namespace. It binds
// and closes immediately. It returns nil when the port is free, an error
// matching ErrInUse when it is held, and a *BindError when the test itself
// failed. An IPv6 stack that is missing is not held against the port.
// Listeners in other network namespaces do not count.
func CheckPort(proto ports.Proto, port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("port %d: %w", port, ErrInUse)
	}
	if proto != ports.TCP && proto != ports.UDP {
		return &BindError{Proto: proto, Port: port, Err: errors.New("only tcp and udp can be tested")}
	}
	p, network := strconv.Itoa(port), proto.String()
	try := func(network, addr string) error {
		var err error
		if proto == ports.TCP {
			var l net.Listener
			if l, err = net.Listen(network, net.JoinHostPort(addr, p)); err == nil {
				l.Close()
			}
		} else {
			var c net.PacketConn
			if c, err = net.ListenPacket(network, net.JoinHostPort(addr, p)); err == nil {
				c.Close()
			}
		}
		return err
	}
	// Go's wildcard listeners set SO_REUSEADDR, which on some systems lets a
	// wildcard bind succeed beside a loopback listener; check loopback too.
	for _, b := range []struct {
		network, addr string
		v6            bool
	}{{network + "4", "0.0.0.0", false}, {network + "6", "::", true}, {network + "4", "127.0.0.1", false}, {network + "6", "::1", true}} {
		err := try(b.network, b.addr)
		switch {
		case err == nil:
		case b.v6 && isAddrNotAvail(err):
			// no IPv6 here
		case isInUse(err):
			return fmt.Errorf("%s port %d: %w", proto, port, ErrInUse)
		default:
			return &BindError{Proto: proto, Port: port, Err: err}
		}
	}
	return nil
}
