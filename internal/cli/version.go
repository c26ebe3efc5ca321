package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/porthole/porthole/internal/registry"
)

// Version and Revision override what the Go toolchain records in the
// binary, for builds that have no module version or VCS information (a
// build from a source tarball, a container build without .git):
//
//	-ldflags "-X github.com/porthole/porthole/internal/cli.Version=v1.2.3
//	          -X github.com/porthole/porthole/internal/cli.Revision=0123abc"
//
// Left empty, `porthole version` reports the build info: the module version
// for `go install …@v1.2.3`, and for a `go build` in a git checkout a
// pseudo-version with the commit, its time and whether the tree was
// modified.
var (
	Version  = ""
	Revision = ""
)

// buildVersion is what `porthole version` reports of the program.
type buildVersion struct {
	Version  string // "v1.2.3", a pseudo-version, or "dev" when nothing is known
	Revision string // the VCS commit, or ""
	Time     string // the commit's time (RFC 3339), or ""
	Modified *bool  // the working tree had changes; nil when unknown
}

// readBuild reads this binary's build info, with the -X overrides.
func readBuild() buildVersion {
	bi, _ := debug.ReadBuildInfo()
	return buildFrom(bi, Version, Revision)
}

// buildFrom derives the version from build info bi (nil when the binary
// has none) and the -X overrides.
func buildFrom(bi *debug.BuildInfo, version, revision string) buildVersion {
	var v buildVersion
	if bi != nil {
		if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
			v.Version = mv
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.time":
				v.Time = s.Value
			case "vcs.modified":
				m := s.Value == "true"
				v.Modified = &m
			}
		}
	}
	if version != "" {
		v.Version = version
	}
	if revision != "" && revision != v.Revision {
		// A stamped revision says nothing of the tree's state or time.
		v.Revision, v.Time, v.Modified = revision, "", nil
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	return v
}

// versionJSON is `porthole version --json`; unknown values are null.
type versionJSON struct {
	Version         string  `json:"version"`
	Revision        *string `json:"revision"`
	RevisionTime    *string `json:"revision_time"`
	Modified        *bool   `json:"modified"`
	Go              string  `json:"go"`
	RegistryVersion string  `json:"registry_version"`
	RegistrySource  string  `json:"registry_source"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// versionOptions are `porthole version`'s flags.
type versionOptions struct {
	json bool
}

var versionCmd = &cmdDef[versionOptions]{name: "version", args: "",
	help: "Print the program's version and VCS revision (from the build info that go build and go install record, unless a release build overrides them) and the IANA registry's version.",
	flags: func(fs *cmdFlags, o *versionOptions) func([]string) error {
		fs.BoolVar(&o.json, "json", false, "print JSON")
		return func(rest []string) error {
			if len(rest) > 0 {
				return badToken(rest[0], "version takes no arguments (got %q)", rest[0])
			}
			return nil
		}
	},
}

func runVersion(_ context.Context, env *Env, o versionOptions) error {
	reg, err := registry.Default(env.Getenv)
	if err != nil {
		fmt.Fprintln(env.Stderr, "porthole: warning:", err)
	}
	b := readBuild()
	if o.json {
		return writeJSON(env.Stdout, versionJSON{
			Version: b.Version, Revision: optional(b.Revision), RevisionTime: optional(b.Time), Modified: b.Modified,
			Go: runtime.Version(), RegistryVersion: reg.Version(), RegistrySource: reg.Source(),
		})
	}
	var s strings.Builder
	fmt.Fprintf(&s, "porthole %s (%s)\n", b.Version, runtime.Version())
	if b.Revision != "" {
		var notes []string
		if b.Time != "" {
			notes = append(notes, b.Time)
		}
		if b.Modified != nil && *b.Modified {
			notes = append(notes, "modified")
		}
		s.WriteString("revision " + b.Revision)
		if len(notes) > 0 {
			s.WriteString(" (" + strings.Join(notes, ", ") + ")")
		}
		s.WriteString("\n")
	}
	fmt.Fprintf(&s, "IANA registry %s: %s\n", reg.Version(), reg.Source())
	_, err = fmt.Fprint(env.Stdout, s.String())
	return err
}
