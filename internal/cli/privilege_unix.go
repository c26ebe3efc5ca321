//go:build !windows

package cli

import "os"

// isPrivileged reports whether porthole runs as root, so that advice never
// tells root to become root.
func isPrivileged() bool { return os.Geteuid() == 0 }
