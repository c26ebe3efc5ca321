package cli

import (
	"io"
	"net/netip"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/process"
	"github.com/porthole/porthole/internal/sockets"
)

// harnessListeners is what sockets.List reports on the listener benchmark's
// harness (scripts/bench-listeners.sh): n TCP listeners on 127.0.0.1, one
// port each from 32768 up, held by 100 processes of one program. exe is
// that program (the Go harness runs from a /tmp directory, the Python one
// is an interpreter with a script argument).
func harnessListeners(n int, exe string, cmdline []string) []sockets.Listener {
	owners := make([][]process.Info, 100)
	for i := range owners {
		owners[i] = []process.Info{{PID: 1000 + i, Name: "holder", Exe: exe, Cmdline: cmdline, UID: 0, User: "root"}}
	}
	ls := make([]sockets.Listener, n)
	for i := range ls {
		ls[i] = sockets.Listener{Proto: ports.TCP, Family: 4, Addr: netip.AddrFrom4([4]byte{127, 0, 0, 1}),
			Port: 32768 + i, Inode: uint64(100000 + i), UID: 0, NetNS: 1, HostNetNS: true, Owners: owners[i*100/n]}
	}
	return ls
}

func benchListRows(b *testing.B, exe string, cmdline []string) {
	k, err := loadKnowledge(&Env{Getenv: testGetenv})
	if err != nil {
		b.Fatal(err)
	}
	ls := harnessListeners(10000, exe, cmdline)
	env := testEnv(nil, io.Discard, io.Discard)
	// list runs with the collector paused (pauseGC): so do these, from an
	// emptied heap each time.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	loop := func(b *testing.B, f func()) {
		for b.Loop() {
			b.StopTimer()
			runtime.GC()
			b.StartTimer()
			f()
		}
	}
	b.Run("annotate", func(b *testing.B) {
		loop(b, func() { dossier.Annotate(ls, k.reg, k.intel) })
	})
	b.Run("flags", func(b *testing.B) {
		rows := dossier.Annotate(ls, k.reg, k.intel)
		loop(b, func() {
			for i := range rows {
				rows[i].Flag = ""
			}
			audit.Flags(rows)
		})
	})
	b.Run("render", func(b *testing.B) {
		rows := k.flagged(env, ls)
		loop(b, func() {
			t := newText(env, "en")
			flush := t.buffered()
			renderListTable(t, rows, false, false)
			flush()
		})
	})
}

// BenchmarkListRows times what list does after the dump, for the two
// harnesses' 10,000 rows: annotation, flags, and the text.
func BenchmarkListRowsGo(b *testing.B) {
	benchListRows(b, "/tmp/tmp.abc/listeners", []string{"/tmp/tmp.abc/listeners", "-child", "-n", "100"})
}

func BenchmarkListRowsPy(b *testing.B) {
	benchListRows(b, "/usr/bin/python3.11", []string{"/usr/bin/python3", "bench/listeners/holders.py", "-child", "-n", "100"})
}
