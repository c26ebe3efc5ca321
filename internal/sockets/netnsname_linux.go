package sockets

import (
	"os"

	"golang.org/x/sys/unix"
)

// nsfsMagic is the file-system magic of namespace files (NSFS_MAGIC).
const nsfsMagic = 0x6e736673

// NetNSNames maps the inode of every named network namespace to its name:
// "ip netns add NAME" bind-mounts the namespace at /run/netns/NAME, so the
// file there whose inode matches a socket's namespace names it. A file
// that is not a mounted namespace (an "ip netns add" that failed half-way)
// is skipped. It returns an empty map when there are none.
func NetNSNames() map[uint64]string {
	out := map[uint64]string{}
	for _, dir := range []string{"/run/netns", "/var/run/netns"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			path := dir + "/" + e.Name()
			var st unix.Stat_t
			var fs unix.Statfs_t
			if unix.Stat(path, &st) != nil || unix.Statfs(path, &fs) != nil || uint64(fs.Type) != nsfsMagic {
				continue
			}
			if _, ok := out[st.Ino]; !ok {
				out[st.Ino] = e.Name()
			}
		}
	}
	return out
}
