package process

import (
	"encoding/json"
	"io"
	"os"
	"sync"
)

// dockerRoot is where docker keeps each container's config.v2.json.
var dockerRoot = "/var/lib/docker/containers"

// containerNames caches names by container id ("" for none found), so a
// listing reads each container's file once.
var containerNames sync.Map

// containerName returns docker's name for the container id ("web", without
// the leading slash), or "" when docker keeps no readable config for it.
// It reads at most 1 MB of one file.
func containerName(id string) string {
	if v, ok := containerNames.Load(id); ok {
		return v.(string)
	}
	name := ""
	if isContainerID(id) {
		name = dockerName(dockerRoot + "/" + id + "/config.v2.json")
	}
	containerNames.Store(id, name)
	return name
}

func dockerName(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var cfg struct{ Name string }
	if json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&cfg) != nil {
		return ""
	}
	return ParseContainerName(cfg.Name)
}
