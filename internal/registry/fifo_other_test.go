//go:build !unix

package registry

import "testing"

func mkfifo(t *testing.T, _ string) {
	t.Skip("no FIFOs in this file system")
}
