//go:build !linux

package sockets

// NetNSNames maps network namespace inodes to names; only Linux has them.
func NetNSNames() map[uint64]string { return map[uint64]string{} }
