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
	switch kind {
	case "udpconn":
		return udpClient()
	case "tcpconn":
		return tcpClient()
	}
	spec, ok := bindKinds[kind]
	if !ok {
		return nil, 0, fmt.Errorf("unknown kind %q", kind)
	}
	addr := net.JoinHostPort(spec.host, strconv.Itoa(port))
	if spec.network[:3] == "udp" {
		c, err := net.ListenPacket(spec.network, addr)
		if err != nil {
			return nil, 0, err
		}
		return []io.Closer{c}, c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen(spec.network, addr)
	if err != nil {
		return nil, 0, err
	}
	return []io.Closer{l}, l.Addr().(*net.TCPAddr).Port, nil
}

// bindKinds are Bind's listeners: the network and host to bind. Go makes
// "tcp" and "udp" on an empty host a dual-stack socket.
var bindKinds = map[string]struct{ network, host string }{
	"tcp4": {"tcp4", "127.0.0.1"}, "tcp6": {"tcp6", "::1"}, "tcp4any": {"tcp4", "0.0.0.0"}, "tcp6any": {"tcp6", "::"}, "tcpdual": {"tcp", ""},
	"udp4": {"udp4", "127.0.0.1"}, "udp6": {"udp6", "::1"}, "udp4any": {"udp4", "0.0.0.0"}, "udp6any": {"udp6", "::"}, "udpdual": {"udp", ""},
}

// udpClient is a connected UDP socket (its server already closed).
func udpClient() ([]io.Closer, int, error) {
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
}

// tcpClient is an established TCP connection and its peer, the listener
// already closed.
func tcpClient() ([]io.Closer, int, error) {
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
