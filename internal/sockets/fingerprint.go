package sockets

// Fingerprinter tells cheaply whether the host namespace's listeners may
// have changed: Fingerprint hashes (protocol, family, port, address, inode)
// of the TCP listeners and unconnected UDP sockets that List would return
// for the host namespace, straight from the kernel's replies, without
// decoding them into Listeners, sorting or looking owners up. Equal
// fingerprints mean the same socket set (up to hash collisions); the value
// is meaningful only compared with another from the same system.
//
// As root it also loads a BPF program that counts sockets entering and
// leaving TCP LISTEN (listen_trigger_linux.go) and reuses the TCP part of
// the previous fingerprint while that count stands, for at most nine calls
// in a row; UDP is dumped every time.
//
// A Fingerprinter keeps its netlink socket, buffer and counter between
// calls; Close releases them. The zero value is ready to use. It is not safe for
// concurrent use. Where there is no sock_diag (not Linux, or netlink
// refused) Fingerprint returns an error and the caller should compare
// listings instead.
type Fingerprinter struct {
	fingerprinter
}
