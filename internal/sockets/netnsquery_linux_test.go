package sockets

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// Query.NetNS: our own namespace's file lists our own listeners (as the
// host's); a path that is no namespace is an error, never an empty answer.
func TestQueryNetNS(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	ls, err := List(context.Background(), Query{TCP: true, Ports: Ports(port, port), NetNS: "/proc/self/ns/net"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 1 || !ls[0].HostNetNS || ls[0].Port != port {
		t.Errorf("List in our own namespace's file = %+v", ls)
	}
	notNS := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notNS, nil, 0o600)
	for _, p := range []string{filepath.Join(t.TempDir(), "missing"), t.TempDir(), notNS} {
		if ls, err := List(context.Background(), Query{NetNS: p}); err == nil {
			t.Errorf("List(NetNS %s) = %d listeners, no error", p, len(ls))
		}
	}
}
