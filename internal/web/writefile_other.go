//go:build !unix

package web

import "os"

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }
