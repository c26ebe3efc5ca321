package process

import "strings"

// ParseCgroup reads a /proc/PID/cgroup file (v1 "ID:controllers:path" lines
// or the v2 "0::path" line) and returns the container id and the systemd
// service it finds in the paths. Recognised container paths:
//
//	/system.slice/docker-<id>.scope         docker (systemd driver)
//	/docker/<id>                            docker (cgroupfs driver)
//	/machine.slice/libpod-<id>.scope        podman (also libpod-conmon-…)
//	/kubepods/…/pod<uid>/<id>               kubernetes (cgroupfs)
//	/kubepods.slice/…/cri-containerd-<id>.scope, crio-<id>.scope
//	/system.slice/containerd.service/<ns>/<id>, /k8s.io/<id>
//
// The unit is the innermost path element ending in ".service", but not
// user@UID.service itself when a service runs inside it.
func ParseCgroup(data string) (container, unit string) {
	for _, line := range strings.Split(data, "\n") {
		// The path is after the second colon.
		i := strings.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		j := strings.IndexByte(line[i+1:], ':')
		if j < 0 {
			continue
		}
		path := line[i+1+j+1:]
		c, u := parseCgroupPath(path)
		if container == "" {
			container = c
		}
		if unit == "" {
			unit = u
		}
	}
	return container, unit
}

func parseCgroupPath(path string) (container, unit string) {
	parts := strings.Split(path, "/")
	kube := false
	for idx, p := range parts {
		if strings.HasPrefix(p, "kubepods") {
			kube = true
		}
		if id, ok := containerIDFromElem(p); ok {
			container = id
			continue
		}
		if isContainerID(p) && idx > 0 {
			prev := parts[idx-1]
			if prev == "docker" || prev == "k8s.io" || prev == "moby" || kube || strings.HasPrefix(prev, "pod") {
				container = p
				continue
			}
		}
		if strings.HasSuffix(p, ".service") && len(p) > len(".service") {
			if !strings.HasPrefix(p, "user@") || unit == "" {
				unit = p
			}
		}
	}
	return container, unit
}

// containerIDFromElem recognises "<runtime>-<id>.scope" path elements.
func containerIDFromElem(p string) (string, bool) {
	if !strings.HasSuffix(p, ".scope") {
		return "", false
	}
	base := strings.TrimSuffix(p, ".scope")
	for _, pre := range []string{"docker-", "libpod-conmon-", "libpod-", "cri-containerd-", "crio-conmon-", "crio-", "containerd-", "nerdctl-"} {
		if strings.HasPrefix(base, pre) {
			id := base[len(pre):]
			if isContainerID(id) {
				return id, true
			}
		}
	}
	return "", false
}

// isContainerID reports whether s looks like a runtime container id: 64 hex
// digits (docker, containerd, podman, cri-o).
func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
