package agent

import (
	"os"
	"strings"
)

// BootID is the kernel's id of this boot, "" when unreadable.
func BootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	id := strings.TrimSpace(string(b))
	if len(id) > 64 {
		return ""
	}
	return id
}
