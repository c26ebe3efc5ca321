package promtext

import (
	"io"
	"net"
	"os"
	"testing"
	"time"
)

func TestParseProcStatSelf(t *testing.T) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseProcStat(b)
	if err != nil {
		t.Fatal(err)
	}
	if st.RSSPages == 0 || st.VSize < st.RSSPages*uint64(os.Getpagesize()) {
		t.Errorf("rss %d pages, vsize %d bytes: not a running process", st.RSSPages, st.VSize)
	}
	sb, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	boot, err := parseBootTime(sb)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(int64(boot)+int64(st.StartTicks/userHZ), 0)
	if now := time.Now(); start.After(now.Add(2*time.Second)) || start.Before(now.Add(-24*time.Hour)) {
		t.Errorf("this test process started at %v, now is %v", start, now)
	}
}

func TestParseProcStatHostileName(t *testing.T) {
	// A command name may hold spaces and parentheses; fields count from the last ')'.
	line := "4242 (a) (b c) S 1 4242 4242 0 -1 4194560 100 0 0 0 3 4 0 0 20 0 1 0 777 123456 89 18446744073709551615\n"
	st, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.StartTicks != 777 || st.VSize != 123456 || st.RSSPages != 89 {
		t.Errorf("got %+v", st)
	}
	for _, bad := range []string{"", "4242 no paren", "1 (x) S 1 2 3", "1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -5 6 7 8"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) succeeded", bad)
		}
	}
}

func TestParseNetstatCountsLoopbackTraffic(t *testing.T) {
	read := func() (uint64, uint64) {
		t.Helper()
		b, err := os.ReadFile("/proc/self/net/netstat")
		if err != nil {
			t.Fatal(err)
		}
		in, out, err := parseNetstat(b)
		if err != nil {
			t.Fatal(err)
		}
		return in, out
	}
	in0, out0 := read()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n = 1 << 20
	done := make(chan int64)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- 0
			return
		}
		got, _ := io.Copy(io.Discard, c)
		c.Close()
		done <- got
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if got := <-done; got != n {
		t.Fatalf("the server read %d bytes, want %d", got, n)
	}
	in1, out1 := read()
	if in1-in0 < n || out1-out0 < n {
		t.Errorf("after %d bytes over loopback: InOctets +%d, OutOctets +%d", n, in1-in0, out1-out0)
	}
}

func TestParseNetstatRejects(t *testing.T) {
	for _, bad := range []string{
		"",
		"TcpExt: A B\nTcpExt: 1 2\n",
		"IpExt: InOctets OutOctets\n",
		"IpExt: InOctets OutOctets\nIpExt: 1\n",
		"IpExt: InOctets OutOctets\nIpExt: 1 x\n",
		"IpExt: InNoRoutes InOctets\nIpExt: 1 2\n",
		"IpExt: InOctets OutOctets\nTcpExt: 1 2\n",
	} {
		if _, _, err := parseNetstat([]byte(bad)); err == nil {
			t.Errorf("parseNetstat(%q) succeeded", bad)
		}
	}
	if _, err := parseBootTime([]byte("cpu 1 2 3\nbtime x\n")); err == nil {
		t.Error("parseBootTime accepted btime x")
	}
}

func TestProcessFamilies(t *testing.T) {
	got := map[string]bool{}
	for _, f := range Process() {
		got[f.Name] = true
	}
	for _, name := range []string{"process_cpu_seconds_total", "process_max_fds", "process_open_fds",
		"process_resident_memory_bytes", "process_start_time_seconds", "process_virtual_memory_bytes",
		"process_virtual_memory_max_bytes", "process_network_receive_bytes_total", "process_network_transmit_bytes_total"} {
		if !got[name] {
			t.Errorf("Process() lacks %s", name)
		}
	}
	n0, err := openFDs()
	if err != nil {
		t.Fatal(err)
	}
	g, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	n1, _ := openFDs()
	g.Close()
	if n1 != n0+1 {
		t.Errorf("open_fds went from %d to %d after opening one file", n0, n1)
	}
}
