//go:build !windows

package webguard

import (
	"fmt"
	"io/fs"
)

// checkPrivate refuses a secret file whose mode lets group or others in.
func checkPrivate(path string, m fs.FileMode) error {
	if m.Perm()&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o: group or others may read it, so the token is not secret on this machine; "+
			"run chmod 600 %s", path, m.Perm(), path)
	}
	return nil
}
