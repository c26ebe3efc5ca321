//go:build !linux && !darwin && !windows

package process

func lookup(pid int) (Info, error) { return Info{PID: pid, UID: -1}, ErrUnsupported }
