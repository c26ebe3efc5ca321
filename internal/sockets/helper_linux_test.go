package sockets

import (
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
	"golang.org/x/sys/unix"
)

// The test binary doubles as the listener helper (testenv's socket helper):
// it binds what the spec lists and holds the sockets until stdin closes.
// Spec items (comma separated), each optionally prefixed with "N*":
//
//	tcp4 tcp6 tcpdual tcp4any udp4 udp6 udpdual udp4any udpconn tcpconn
//
// and two kinds that open nothing but change how the next sockets are
// numbered (runsBind): cpuN, skip.
func TestMain(m *testing.M) {
	testenv.SocketHelperMain(runsBind)
	os.Exit(m.Run())
}

// runsBind is testenv.Bind with two more kinds, to make a helper whose
// sockets are numbered in several runs, as a process that moves between
// CPUs while making them: "cpuN" keeps the helper's binding thread on CPU N
// alone from then on (the kernel numbers a socket from the block of the
// CPU that makes it), "skip" makes and closes 1,100 pipes (each takes a
// number from the same counter: more than one block of 1,024).
func runsBind(kind string, port int) ([]io.Closer, int, error) {
	switch {
	case strings.HasPrefix(kind, "cpu"):
		n, err := strconv.Atoi(kind[len("cpu"):])
		if err != nil {
			return nil, 0, err
		}
		// holdSockets binds from one goroutine: keep it on this thread,
		// whose affinity is set.
		runtime.LockOSThread()
		var set unix.CPUSet
		set.Set(n)
		return nil, 0, unix.SchedSetaffinity(0, &set)
	case kind == "skip":
		for range 1100 {
			var p [2]int
			if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
				return nil, 0, err
			}
			unix.Close(p[0])
			unix.Close(p[1])
		}
		return nil, 0, nil
	}
	return testenv.Bind(kind, port)
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
