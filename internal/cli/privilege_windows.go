package cli

import "golang.org/x/sys/windows"

// isPrivileged reports whether porthole runs elevated (an administrator
// prompt), so that advice never asks for one again.
func isPrivileged() bool { return windows.GetCurrentProcessToken().IsElevated() }
