package sockets

import (
	"os"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
)

// The test binary doubles as the listener helper (testenv's socket helper):
// it binds what the spec lists and holds the sockets until stdin closes.
// Spec items (comma separated), each optionally prefixed with "N*":
//
//	tcp4 tcp6 tcpdual tcp4any udp4 udp6 udpdual udp4any udpconn tcpconn
func TestMain(m *testing.M) {
	testenv.SocketHelperMain(nil)
	os.Exit(m.Run())
}

type helper struct {
	pid   int
	ports map[string][]int // kind -> ports
}

// startHelper starts the helper with spec; argv0 runs instead of the test
// binary when set (deleted-exe test), and wrap prefixes the command (unshare).
func startHelper(t testing.TB, spec string, exe string, wrap ...string) *helper {
	t.Helper()
	h := testenv.StartSockets(t, exe, spec, wrap...)
	return &helper{pid: h.PID, ports: h.Ports}
}

// startHelperIn starts the helper inside the cgroup v2 directory dir: a
// shell moves itself there and then execs the helper (same PID), so every
// socket the helper makes belongs to that cgroup.
func startHelperIn(t testing.TB, dir, spec string) *helper {
	t.Helper()
	return startHelper(t, spec, "", "sh", "-c", `echo 0 >"$0/cgroup.procs" && exec "$@"`, dir)
}
