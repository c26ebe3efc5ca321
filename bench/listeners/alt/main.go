// Command alt times commands in alternating rounds for the listener
// benchmarks: each round runs every command once (the starting command
// rotates from round to round), so a change in machine load hits all of
// them alike. It prints, per command, one line: the median wall time and
// the median user+system CPU time in milliseconds, then the command.
//
//	alt -runs 15 -warmup 3 'ss -tuln' 'porthole list'
//
// Commands are split on spaces (no shell); their output is discarded and
// their exit status ignored (ss and lsof exit 1 when nothing matches).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func main() {
	runs := flag.Int("runs", 15, "timed rounds")
	warmup := flag.Int("warmup", 3, "untimed rounds first")
	flag.Parse()
	cmds := flag.Args()
	if len(cmds) == 0 || *runs < 1 {
		fmt.Fprintln(os.Stderr, "usage: alt [-runs N] [-warmup N] 'CMD ARGS' ...")
		os.Exit(2)
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "alt:", err)
		os.Exit(1)
	}
	wall := make([][]float64, len(cmds))
	cpu := make([][]float64, len(cmds))
	for r := range *warmup + *runs {
		for k := range cmds {
			i := (k + r) % len(cmds)
			w, c, err := run(cmds[i], null)
			if err != nil {
				fmt.Fprintf(os.Stderr, "alt: %s: %v\n", cmds[i], err)
				os.Exit(1)
			}
			if r >= *warmup {
				wall[i] = append(wall[i], w)
				cpu[i] = append(cpu[i], c)
			}
		}
	}
	for i, c := range cmds {
		fmt.Printf("%.2f %.2f %s\n", median(wall[i]), median(cpu[i]), c)
	}
}

// run starts one command and returns its wall and user+system CPU time in ms.
func run(cmd string, null *os.File) (wall, cpu float64, err error) {
	args := strings.Fields(cmd)
	c := exec.Command(args[0], args[1:]...)
	c.Stdout, c.Stderr = null, null
	t := time.Now()
	if err := c.Start(); err != nil {
		return 0, 0, err
	}
	c.Wait() // the exit status does not matter
	wall = float64(time.Since(t).Microseconds()) / 1000
	ps := c.ProcessState
	cpu = float64((ps.UserTime() + ps.SystemTime()).Microseconds()) / 1000
	return wall, cpu, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
