// Command coverage measures how much of the ports people actually meet has a
// cited intel entry: the 300 TCP and 100 UDP ports most often found open,
// ranked by the open-frequency column of nmap's nmap-services file (read at
// run time, never shipped), and the notable ports listed in
// internal/web/notable-ports.txt. A port counts when at least one embedded intel
// entry covers it on its protocol (an `any/` reference covers both); every
// entry has at least one source, which the intel tests enforce.
//
// Two figures are printed per list: "named" counts a port only when an entry
// names it or a range of at most 1,000 ports (wideRange), so that an entry
// about a whole ephemeral range (Windows' 49152-65535, Kubernetes NodePorts)
// does not pass for knowledge of every port inside it; "any" counts every
// entry.
//
//	go run ./scripts/coverage [-services /usr/share/nmap/nmap-services] [-notable internal/web/notable-ports.txt] [-missing]
//
// scripts/coverage.sh installs nmap when the file is missing and runs this.
package main

import (
	"bufio"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
)

// port is one protocol and number.
type port struct {
	proto ports.Proto
	num   int
	freq  float64
}

func (p port) String() string { return fmt.Sprintf("%s/%d", p.proto, p.num) }

func main() {
	services := flag.String("services", "/usr/share/nmap/nmap-services", "nmap's services file with open frequencies")
	notable := flag.String("notable", "internal/web/notable-ports.txt", "the notable ports, one proto/port a line")
	topTCP := flag.Int("tcp", 300, "how many of the most often open TCP ports to check")
	topUDP := flag.Int("udp", 100, "how many of the most often open UDP ports to check")
	missing := flag.Bool("missing", false, "also list the ports without an entry")
	flag.Parse()
	if err := run(os.Stdout, *services, *notable, *topTCP, *topUDP, *missing); err != nil {
		fmt.Fprintln(os.Stderr, "coverage:", err)
		os.Exit(3)
	}
}

func run(w io.Writer, servicesPath, notablePath string, nTCP, nUDP int, missing bool) error {
	db, err := intel.Default()
	if err != nil {
		return err
	}
	f, err := os.Open(servicesPath)
	if err != nil {
		return err
	}
	defer f.Close()
	all, err := parseServices(f, servicesPath)
	if err != nil {
		return err
	}
	nf, err := os.Open(notablePath)
	if err != nil {
		return err
	}
	defer nf.Close()
	notable, err := parseNotable(nf, notablePath)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-48s %-28s %s\n", "list", "named (ranges <= 1,000)", "any entry")
	lists := []struct {
		name  string
		ports []port
	}{
		{fmt.Sprintf("top %d TCP (nmap open frequency)", nTCP), top(all, ports.TCP, nTCP)},
		{fmt.Sprintf("top %d UDP (nmap open frequency)", nUDP), top(all, ports.UDP, nUDP)},
		{"notable ports (" + notablePath + ")", notable},
	}
	for _, l := range lists {
		var miss, missNamed []string
		for _, p := range l.ports {
			if !covered(db, p, ports.Max+1) {
				miss = append(miss, p.String())
			}
			if !covered(db, p, wideRange) {
				missNamed = append(missNamed, p.String())
			}
		}
		n := len(l.ports)
		fmt.Fprintf(w, "%-48s %3d of %3d (%5.1f %%)        %3d of %3d (%5.1f %%)\n", l.name,
			n-len(missNamed), n, pct(n-len(missNamed), n), n-len(miss), n, pct(n-len(miss), n))
		if missing && len(missNamed) > 0 {
			fmt.Fprintf(w, "  not named: %s\n", strings.Join(missNamed, " "))
		}
	}
	return nil
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) * 100 / float64(of)
}

// wideRange is the widest port reference that still counts as naming the
// ports inside it.
const wideRange = 1000

// covered reports whether an entry covers p on its protocol with a reference
// of at most maxWidth ports.
func covered(db *intel.DB, p port, maxWidth int) bool {
	for _, m := range db.ForPort(p.num) {
		for _, r := range m.Entry.Ports {
			if r.Contains(p.num) && (r.Proto == p.proto || r.Proto == ports.ProtoNone) && r.High-r.Low+1 <= maxWidth {
				return true
			}
		}
	}
	return false
}

// top returns the n ports of proto with the highest open frequency, ties in
// port order.
func top(all []port, proto ports.Proto, n int) []port {
	var out []port
	for _, p := range all {
		if p.proto == proto {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b port) int {
		if c := cmp.Compare(b.freq, a.freq); c != 0 {
			return c
		}
		return cmp.Compare(a.num, b.num)
	})
	return out[:min(n, len(out))]
}

// parseServices reads nmap-services lines: name, port/proto, open frequency,
// optional comment, separated by white space.
func parseServices(r io.Reader, name string) ([]port, error) {
	var out []port
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s:%d: expected name, port/proto and frequency", name, line)
		}
		p, err := parsePort(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		if p.proto != ports.TCP && p.proto != ports.UDP {
			continue // sctp rows carry no useful frequency
		}
		if p.freq, err = strconv.ParseFloat(fields[2], 64); err != nil {
			return nil, fmt.Errorf("%s:%d: bad frequency %q", name, line, fields[2])
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New(name + ": no ports")
	}
	return out, nil
}

// parseNotable reads one proto/port a line; '#' starts a comment.
func parseNotable(r io.Reader, name string) ([]port, error) {
	var out []port
	seen := map[port]bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		p, err := parsePort(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		if seen[p] {
			return nil, fmt.Errorf("%s:%d: %s listed twice", name, line, p)
		}
		seen[p] = true
		out = append(out, p)
	}
	return out, sc.Err()
}

func parsePort(s string) (port, error) {
	num, proto, ok := strings.Cut(s, "/")
	if !ok {
		return port{}, fmt.Errorf("expected port/proto or proto/port, got %q", s)
	}
	if _, err := strconv.Atoi(num); err != nil { // proto/port
		num, proto = proto, num
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > ports.Max {
		return port{}, fmt.Errorf("bad port number in %q", s)
	}
	var p ports.Proto
	switch proto {
	case "tcp":
		p = ports.TCP
	case "udp":
		p = ports.UDP
	case "sctp":
		p = ports.SCTP
	default:
		return port{}, fmt.Errorf("unknown protocol in %q", s)
	}
	return port{proto: p, num: n}, nil
}
