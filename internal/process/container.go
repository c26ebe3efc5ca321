package process

import "strings"

// ParseContainerName cleans a runtime's container name: the leading slash
// docker writes goes, and a name with characters outside [A-Za-z0-9_.-]
// (which docker never gives) is dropped rather than shown.
func ParseContainerName(s string) string {
	s = strings.TrimPrefix(s, "/")
	if s == "" || len(s) > 128 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return ""
		}
	}
	return s
}
