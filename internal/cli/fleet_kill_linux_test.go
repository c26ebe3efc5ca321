package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/ports"
)

// fleetServer starts `porthole serve` as a process on addr with the fleet
// API and returns its address.
func fleetServer(t *testing.T, db, adminFile, addr string) (string, func(sig syscall.Signal)) {
	t.Helper()
	cmd, stderr := child(t, []string{audWatchMainEnv + "=1"}, "serve", "--addr", addr, "--db", db, "--admin-token-file", adminFile)
	m := waitStderr(t, stderr, regexp.MustCompile(`serving http://(\S+)/`))
	return m[1], func(sig syscall.Signal) {
		cmd.Process.Signal(sig)
		waitExit(t, cmd, stderr)
	}
}

// TestFleetServerKilled: reports stream into a real serve process that is
// SIGKILLed midway; after a restart every report it acknowledged is in the
// inventory.
func TestFleetServerKilled(t *testing.T) {
	f := fleetSetup(t, "k1")
	db, tok := f.db, f.tok
	addr, stop := fleetServer(t, db, f.adminFile, "127.0.0.1:0")
	var mu sync.Mutex
	acked := map[uint16]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		client := &http.Client{Timeout: 5 * time.Second}
		var run [16]byte
		rand.Read(run[:])
		agentID := fmt.Sprintf("%x", run)
		for seq := uint64(1); seq < 5000; seq++ {
			r := fleet.Report{Host: "k1", Agent: agentID, Seq: seq, Kind: fleet.KindDelta, Interval: 30 * time.Second,
				Added: []fleet.Listener{{Key: fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: uint16(seq)}, Owner: fleet.NoOwner}}}
			if seq == 1 {
				r.Kind, r.Listeners, r.Added = fleet.KindFull, r.Added, nil
			}
			b, _ := fleet.Encode(r)
			req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/fleet/report", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			if err != nil {
				return // the server is gone
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return
			}
			mu.Lock()
			acked[uint16(seq)] = true
			mu.Unlock()
		}
	}()
	// Kill it once some reports are in.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 50 {
			break
		}
		select {
		case <-done:
			t.Fatal("the reports stopped before the kill")
		case <-time.After(10 * time.Millisecond):
		}
	}
	stop(syscall.SIGKILL)
	<-done
	_, stop = fleetServer(t, db, f.adminFile, addr)
	defer stop(syscall.SIGTERM)
	st, err := fleetdb.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ls, err := st.Listeners(context.Background(), "k1")
	if err != nil {
		t.Fatal(err)
	}
	have := map[uint16]bool{}
	for _, l := range ls {
		have[l.Port] = true
	}
	for p := range acked {
		if !have[p] {
			t.Errorf("report %d was acknowledged and is lost", p)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d reports acknowledged before SIGKILL, %d in the inventory", len(acked), len(have))
}

// TestFleetAgentKilled: a real agent SIGKILLed and started again resyncs
// with one full report: nothing recorded twice, nothing lost.
func TestFleetAgentKilled(t *testing.T) {
	f := fleetSetup(t, "k2")
	dir, db, tokFile := f.dir, f.db, f.tokFile
	addr, stop := fleetServer(t, db, f.adminFile, "127.0.0.1:0")
	defer stop(syscall.SIGTERM)
	st, err := fleetdb.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// ours counts the test's own listeners on p (tcp 127.0.0.1:p of host k2):
	// other processes on this machine may listen on the same number over
	// another protocol or address, or take it once the test closes it.
	ours := func(p int) int {
		ls, _ := st.Port(context.Background(), p)
		n := 0
		for _, l := range ls {
			if l.Host == "k2" && l.Proto.String() == "tcp" && l.Addr == loopback4 {
				n++
			}
		}
		return n
	}
	has := func(p int) func() bool { return func() bool { return ours(p) == 1 } }
	gone := func(p int) func() bool { return func() bool { return ours(p) == 0 } }
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute) // a guard against a hang on a loaded machine
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("never saw %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	spool := filepath.Join(dir, "spool")
	agent := func() func() {
		cmd, stderr := child(t, []string{audWatchMainEnv + "=1"}, "agent", "--server", "http://"+addr,
			"--token-file", tokFile, "--name", "k2", "--interval", "1s", "--spool", spool)
		return func() { cmd.Process.Signal(syscall.SIGKILL); waitExit(t, cmd, stderr) }
	}
	l1, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p1 := l1.Addr().(*net.TCPAddr).Port
	kill := agent()
	waitFor("the first listener", has(p1))
	kill()
	// While no agent runs, one listener goes and another comes.
	l1.Close()
	l2, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	p2 := l2.Addr().(*net.TCPAddr).Port
	kill = agent()
	defer kill()
	waitFor("the second listener", has(p2))
	waitFor("the first listener gone", gone(p1))
	cs, err := allChanges(st, "k2")
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, c := range cs {
		switch c.Kind {
		case fleetdb.Run, fleetdb.Gap:
			count[string(c.Kind)]++
		default:
			if p := int(c.Listener.Port); (p == p1 || p == p2) && c.Listener.Proto.String() == "tcp" && c.Listener.Addr == loopback4 {
				count[fmt.Sprintf("%s %d", c.Kind, p)]++
			}
		}
	}
	want := map[string]int{"run": 2, fmt.Sprintf("added %d", p1): 1, fmt.Sprintf("removed %d", p1): 1, fmt.Sprintf("added %d", p2): 1}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%q recorded %d times, want %d (all: %v)", k, count[k], n, count)
		}
	}
	if count["gap"] != 0 {
		t.Errorf("%d gaps recorded", count["gap"])
	}
}
