package registry

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// slowServer listens on loopback and answers every connection, once it has
// read the request head, by writing atOnce, then trickle a byte every 20 ms
// (over and over when repeat) until the client goes: a server slow enough to
// never trip the idle timeout.
func slowServer(t *testing.T, atOnce, trickle string, repeat bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					l, err := br.ReadString('\n')
					if err != nil || l == "\r\n" {
						break
					}
				}
				if _, err := c.Write([]byte(atOnce)); err != nil {
					return
				}
				for i := 0; repeat || i < len(trickle); i++ {
					select {
					case <-done:
						return
					case <-time.After(20 * time.Millisecond):
					}
					if _, err := c.Write([]byte{trickle[i%len(trickle)]}); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/registry.csv"
}

// TestFetchDeadline: a server sending a byte every 20 ms never stalls, so
// only the overall deadline ends the download, in the response head or in
// the body.
func TestFetchDeadline(t *testing.T) {
	csv := string(readCSV(t))
	head := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n", len(csv))
	for _, tc := range []struct{ name, head, body string }{
		{"slow head", head, csv},
		{"slow body", "", ""}, // set below: the head arrives whole
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := ""
			if tc.head != "" {
				url = slowServer(t, "", tc.head+tc.body, true)
			} else {
				url = slowServer(t, head, csv, false)
			}
			_, _, err := Fetch(context.Background(), url, FetchOptions{Timeout: 300 * time.Millisecond, IdleTimeout: time.Minute})
			if err == nil || !strings.Contains(err.Error(), "took longer than 300ms") {
				t.Fatalf("error %v, want the deadline named", err)
			}
		})
	}
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadCSV reads real files: the registry itself, and the things a
// --file argument can wrongly point at.
func TestReadCSV(t *testing.T) {
	good := readCSV(t)
	rows, data, err := ReadCSV(writeFile(t, "ports.csv", good), 0)
	if err != nil || len(rows) != 14500 || string(data) != string(good) {
		t.Fatalf("good file: %d rows, %v", len(rows), err)
	}
	var wide strings.Builder
	wide.WriteString(string(good))
	for i := range 400 {
		fmt.Fprintf(&wide, "wide%d,0-65535,tcp,x,,,,,,,,\r\n", i)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
		max  int64
		want string
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "none.csv") }, 0, "no such file"},
		{"a directory", func(t *testing.T) string { return t.TempDir() }, 0, "not a regular file"},
		{"a FIFO", func(t *testing.T) string { mkfifo(t, fifo); return fifo }, 0, "not a regular file"},
		{"too big", func(t *testing.T) string { return writeFile(t, "big.csv", good) }, 1 << 20, "more than the limit"},
		{"an HTML page", func(t *testing.T) string {
			return writeFile(t, "page.csv", []byte("<!DOCTYPE html><html><body>Not found</body></html>\n"))
		}, 0, "HTML page"},
		{"cut short", func(t *testing.T) string { return writeFile(t, "cut.csv", good[:len(good)/2]) }, 0, "not a sound registry CSV"},
		{"wide rows", func(t *testing.T) string { return writeFile(t, "wide.csv", []byte(wide.String())) }, 0, fmt.Sprintf("line %d: Port Number: range 0-65535 spans 65536 ports", strings.Count(string(good), "\n")+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path(t)
			_, _, err := ReadCSV(path, tc.max)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCheckDates(t *testing.T) {
	now := time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		date   string
		future bool
	}{
		{"2026-03-10", false}, {"2026-03-12", false}, {"2026-03-13", true}, {"2026-03", false},
		{"2026-04", true}, {"2099-01-01", true}, {"1988-01", false}, {"garbage", false},
	} {
		if got := Future(tc.date, now); got != tc.future {
			t.Errorf("Future(%q) = %v", tc.date, got)
		}
	}
	rows := mustParse(t, readCSV(t))
	if err := CheckDates(rows, now); err != nil {
		t.Fatalf("the real registry: %v", err)
	}
	rows = mustParse(t, []byte(header+"ssh,22,tcp,SSH,,,,,,,,\r\npin,4480,tcp,Pin,,,2001-01-01,2099-12-31,,,,\r\n"))
	err := CheckDates(rows, now)
	if err == nil || !strings.Contains(err.Error(), "row pin 4480/tcp has Modification Date 2099-12-31, after today (2026-03-10)") {
		t.Fatalf("error %v", err)
	}
}

// TestReset removes exactly the two files Install wrote, by name, and
// nothing else.
func TestReset(t *testing.T) {
	dir := t.TempDir()
	blob := []byte(smallBlob(t))
	if err := Install(dir, blob, []byte("csv\n")); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	removed, err := Reset(dir)
	if err != nil || len(removed) != 2 || removed[0] != filepath.Join(dir, CacheFile) || removed[1] != filepath.Join(dir, CacheCSV) {
		t.Fatalf("removed %q, %v", removed, err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("Reset touched another file: %v", err)
	}
	if removed, err := Reset(dir); err != nil || len(removed) != 0 {
		t.Errorf("second reset: %q, %v", removed, err)
	}
	// A directory under the cache file's name is not porthole's: refused,
	// and left whole with what is in it.
	sub := filepath.Join(dir, CacheFile)
	if err := os.MkdirAll(filepath.Join(sub, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Reset(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("reset with a directory in place: %v", err)
	}
	if _, err := os.Stat(filepath.Join(sub, "keep")); err != nil {
		t.Errorf("the directory was touched: %v", err)
	}
	if _, err := Reset(filepath.Join(dir, "absent")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reset of a missing directory: %v", err)
	}
}
