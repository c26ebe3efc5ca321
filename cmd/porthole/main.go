// Command porthole answers two questions about a TCP/UDP port: what is it,
// and what is on it here? See the README, or run `porthole help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/porthole/porthole/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], &cli.Env{})
	stop()
	os.Exit(code)
}
