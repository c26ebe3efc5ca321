package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
	"golang.org/x/sys/unix"
)

// listenInNetNS opens a TCP listener inside the named namespace from this
// process (the owner is the test itself) and returns its port.
func listenInNetNS(t *testing.T, name string) int {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	ln, lerr := net.Listen("tcp", "127.0.0.1:0")
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// This thread is in the wrong namespace: let it die with the
		// test rather than run other goroutines.
		panic(err)
	}
	if lerr != nil {
		t.Fatal(lerr)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// TestNetNSNames creates a real `ip netns add` namespace with a listener in
// it: list, who and audit name the namespace, and advice that names a
// command carries --all-netns.
func TestNetNSNames(t *testing.T) {
	needTools(t, "ip")
	name := fmt.Sprintf("porthole-test-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		testenv.Missing(t, "ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
	if out, err := exec.Command("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	port := listenInNetNS(t, name)
	ps := strconv.Itoa(port)

	r := run(t, "", "list", "--json", "--all-netns", "--tcp")
	var rows []struct {
		Port      int
		NetNS     *uint64 `json:"netns"`
		NetNSName *string `json:"netns_name"`
		HostNetNS bool    `json:"host_netns"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	found := false
	for _, row := range rows {
		if row.Port == port && !row.HostNetNS {
			found = true
			if row.NetNSName == nil || *row.NetNSName != name || row.NetNS == nil {
				t.Errorf("row in %s: netns %v name %v", name, row.NetNS, row.NetNSName)
			}
		}
		if row.HostNetNS && row.NetNSName != nil {
			t.Errorf("host row has a netns name %q", *row.NetNSName)
		}
	}
	if !found {
		t.Fatalf("list --all-netns misses tcp/%d in %s:\n%s", port, name, r.stdout)
	}
	short := name
	if len(short) > 11 {
		short = short[:10] + "…"
	}
	if r := run(t, "", "list", "--all-netns", "--tcp"); !strings.Contains(r.stdout, short) {
		t.Errorf("list text lacks the netns name %q:\n%s", short, r.stdout)
	}
	if r := run(t, "", "list", "--all-netns", "--tcp", "--wide"); !strings.Contains(r.stdout, name+" ") {
		t.Errorf("list --wide lacks the whole netns name %q:\n%s", name, r.stdout)
	}
	if r := run(t, "", "who", "--all-netns", "tcp/"+ps); r.code != 0 || !strings.Contains(r.stdout, "netns "+name) {
		t.Errorf("who: exit %d, lacks %q:\n%s%s", r.code, "netns "+name, r.stdout, r.stderr)
	}
	r = run(t, "", "audit", "--all-netns", "tcp/"+ps)
	if !strings.Contains(r.stdout, "netns "+name) {
		t.Errorf("audit lacks the netns name:\n%s", r.stdout)
	}
	// The test binary runs from a temporary directory, so there is a
	// finding, and its advice must reach into the namespace.
	if !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), "porthole who tcp/"+ps+" --all-netns") {
		t.Errorf("audit advice lacks --all-netns:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "run porthole as root") {
		t.Errorf("audit tells root to run as root:\n%s", r.stdout)
	}
}
