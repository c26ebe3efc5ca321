// Command porthole answers two questions about a TCP/UDP port: what is it,
// and what is on it here? See the README, or run `porthole help`.
package main

import (
	"os"

	"github.com/porthole/porthole/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:]))
}
