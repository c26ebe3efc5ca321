package process

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

func lookup(pid int) (Info, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	info := Info{PID: pid, UID: -1}
	comm, err := os.ReadFile(dir + "comm")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return info, ErrNotFound
		}
	}
	info.Name = Escape(strings.TrimSuffix(string(comm), "\n"))
	if link, err := os.Readlink(dir + "exe"); err == nil {
		p, del := TrimDeleted(link)
		info.Exe, info.ExeDeleted = Escape(p), del
	}
	if b, err := os.ReadFile(dir + "cmdline"); err == nil {
		info.Cmdline = SplitCmdline(b)
	}
	if b, err := os.ReadFile(dir + "status"); err == nil {
		info.UID = statusUID(string(b))
	}
	if info.UID >= 0 {
		info.User = UserName(info.UID)
	}
	if b, err := os.ReadFile(dir + "cgroup"); err == nil {
		info.Container, info.Unit = ParseCgroup(string(b))
	}
	if link, err := os.Readlink(dir + "ns/net"); err == nil {
		info.NetNS = ParseNSLink(link)
	}
	return info, nil
}
