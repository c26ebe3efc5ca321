package process

import (
	"os"
	"reflect"
	"runtime"
	"strconv"
	"testing"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"nginx", "nginx"},
		{"a b/ü", "a b/ü"},
		{"evil\x1b[31m", `evil\x1b[31m`},
		{"tab\there\n", `tab\x09here\x0a`},
		{"del\x7f", `del\x7f`},
		{"c1\u0085", `c1\u0085`},
		{"bad\xff", `bad\xff`},
		{`back\slash`, `back\slash`},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzEscape(f *testing.F) {
	f.Add("plain")
	f.Add("\x1b]0;title\x07")
	f.Add("\xc2\x85\xff")
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		for _, r := range e {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
				t.Fatalf("Escape(%q) = %q keeps control %U", s, e, r)
			}
		}
	})
}

func TestSplitCmdline(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"/usr/sbin/nginx\x00-g\x00daemon off;\x00", []string{"/usr/sbin/nginx", "-g", "daemon off;"}},
		{"nginx: master process\x00", []string{"nginx: master process"}},
		{"a\x00\x00b", []string{"a", "", "b"}},
		{"x\x1b\x00", []string{`x\x1b`}},
	} {
		if got := SplitCmdline([]byte(tc.in)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitCmdline(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzSplitCmdline(f *testing.F) {
	f.Add([]byte("a\x00b\x00"))
	f.Fuzz(func(t *testing.T, b []byte) { SplitCmdline(b) })
}

func TestTrimDeleted(t *testing.T) {
	if p, d := TrimDeleted("/tmp/x/helper (deleted)"); p != "/tmp/x/helper" || !d {
		t.Error(p, d)
	}
	if p, d := TrimDeleted("/usr/bin/x"); p != "/usr/bin/x" || d {
		t.Error(p, d)
	}
}

func TestParseCgroup(t *testing.T) {
	const id = "3f4e9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7"
	for _, tc := range []struct{ name, in, container, unit string }{
		{"v2 service", "0::/system.slice/nginx.service\n", "", "nginx.service"},
		{"docker systemd", "0::/system.slice/docker-" + id + ".scope\n", id, ""},
		{"docker cgroupfs v1", "12:pids:/docker/" + id + "\n11:cpu:/docker/" + id + "\n", id, ""},
		{"podman", "0::/machine.slice/libpod-" + id + ".scope/container\n", id, ""},
		{"kubepods cgroupfs", "0::/kubepods/burstable/pod1234-5678/" + id + "\n", id, ""},
		{"kubepods containerd", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/cri-containerd-" + id + ".scope\n", id, ""},
		{"crio", "0::/kubepods.slice/crio-" + id + ".scope\n", id, ""},
		{"containerd ns", "0::/system.slice/containerd.service/k8s.io/" + id + "\n", id, "containerd.service"},
		{"user service", "0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n", "", "foo.service"},
		{"user manager", "0::/user.slice/user-1000.slice/user@1000.service/init.scope\n", "", "user@1000.service"},
		{"session", "0::/user.slice/user-0.slice/session-3.scope\n", "", ""},
		{"garbage", "nonsense\n::\n", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, u := ParseCgroup(tc.in)
			if c != tc.container || u != tc.unit {
				t.Errorf("got %q %q, want %q %q", c, u, tc.container, tc.unit)
			}
		})
	}
}

func FuzzParseCgroup(f *testing.F) {
	f.Add("0::/system.slice/docker-0123.scope\n")
	f.Add("1:name=systemd:/user.slice/a.service\n")
	f.Fuzz(func(t *testing.T, s string) { ParseCgroup(s) })
}

func TestParsePasswd(t *testing.T) {
	m := ParsePasswd("root:x:0:0:root:/root:/bin/bash\n# comment\nbad\nnobody:x:65534:65534::/:/usr/sbin/nologin\nroot2:x:0:0::/:/bin/sh\n+nis::::::\nweird\x1b:x:5:5::/:\n")
	want := map[int]string{0: "root", 65534: "nobody", 5: `weird\x1b`}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %v, want %v", m, want)
	}
}

func FuzzParsePasswd(f *testing.F) {
	f.Add("root:x:0:0:root:/root:/bin/bash\n")
	f.Fuzz(func(t *testing.T, s string) { ParsePasswd(s) })
}

func TestStatusUID(t *testing.T) {
	if u := statusUID("Name:\tx\nUid:\t1000\t33\t33\t33\nGid:\t0\n"); u != 33 {
		t.Errorf("got %d", u)
	}
	if u := statusUID("Name:\tx\n"); u != -1 {
		t.Errorf("got %d", u)
	}
	if n := ParseNSLink("net:[4026531840]"); n != 4026531840 {
		t.Errorf("got %d", n)
	}
}

func TestLookupSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("live lookup is tested on Linux")
	}
	info, err := Lookup(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	if info.PID != os.Getpid() || info.Exe != exe || info.ExeDeleted || info.Name == "" || len(info.Cmdline) == 0 ||
		info.UID != os.Geteuid() || info.User == "" || info.NetNS == 0 {
		t.Errorf("%+v", info)
	}
	if os.Geteuid() == 0 && info.User != "root" {
		t.Errorf("user %q for uid 0", info.User)
	}
	if _, err := Lookup(0); err != ErrNotFound {
		t.Errorf("Lookup(0): %v", err)
	}
	// PIDs above pid_max never exist.
	if _, err := Lookup(1 << 30); err != ErrNotFound {
		t.Errorf("Lookup(huge): %v", err)
	}
	if UserName(-1) != "" || UserName(987654) != strconv.Itoa(987654) {
		t.Error("UserName fallbacks")
	}
}

func BenchmarkLookupSelf(b *testing.B) {
	b.ReportAllocs()
	pid := os.Getpid()
	for b.Loop() {
		if _, err := Lookup(pid); err != nil && runtime.GOOS == "linux" {
			b.Fatal(err)
		}
	}
}

func TestParseProcArgs2(t *testing.T) {
	b := []byte{3, 0, 0, 0}
	b = append(b, "/usr/sbin/httpd\x00\x00\x00\x00httpd\x00-D\x00FOREGROUND\x00PATH=/bin\x00"...)
	args, exe := ParseProcArgs2(b)
	if exe != "/usr/sbin/httpd" || !reflect.DeepEqual(args, []string{"httpd", "-D", "FOREGROUND"}) {
		t.Errorf("%q %q", exe, args)
	}
	if a, e := ParseProcArgs2([]byte{1, 0}); a != nil || e != "" {
		t.Error("short input")
	}
}

func FuzzParseProcArgs2(f *testing.F) {
	f.Add([]byte("\x02\x00\x00\x00/bin/x\x00\x00x\x00y\x00"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseProcArgs2(b) })
}

func FuzzProcFields(f *testing.F) {
	f.Add("Name:\tx\nUid:\t0\t0\t0\t0\n")
	f.Add("net:[4026531840]")
	f.Fuzz(func(t *testing.T, s string) {
		if u := statusUID(s); u < -1 {
			t.Fatalf("uid %d", u)
		}
		ParseNSLink(s)
		_, _ = TrimDeleted(s)
	})
}
