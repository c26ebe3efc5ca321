//go:build ignore

// gen compiles the port page's templates into port_gen.go (see
// internal/tmplgen). Run it with `go generate`.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/porthole/porthole/internal/web/internal/tmplgen"
)

func main() {
	for _, c := range tmplgen.Pages {
		src, err := tmplgen.Generate(c)
		if err == nil {
			err = os.WriteFile(filepath.Join(c.Dir, c.Output), src, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
