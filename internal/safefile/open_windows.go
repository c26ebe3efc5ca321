package safefile

import "os"

// openNonblock is a plain open on Windows: there are no FIFOs in the file system (named pipes live under
// \\.\pipe\, which Stat then reports as not regular).
func openNonblock(path string) (*os.File, error) { return os.Open(path) }
