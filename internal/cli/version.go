package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/porthole/porthole/internal/registry"
)

// Version is the program version, set at build time with
// -ldflags "-X github.com/porthole/porthole/internal/cli.Version=v1.2.3".
var Version = "dev"

func runVersion(_ context.Context, env *Env, args []string) error {
	fs := newFlags(env, "version", "", "Print the program and registry versions.")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	reg, err := registry.Default()
	if err != nil {
		fmt.Fprintln(env.Stderr, "porthole: warning:", err)
	}
	v := Version
	if v == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	if *asJSON {
		return writeJSON(env.Stdout, map[string]string{
			"version": v, "go": runtime.Version(), "registry_version": reg.Version(), "registry_source": reg.Source(),
		})
	}
	_, err = fmt.Fprintf(env.Stdout, "porthole %s (%s)\nIANA registry %s: %s\n", v, runtime.Version(), reg.Version(), reg.Source())
	return err
}
