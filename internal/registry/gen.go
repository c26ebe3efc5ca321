//go:build ignore

// gen compiles data/service-names-port-numbers.csv into data/registry.bin,
// the form embedded in the binary. Run it with `go generate`.
package main

import (
	"fmt"
	"os"

	"github.com/porthole/porthole/internal/registry"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	f, err := os.Open("data/service-names-port-numbers.csv")
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := registry.Parse(f)
	if err != nil {
		return fmt.Errorf("data/service-names-port-numbers.csv: %w", err)
	}
	blob, err := registry.Compile(rows, registry.Version(rows), registry.EmbeddedSource)
	if err != nil {
		return err
	}
	return os.WriteFile("data/registry.bin", blob, 0o644)
}
