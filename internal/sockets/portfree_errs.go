package sockets

import (
	"errors"
	"net"
	"strings"
)

// isAddrNotAvail reports a bind error that means "this address family or
// address does not exist here" rather than "port in use".
func isAddrNotAvail(err error) bool {
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "address family not supported") ||
		strings.Contains(s, "cannot assign requested address") ||
		strings.Contains(s, "requested address is not valid") ||
		strings.Contains(s, "no suitable address")
}
