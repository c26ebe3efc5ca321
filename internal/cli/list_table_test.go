package cli

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/sockets"
)

// listTableRows covers every part of a list row: service and flag of each
// severity, a flag without a service, a deleted executable with and without
// its own flag, long services and process names that must be cut, a
// dual-stack socket, an unknown owner, and another network namespace.
func listTableRows() []dossier.Listener {
	pid := func(n int) *int { return &n }
	lo, any4, any6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("::")
	return []dossier.Listener{
		{Proto: ports.TCP, Family: 4, Addr: any4, Port: 22, PID: pid(812), Process: "sshd", User: "root", Service: "ssh", HostNetNS: true},
		{Proto: ports.TCP, Family: 4, Addr: any4, Port: 2556, PID: pid(4242), Process: "bagle", User: "root", Service: "nicetec-nmsvc",
			Flag: "worm", FlagSeverity: "critical", HostNetNS: true},
		{Proto: ports.TCP, Family: 4, Addr: lo, Port: 4444, PID: pid(77), Process: "agent", User: "nobody", ExeDeleted: true,
			Flag: "deleted-exe", FlagSeverity: "high", HostNetNS: true},
		{Proto: ports.TCP, Family: 4, Addr: lo, Port: 5000, PID: pid(78), Process: "app", User: "app", ExeDeleted: true,
			Service: "commplex-main", Flag: "tmp-exe", FlagSeverity: "high", HostNetNS: true},
		{Proto: ports.TCP, Family: 6, Addr: any6, Port: 6379, DualStack: true, PID: pid(900), Process: "redis-server-with-a-long-name",
			User: "redis-daemon-user", Service: "redis", Flag: "exposed", FlagSeverity: "medium", HostNetNS: true},
		{Proto: ports.UDP, Family: 4, Addr: any4, Port: 111, PID: pid(600), Process: "rpcbind", User: "_rpc", Service: "sunrpc",
			Flag: "priv-port", FlagSeverity: "low", HostNetNS: true},
		{Proto: ports.TCP, Family: 4, Addr: lo, Port: 9999, OwnerUnknown: sockets.OwnerNotFound, Flag: "no-owner", FlagSeverity: "medium", HostNetNS: true},
		{Proto: ports.TCP, Family: 4, Addr: lo, Port: 3001, PID: pid(5), Process: "x", User: "u",
			Service: "a-registry-service-name-long-enough-to-be-cut-at-eighty-columns", Flag: "unexpected", FlagSeverity: "medium", HostNetNS: true},
		{Proto: ports.TCP, Family: 4, Addr: lo, Port: 3002, PID: pid(6), Process: "y", User: "u", ExeDeleted: true,
			Service: "another-long-service-name-that-is-cut", Flag: "shell", FlagSeverity: "high", HostNetNS: true},
		{Proto: ports.TCP, Family: 4, Addr: lo, Port: 8080, PID: pid(7), Process: "z", User: "u", Service: "http-alt", NetNS: 4026532500, NetNSName: "blue"},
	}
}

// TestListTableGolden: the rows of list's table, plain and coloured, at
// 80 and 50 columns and whole (--wide), with and without the namespace
// column.
func TestListTableGolden(t *testing.T) {
	var all bytes.Buffer
	for _, c := range []struct {
		name        string
		cols        int
		color, wide bool
		showNS      bool
	}{
		{"80", 80, false, false, false}, {"80 colour", 80, true, false, false}, {"100 colour", 100, true, false, false}, {"50", 50, false, false, false},
		{"50 colour", 50, true, false, true}, {"wide colour", 80, true, true, true},
	} {
		var out bytes.Buffer
		t1 := &text{w: &out, lang: "en", color: c.color, cols: c.cols}
		renderListTable(t1, listTableRows(), c.showNS, c.wide)
		all.WriteString("== " + c.name + "\n")
		all.Write(out.Bytes())
	}
	golden(t, "list-table.txt", all.String())
}
