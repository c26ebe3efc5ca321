// Package process describes a running process by PID: name, executable
// (and whether it was deleted), command line, user, container or systemd
// unit, and network namespace. It is used for the few PIDs that own a
// listening socket, never to walk every process.
//
// Lookup(pid) is the only entry point. It is best effort: fields it cannot
// read stay empty (UID -1), and it fails only when the process does not
// exist (ErrNotFound) or the OS is not supported (ErrUnsupported).
//
// Strings that come from the process itself (name, exe, command line) have
// their control characters escaped (\xNN, \u00NN) so they are safe to print
// on a terminal. The parsers (cgroup.go, passwd.go, escape.go) are untagged
// and fuzzed.
package process

import "errors"

// Info describes one process.
type Info struct {
	PID        int
	Name       string // short name (Linux comm, the image base name elsewhere)
	Exe        string // absolute path of the executable, "" if unreadable
	ExeDeleted bool   // the executable was deleted or replaced after start
	Cmdline    []string
	UID        int    // effective uid; -1 when unknown
	User       string // user name, or the uid as a number when it has no name
	Container  string // container id (docker, podman, containerd, kubernetes)
	// ContainerName is the container's name, where the runtime keeps it
	// in a file porthole can read (docker); "" otherwise.
	ContainerName string
	Unit          string // systemd service, e.g. "nginx.service"
	NetNS         uint64 // network namespace inode (Linux)
}

var (
	// ErrNotFound means the process does not exist (any more).
	ErrNotFound = errors.New("no such process")
	// ErrUnsupported means this OS has no implementation.
	ErrUnsupported = errors.New("process lookup is not supported on this operating system")
)

// Lookup returns what can be read about pid.
func Lookup(pid int) (Info, error) {
	if pid <= 0 {
		return Info{}, ErrNotFound
	}
	return lookup(pid)
}
