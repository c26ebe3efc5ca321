//go:build !unix

package registry

import "os"

// openNoBlock opens path for reading. Windows has no FIFOs in the file
// system; named pipes live under \\.\pipe\, outside the cache directory.
func openNoBlock(path string) (*os.File, error) { return os.Open(path) }
