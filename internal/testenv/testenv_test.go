package testenv_test

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.SocketHelperMain(nil)
	os.Exit(m.Run())
}

// The helper holds real sockets in another process: a second bind of the
// same TCP port fails while it runs and succeeds after Stop.
func TestStartSockets(t *testing.T) {
	h := testenv.StartSockets(t, "", "2*tcp4,udp4,tcpconn")
	if h.PID == os.Getpid() || len(h.Ports["tcp4"]) != 2 || len(h.Ports["udp4"]) != 1 || len(h.Ports["tcpconn"]) != 1 {
		t.Fatalf("helper %+v", h)
	}
	addr := "127.0.0.1:" + strconv.Itoa(h.Ports["tcp4"][1])
	if l, err := net.Listen("tcp4", addr); err == nil {
		l.Close()
		t.Fatalf("%s was free while the helper held it", addr)
	}
	h.Stop()
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatalf("%s still taken after Stop: %v", addr, err)
	}
	l.Close()
	h.Stop() // a second Stop does nothing
}

func TestStartSocketsReportsBadSpec(t *testing.T) {
	cmd, err := testenv.SocketCommand("", "nosuchkind")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("helper accepted an unknown kind: %s", out)
	}
}

func TestFirstDiff(t *testing.T) {
	for _, tc := range []struct {
		want, got string
		line      int
		w, g      string
		differ    bool
	}{
		{"a\nb\n", "a\nb\n", 0, "", "", false},
		{"a\nb\n", "a\nc\n", 2, "b", "c", true},
		{"a\n", "a\nb", 2, "", "b", true},
		{"", "x", 1, "", "x", true},
	} {
		line, w, g, differ := testenv.FirstDiff(tc.want, tc.got)
		if line != tc.line || w != tc.w || g != tc.g || differ != tc.differ {
			t.Errorf("FirstDiff(%q, %q) = %d %q %q %v", tc.want, tc.got, line, w, g, differ)
		}
	}
}

func TestSyncBuffer(t *testing.T) {
	var b testenv.SyncBuffer
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := len(b.Bytes()); n != 400 {
		t.Fatalf("%d bytes, want 400", n)
	}
}
