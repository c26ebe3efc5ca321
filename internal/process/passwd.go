package process

import (
	"strconv"
	"strings"
	"sync"
)

// ParsePasswd reads /etc/passwd text ("name:x:uid:gid:gecos:home:shell") and
// returns uid → name. The first entry for a uid wins, as getpwuid does.
// Malformed lines are skipped.
func ParsePasswd(data string) map[int]string {
	m := map[int]string{}
	for _, line := range strings.Split(data, "\n") {
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := strings.SplitN(line, ":", 4)
		if len(f) < 4 || f[0] == "" {
			continue
		}
		uid, err := strconv.Atoi(f[2])
		if err != nil || uid < 0 {
			continue
		}
		if _, dup := m[uid]; !dup {
			m[uid] = Escape(f[0])
		}
	}
	return m
}

var (
	usersOnce sync.Once
	users     map[int]string
)

// UserName returns the name of uid from /etc/passwd (read once per process),
// or the number itself when there is none. It does not use NSS, so users that
// exist only in LDAP/sssd show as numbers.
func UserName(uid int) string {
	if uid < 0 {
		return ""
	}
	usersOnce.Do(func() { users = loadUsers() })
	if n, ok := users[uid]; ok {
		return n
	}
	return strconv.Itoa(uid)
}
