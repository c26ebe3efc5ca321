package registry

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/ports"
)

// reseal recomputes the checksum of a changed blob, so that a test reaches
// the checks behind it: a hostile file can carry a valid checksum.
func reseal(b []byte) []byte {
	if len(b) < 4 {
		return b
	}
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
	return b
}

// hdr reads header word i (0: row count, 1: port index, 2: postings,
// 3: names, 4: row offsets, 5: statistics) of the embedded blob.
func hdr(i int) int { return int(le32(embedded, len(magic)+4*i)) }

func put32(b []byte, at int, v uint32) []byte {
	binary.LittleEndian.PutUint32(b[at:], v)
	return b
}

// smallBlob compiles a registry of a few rows: a quick seed for FuzzOpen.
func smallBlob(t testing.TB) string {
	t.Helper()
	rows := mustParse(t, []byte(header+
		"ssh,22,tcp,The Secure Shell (SSH) Protocol,[IESG],[IETF_Chair],,,[RFC4251],,,\r\n"+
		",49151,,Reserved,,,,2024-12-20,[RFC6335],,,\r\n"+
		"vrml-multi-use,4200-4299,,VRML Multi User Systems,,,,,,,,\r\n"+
		"nicetec-nmsvc,2556,udp,nicetec-nmsvc,,,,,,,,\r\n"+
		"bare,,,a name without a port,,,2011-01-01,,,,,\r\n"))
	blob, err := Compile(rows, Version(rows), "test")
	if err != nil {
		t.Fatal(err)
	}
	return string(blob)
}

func TestOpenRejectsDamage(t *testing.T) {
	emb := func() []byte { return []byte(embedded) }
	portIdx, postings, names, rowOff, stats := hdr(1), hdr(2), hdr(3), hdr(4), hdr(5)
	cases := []struct {
		name string
		blob []byte
		want string // in the error
	}{
		{"empty", nil, "magic"},
		{"magic only", []byte(magic), "too short"},
		{"older format", append([]byte("PHREG2\n"), embedded[len(magic):]...), "another porthole version"},
		{"wrong magic", append([]byte("XXXXXX\n"), embedded[len(magic):]...), "magic"},
		{"cut in half", emb()[:len(embedded)/2], "checksum"},
		{"cut by one byte", emb()[:len(embedded)-1], "checksum"},
		// The case: five bytes changed after the magic made
		// `info 80` say "unassigned" without a word.
		{"five bytes after the magic", func() []byte {
			b := emb()
			copy(b[len(magic)+4:], "\x00\x00\x00\x00\x00")
			return b
		}(), "checksum"},
		{"a bit in the postings", func() []byte { b := emb(); b[postings+400] ^= 0x10; return b }(), "checksum"},
		// Resealed: a valid checksum over hostile tables.
		{"row count huge", reseal(put32(emb(), len(magic), 1<<31)), "row count"},
		{"row count past the table", reseal(put32(emb(), len(magic), uint32(hdr(0)+5000))), "row 14500: offset"},
		{"port index past the end", reseal(put32(emb(), len(magic)+4, uint32(len(embedded)-100))), "port index"},
		{"port index wraps in 32 bits", reseal(put32(emb(), len(magic)+4, 0xffff_fff0)), "port index"},
		{"posting count huge", reseal(put32(emb(), portIdx+4*(ports.Max+1), 0x7fff_ffff)), "postings"},
		{"port index descends", reseal(put32(emb(), portIdx+4*80, 0)), "not ascending"},
		{"posting names a row past the end", reseal(put32(emb(), postings+4*int(le32(embedded, portIdx+4*80)), 0xffff_fff0)), "posting"},
		{"posting names a row that does not cover the port", reseal(put32(emb(), postings+4*int(le32(embedded, portIdx+4*80)), 0)), "does not cover"},
		{"name index count huge", reseal(put32(emb(), names, 0x7fff_ffff)), "name index"},
		{"name index out of order", func() []byte {
			b := emb()
			first := le32(embedded, names+4)
			put32(b, names+4, le32(embedded, names+4+4*5000))
			put32(b, names+4+4*5000, first)
			return reseal(b)
		}(), "out of order"},
		{"row offset past its table", reseal(put32(emb(), rowOff+4*7, uint32(rowOff+100))), "row 7"},
		{"row offset into the header", reseal(put32(emb(), rowOff, 3)), "row 0"},
		{"record with a bad protocol", func() []byte {
			b := emb()
			b[le32(embedded, rowOff+4*10)] = 9
			return reseal(b)
		}(), "protocol"},
		{"statistics that do not add up", reseal(put32(emb(), stats+4*(statsTop+0), 1)), "statistics"},
		{"statistics moved", reseal(put32(emb(), len(magic)+20, uint32(stats-4))), "statistics"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, err := Open(string(tc.blob))
			if err == nil {
				t.Fatalf("Open accepted it (%d rows)", x.Len())
			}
			var de *DamagedError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want a *DamagedError mentioning %q", err, tc.want)
			}
		})
	}
	// Every single-bit flip is caught by CRC-32C; try one in every 4 KiB.
	for at := 0; at < len(embedded); at += 4093 {
		b := emb()
		b[at] ^= 1 << (at % 8)
		if _, err := Open(string(b)); err == nil {
			t.Fatalf("a flipped bit at %d went unnoticed", at)
		}
	}
}

// damagedCache writes b as the cached registry of a fresh cache directory,
// and returns its path.
func damagedCache(t *testing.T, b []byte) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("PORTHOLE_CACHE_DIR", dir)
	path := filepath.Join(dir, CacheFile)
	if b != nil {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestDamagedCacheFallsBack puts real damaged files in a cache directory:
// Default must answer from the embedded registry, right, and say once what
// was wrong with which file.
func TestDamagedCacheFallsBack(t *testing.T) {
	five := []byte(embedded)
	copy(five[len(magic)+4:], "\x01\x02\x03\x04\x05")
	cases := []struct {
		name  string
		setup func(t *testing.T) string
		want  string
	}{
		{"five bytes changed", func(t *testing.T) string { return damagedCache(t, five) }, "checksum"},
		{"truncated", func(t *testing.T) string { return damagedCache(t, []byte(embedded[:1000])) }, "checksum"},
		{"resealed bad posting", func(t *testing.T) string {
			b := []byte(embedded)
			put32(b, hdr(2)+4*int(le32(embedded, hdr(1)+4*79)), 0xffff_fff0)
			return damagedCache(t, reseal(b))
		}, "posting"},
		{"larger than the cap", func(t *testing.T) string {
			path := damagedCache(t, nil)
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(MaxBlob + 1); err != nil { // sparse: no disk used
				t.Fatal(err)
			}
			return path
		}, "cap"},
		{"a directory", func(t *testing.T) string {
			path := damagedCache(t, nil)
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			return path
		}, "regular file"},
		{"a FIFO", func(t *testing.T) string {
			path := damagedCache(t, nil)
			mkfifo(t, path)
			return path
		}, "regular file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.setup(t)
			ResetDefault()
			t.Cleanup(ResetDefault)
			x, err := Default(os.Getenv)
			if err == nil {
				t.Fatal("no warning")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 0 {
				t.Errorf("warning %q: want one line naming %s and %q", msg, path, tc.want)
			}
			if x == nil || x.Source() != EmbeddedSource {
				t.Fatalf("fell back to %v, not the embedded registry", x)
			}
			if st := x.StatusOf(80, ports.TCP); st != StatusAssigned {
				t.Errorf("80/tcp is %s", st)
			}
			if rows := x.Port(79); len(rows) == 0 || rows[0].Name != "finger" {
				t.Errorf("79 gives %+v", rows)
			}
		})
	}
}

// exercise runs every lookup of x over every port and row; it must not
// panic whatever blob x came from.
func exercise(x *Index) {
	for p := -1; p <= ports.Max+1; p++ {
		x.Port(p)
		x.Ghost(p)
		for _, pr := range ports.Protos {
			x.StatusOf(p, pr)
		}
	}
	for i := -1; i <= x.Len(); i++ {
		r := x.Row(i)
		if i < 40 {
			x.Name(r.Name)
		}
	}
	x.Name("http")
	x.Stats()
	x.Version()
	x.Source()
}

func FuzzOpen(f *testing.F) {
	small := smallBlob(f)
	for _, s := range []string{embedded, small} {
		f.Add([]byte(s))
		for _, cut := range []int{len(s) - 1, len(s) / 2, len(magic) + 24, 3} {
			f.Add([]byte(s[:cut]))
		}
		for _, at := range []int{len(magic) + 1, len(magic) + 9, len(s) / 3, len(s) - statsSize} {
			b := []byte(s)
			b[at] ^= 0x40
			f.Add(b)
			f.Add(reseal(append([]byte(nil), b...)))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// As given, and with its checksum made valid, so that the engine
		// reaches the table checks behind the checksum.
		for _, blob := range [][]byte{b, reseal(append([]byte(nil), b...))} {
			x, err := Open(string(blob))
			if err != nil {
				var de *DamagedError
				if !errors.As(err, &de) {
					t.Fatalf("error %v is not a *DamagedError", err)
				}
				continue
			}
			exercise(x)
		}
	})
}
