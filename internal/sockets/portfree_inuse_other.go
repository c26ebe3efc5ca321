//go:build !windows

package sockets

import (
	"errors"
	"syscall"
)

// isInUse reports a bind error that means another socket holds the port.
func isInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }
