package sockets

import (
	"errors"

	"golang.org/x/sys/windows"
)

// isInUse reports a bind error that means the port is held: another socket
// has it (WSAEADDRINUSE), or it lies in a range Windows excludes for its
// own use (Hyper-V, WinNAT), which a bind meets as WSAEACCES.
func isInUse(err error) bool {
	return errors.Is(err, windows.WSAEADDRINUSE) || errors.Is(err, windows.WSAEACCES)
}
