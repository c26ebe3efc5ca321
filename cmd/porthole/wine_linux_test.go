package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/testenv"
)

// TestWindowsBuildUnderWine runs the Windows build of porthole, as released
// (GOOS=windows GOARCH=amd64 CGO_ENABLED=0), under Wine: version, info,
// list --json against listeners this test opens on the Linux host, and serve
// answering pages over loopback.
//
// Go 1.24 and later need ProcessPrng from bcryptprimitives.dll at start-up,
// which Wine 8 (Debian 12) lacks; testdata/wine/processprng.c is a
// test-only stand-in, built here with mingw-w64 and backed by Wine's
// BCryptGenRandom. The Go runtime loads the DLL with
// LOAD_LIBRARY_SEARCH_SYSTEM32, so it goes into the prefix's system32 (a
// copy beside the .exe would not be found).
//
// What Wine 8 shows of sockets: its iphlpapi (nsiproxy) reads the host's
// /proc/net/{tcp,tcp6,udp,udp6}, so GetExtendedTcpTable and
// GetExtendedUdpTable list every listener of the network namespace, Linux
// programs' included. The owning PID is found only by matching the socket's
// inode against /proc/PID/fd of Wine's own processes, and a Wine program's
// sockets are held by wineserver, which is not a Windows process: every row
// comes with PID 0, and porthole must say "no owning process" rather than
// invent one.
func TestWindowsBuildUnderWine(t *testing.T) {
	testenv.NeedLinux(t)
	if runtime.GOARCH != "amd64" {
		t.Skipf("the Windows amd64 build runs under Wine on amd64 only (have %s)", runtime.GOARCH)
	}
	if testing.Short() {
		t.Skip("-short: skipping Wine (about 20 s)")
	}
	wine := testenv.NeedTool(t, "wine", "wine and wine64")
	mingw := testenv.NeedTool(t, "x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
	w := newWine(t, wine, mingw)

	t.Run("version", func(t *testing.T) {
		out := w.run(t, "version", "--json")
		var got struct {
			Version, Go     string
			RegistryVersion string `json:"registry_version"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("version --json: %v\n%s", err, out)
		}
		var want struct {
			Version, Go     string
			RegistryVersion string `json:"registry_version"`
		}
		if err := json.Unmarshal(w.native(t, "version", "--json"), &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("under Wine version --json = %+v, the Linux build says %+v", got, want)
		}
	})

	t.Run("info", func(t *testing.T) {
		// --offline: the same answer as the Linux build of this tree, byte
		// for byte (a listener on 2556 would add a section to one of them).
		// The page names this machine's ephemeral range, which porthole
		// takes as 49152-65535 on Windows (the default since Vista), so the
		// Linux build runs in a network namespace with that range.
		testenv.NeedNetNS(t)
		got := w.run(t, "info", "2556", "--offline")
		want := w.native(t, "unshare", "-n", "sh", "-c",
			`echo "49152 65535" >/proc/sys/net/ipv4/ip_local_port_range && exec "$0" "$@"`,
			w.linux, "info", "2556", "--offline")
		if !bytes.Equal(got, want) {
			t.Errorf("info 2556 under Wine differs from the Linux build:\n--- Wine\n%s\n--- Linux\n%s", got, want)
		}
		if !bytes.HasPrefix(got, []byte("Port 2556: ")) {
			t.Errorf("info 2556 starts %q", firstLine(got))
		}
	})

	t.Run("list", func(t *testing.T) {
		// Listeners of this (Linux) test process: Wine lists them from
		// /proc/net, without an owner.
		tcp4, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer tcp4.Close()
		udp4, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer udp4.Close()
		want := map[string]int{
			"tcp 127.0.0.1": tcp4.Addr().(*net.TCPAddr).Port,
			"udp 127.0.0.1": udp4.LocalAddr().(*net.UDPAddr).Port,
		}
		if tcp6, err := net.Listen("tcp6", "[::1]:0"); err == nil {
			defer tcp6.Close()
			want["tcp ::1"] = tcp6.Addr().(*net.TCPAddr).Port
		} else {
			t.Logf("no IPv6 loopback here (%v): checking IPv4 only", err)
		}
		var rows []struct {
			Proto              string  `json:"proto"`
			Address            string  `json:"address"`
			Port               int     `json:"port"`
			PID                *int    `json:"pid"`
			Process            *string `json:"process"`
			OwnerUnknown       string  `json:"owner_unknown"`
			OwnerUnknownReason string  `json:"owner_unknown_reason"`
		}
		out := w.run(t, "list", "--json")
		if err := json.Unmarshal(out, &rows); err != nil {
			t.Fatalf("list --json: %v\n%s", err, out)
		}
		found := map[string]bool{}
		for _, r := range rows {
			key := r.Proto + " " + r.Address
			if p, ok := want[key]; ok && p == r.Port {
				found[key] = true
				t.Logf("Wine shows %s:%d, pid %v, owner_unknown %q (%s)", key, r.Port, deref(r.PID), r.OwnerUnknown, r.OwnerUnknownReason)
			}
			// No PID is right under Wine; a PID without a reason, or no PID
			// and no reason, would be wrong output.
			if r.PID == nil && (r.OwnerUnknown == "" || r.OwnerUnknownReason == "") {
				t.Errorf("%s:%d has no PID and no reason", key, r.Port)
			}
			if r.PID != nil && r.OwnerUnknown != "" {
				t.Errorf("%s:%d has PID %d and owner_unknown %q", key, r.Port, *r.PID, r.OwnerUnknown)
			}
		}
		for key, port := range want {
			if !found[key] {
				t.Errorf("list --json under Wine lacks %s:%d, this test's listener (%d rows):\n%s", key, port, len(rows), out)
			}
		}
	})

	t.Run("serve", func(t *testing.T) {
		base := w.serve(t)
		for _, c := range []struct{ path, want string }{
			{"/ports/2556", "<title>Port 2556: "},
			{"/api/v1/ports/2556", `"port": 2556,`},
			{"/healthz", "ok"},
		} {
			resp, err := http.Get(base + c.path)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(c.want)) {
				t.Errorf("GET %s from serve under Wine: status %d, want 200 with %q:\n%.600s", c.path, resp.StatusCode, c.want, body)
			}
		}
	})
}

// wineEnv is a Wine prefix in a temporary directory holding the stub
// bcryptprimitives.dll, and the two builds of porthole from this tree.
type wineEnv struct {
	wine, exe, linux, dir string
	env                   []string
}

func newWine(t *testing.T, wine, mingw string) *wineEnv {
	dir := t.TempDir()
	w := &wineEnv{wine: wine, dir: dir, exe: filepath.Join(dir, "porthole.exe"), linux: filepath.Join(dir, "porthole")}
	// go test puts its own GOROOT/bin first in PATH, so "go" is the toolchain running this test.
	build := func(out string, env ...string) {
		cmd := exec.Command("go", "build", "-o", out, ".")
		cmd.Env = append(os.Environ(), env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", out, err, b)
		}
	}
	build(w.exe, "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	build(w.linux, "CGO_ENABLED=0")

	dll := filepath.Join(dir, "bcryptprimitives.dll")
	if b, err := exec.Command(mingw, "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-s",
		"-o", dll, filepath.Join("testdata", "wine", "processprng.c"), "-lbcrypt").CombinedOutput(); err != nil {
		t.Fatalf("building the ProcessPrng stub: %v\n%s", err, b)
	}

	prefix := filepath.Join(dir, "prefix")
	w.env = append(os.Environ(),
		"WINEPREFIX="+prefix,
		"WINEDEBUG=-all",
		// No Mono or Gecko installer; the stub, not a builtin, for bcryptprimitives.
		"WINEDLLOVERRIDES=mscoree,mshtml=;bcryptprimitives=n",
		"DISPLAY=",
		// The Linux build reads the embedded registry, as the fresh prefix does.
		"PORTHOLE_CACHE_DIR="+filepath.Join(dir, "cache"),
	)
	t.Cleanup(func() {
		// Ends this prefix's wineserver (and any process of this prefix
		// still running), nothing else.
		cmd := exec.Command(wine+"server", "-k")
		cmd.Env = w.env
		_ = cmd.Run()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	boot := exec.CommandContext(ctx, wine, "wineboot", "--init")
	boot.Env = w.env
	if b, err := boot.CombinedOutput(); err != nil {
		t.Fatalf("wineboot --init: %v\n%s", err, b)
	}
	sys32 := filepath.Join(prefix, "drive_c", "windows", "system32")
	if _, err := os.Stat(filepath.Join(sys32, "kernel32.dll")); err != nil {
		t.Fatalf("wineboot made no 64-bit prefix (is Debian's wine64 installed?): %v", err)
	}
	b, err := os.ReadFile(dll)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sys32, "bcryptprimitives.dll"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// run runs porthole.exe under Wine and returns its stdout; a non-zero exit
// fails t.
func (w *wineEnv) run(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.wine, append([]string{w.exe}, args...)...)
	cmd.Env, cmd.Dir = w.env, w.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("wine porthole.exe %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	if s := stderr.String(); s != "" {
		t.Logf("wine porthole.exe %s: stderr: %s", strings.Join(args, " "), s)
	}
	return out
}

// native runs the Linux build of the same tree: porthole ARGS, or with
// "unshare" first, that command (which runs w.linux).
func (w *wineEnv) native(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(w.linux, args...)
	if args[0] == "unshare" {
		cmd = exec.Command(args[0], args[1:]...)
	}
	cmd.Env = w.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("porthole %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// serve starts porthole.exe serve on an ephemeral loopback port under Wine
// and returns its base URL (without the trailing slash). The process (the
// one started here) is killed at cleanup.
func (w *wineEnv) serve(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(w.wine, w.exe, "serve", "--addr", "127.0.0.1:0", "--json", "--db", "feedback.db")
	cmd.Env, cmd.Dir = w.env, w.dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr testenv.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	type result struct {
		url string
		err error
	}
	got := make(chan result, 1)
	go func() {
		var out struct{ URL string }
		err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&out)
		got <- result{out.URL, err}
	}()
	select {
	case r := <-got:
		if r.err != nil || !strings.HasPrefix(r.url, "http://127.0.0.1:") {
			t.Fatalf("serve --json under Wine printed no URL (%v, %q); stderr:\n%s", r.err, r.url, stderr.String())
		}
		u := strings.TrimSuffix(r.url, "/")
		if _, err := strconv.Atoi(u[strings.LastIndexByte(u, ':')+1:]); err != nil {
			t.Fatalf("serve printed %q", r.url)
		}
		return u
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve under Wine printed nothing in 2 minutes; stderr:\n%s", stderr.String())
	}
	return ""
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(line)
}
