package testenv

import (
	"fmt"
	"io"
	"net"
	"strconv"
)

// Bind is the socket helper's default Binder. Kinds:
//
//	tcp4 tcp6 (loopback), tcp4any tcp6any (wildcard, v6-only), tcpdual (Go's
//	dual-stack wildcard), the same for udp, udpconn (a connected UDP client,
//	not a listener) and tcpconn (an outgoing TCP connection and its peer).
//
// For udpconn and tcpconn the port is the client's local port.
func Bind(kind string, port int) ([]io.Closer, int, error) {
	hp := ":" + strconv.Itoa(port)
	listen := func(network, host string) ([]io.Closer, int, error) {
		l, err := net.Listen(network, host+hp)
		if err != nil {
			return nil, 0, err
		}
		return []io.Closer{l}, l.Addr().(*net.TCPAddr).Port, nil
	}
	packet := func(network, host string) ([]io.Closer, int, error) {
		c, err := net.ListenPacket(network, host+hp)
		if err != nil {
			return nil, 0, err
		}
		return []io.Closer{c}, c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	switch kind {
	case "tcp4":
		return listen("tcp4", "127.0.0.1")
	case "tcp6":
		return listen("tcp6", "[::1]")
	case "tcp4any":
		return listen("tcp4", "0.0.0.0")
	case "tcp6any":
		return listen("tcp6", "[::]")
	case "tcpdual": // Go makes "tcp" on a wildcard a dual-stack socket
		return listen("tcp", "")
	case "udp4":
		return packet("udp4", "127.0.0.1")
	case "udp6":
		return packet("udp6", "[::1]")
	case "udp4any":
		return packet("udp4", "0.0.0.0")
	case "udp6any":
		return packet("udp6", "[::]")
	case "udpdual":
		return packet("udp", "")
	case "udpconn":
		srv, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return nil, 0, err
		}
		defer srv.Close()
		c, err := net.Dial("udp4", srv.LocalAddr().String())
		if err != nil {
			return nil, 0, err
		}
		return []io.Closer{c}, c.LocalAddr().(*net.UDPAddr).Port, nil
	case "tcpconn":
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, 0, err
		}
		defer l.Close()
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			return nil, 0, err
		}
		s, err := l.Accept()
		if err != nil {
			c.Close()
			return nil, 0, err
		}
		return []io.Closer{c, s}, c.LocalAddr().(*net.TCPAddr).Port, nil
	}
	return nil, 0, fmt.Errorf("unknown kind %q", kind)
}
