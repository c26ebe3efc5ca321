//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !windows

package cli

import "os"

// terminalWidth is unknown here: text is laid out for 80 columns.
func terminalWidth(*os.File) int { return 0 }
