//go:build !linux

package sockets

import "errors"

type fingerprinter struct{}

// Fingerprint returns an order-independent hash of the listening sockets.
func (*Fingerprinter) Fingerprint() (uint64, error) {
	return 0, errors.New("no sock_diag fingerprint on this system")
}

// Close releases the netlink socket.
func (*Fingerprinter) Close() error { return nil }
