package sockets

import (
	"slices"
	"strings"
	"testing"
)

func TestParsePIDList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		err  string
	}{
		{"", nil, ""},
		{"1\n", []int{1}, ""},
		{"42\n7\n4194304\n", []int{42, 7, 4194304}, ""},
		{"42\n7", []int{42, 7}, ""},
		{"42\n\n7\n", nil, "cgroup.procs:2: empty line"},
		{"0\n", nil, "cgroup.procs:1: bad PID"},
		{"12 \n", nil, "cgroup.procs:1: bad PID"},
		{"1\n-3\n", nil, "cgroup.procs:2: bad PID"},
		{"99999999999999999999\n", nil, "bad PID"},
	} {
		got, err := parsePIDList([]byte(c.in))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%q: %v %v, want %v", c.in, got, err, c.want)
		}
	}
}

func FuzzParsePIDList(f *testing.F) {
	f.Add([]byte("1\n2\n3\n"))
	f.Add([]byte("\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pids, err := parsePIDList(b)
		if err != nil {
			return
		}
		for _, p := range pids {
			if p <= 0 {
				t.Fatalf("PID %d from %q", p, b)
			}
		}
	})
}

const mountinfo = `22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw
30 22 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu
40 30 0:35 / /sys/fs/cgroup/un\040ified rw,relatime shared:18 - cgroup2 cgroup2 rw
41 30 0:36 / /other rw - cgroup2 cgroup2 rw
`

func TestCgroup2Mount(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{mountinfo, "/sys/fs/cgroup/un ified"},
		{"25 1 0:22 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n", "/sys/fs/cgroup"},
		{"25 1 0:22 / /x rw - cgroup cgroup rw\n", ""},
		{"25 1 0:22 / /bad\\09 rw - cgroup2 cgroup2 rw\n", ""},
		{"25 1 0:22 / /end\\04 rw - cgroup2 cgroup2 rw\n", ""},
		{"cgroup2 - cgroup2\n", ""},
		{"", ""},
	} {
		if got := cgroup2Mount([]byte(c.in)); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzCgroup2Mount(f *testing.F) {
	f.Add([]byte(mountinfo))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p := cgroup2Mount(b); p != "" && p[0] != '/' {
			t.Fatalf("relative mount point %q", p)
		}
	})
}
