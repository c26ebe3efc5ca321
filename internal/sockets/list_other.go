//go:build !linux && !darwin && !windows

package sockets

import "context"

func list(context.Context, Query) ([]Listener, error) { return nil, ErrUnsupported }

// EphemeralRange returns ErrUnsupported on this system.
func EphemeralRange() (low, high int, err error) { return 0, 0, ErrUnsupported }
