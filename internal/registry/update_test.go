package registry

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/testenv"
)

// fetchDay is the fixed clock of these tests.
var fetchDay = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

// Lines of the embedded CSV that modifiedCSV edits.
const (
	lineGhostTCP = "nicetec-nmsvc,2556,tcp,nicetec-nmsvc,,,,,,,,\n"
	lineGhostUDP = "nicetec-nmsvc,2556,udp,nicetec-nmsvc,,,,,,,,\n"
	lineRange    = ",4461-4483,,Unassigned,,,,,,,,\n"
	addedRow     = "porthole-test,4480,tcp,Porthole test service,[Test_Person],[Test_Person],2026-03-10,,[RFC9999],,,\n"
	changedRow   = "nicetec-nmsvc,2556,tcp,nicetec-nmsvc,,,,2026-03-10,[RFC9999],,,\n"
)

// modifiedCSV is the embedded CSV with one row added (4480/tcp), one
// removed (2556/udp) and one changed (2556/tcp gains a reference and a
// modification date), dated 2026-03-10.
func modifiedCSV(t testing.TB) []byte {
	t.Helper()
	s := string(readCSV(t))
	for _, l := range []string{lineGhostTCP, lineGhostUDP, lineRange} {
		if strings.Count(s, l) != 1 {
			t.Fatalf("embedded CSV does not have exactly one line %q", l)
		}
	}
	s = strings.Replace(s, lineGhostUDP, "", 1)
	s = strings.Replace(s, lineGhostTCP, changedRow, 1)
	s = strings.Replace(s, lineRange, lineRange+addedRow, 1)
	return []byte(s)
}

// serve starts a loopback server for the test.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// csvHandler serves b as the registry, with a Content-Length unless chunked.
func csvHandler(b []byte, chunked bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		if !chunked {
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		}
		w.Write(b)
	}
}

// serveStalled starts a server that sends the response head and the first
// part bytes of b, then nothing more until the test ends (part < 0: no
// response at all). The handler is released in Cleanup, before the
// server's Close (cleanups run last first), which waits for it.
func serveStalled(t *testing.T, b []byte, part int) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if part >= 0 {
			w.Header().Set("Content-Type", "text/csv")
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.Write(b[:part])
			w.(http.Flusher).Flush()
		}
		<-release
	})
	t.Cleanup(func() { close(release) })
	return srv
}

func TestFetchGood(t *testing.T) {
	want := readCSV(t)
	for _, chunked := range []bool{false, true} {
		t.Run("chunked="+strconv.FormatBool(chunked), func(t *testing.T) {
			srv := serve(t, csvHandler(want, chunked))
			var calls int
			var lastDone, lastTotal int64
			rows, data, err := Fetch(context.Background(), srv.URL, FetchOptions{Progress: func(done, total int64) {
				calls++
				if done < lastDone {
					t.Errorf("progress went back from %d to %d", lastDone, done)
				}
				lastDone, lastTotal = done, total
			}})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, want) {
				t.Fatal("downloaded bytes differ from the served file")
			}
			if len(rows) != len(mustParse(t, want)) {
				t.Fatalf("got %d rows", len(rows))
			}
			if calls == 0 || lastDone != int64(len(want)) {
				t.Fatalf("progress: %d calls, last done %d, want %d", calls, lastDone, len(want))
			}
			wantTotal := int64(len(want))
			if chunked {
				wantTotal = -1
			}
			if lastTotal != wantTotal {
				t.Fatalf("progress total %d, want %d", lastTotal, wantTotal)
			}
		})
	}
}

// failures are downloads Fetch must refuse, with a word its error must
// contain. The CLI tests run the same kinds of server end to end.
func TestFetchRejects(t *testing.T) {
	good := readCSV(t)
	firstLines := func(n int) []byte { return testenv.FirstLines(good, n) }
	// A cut inside the 2,000th line, which has 12 fields.
	midRecord := firstLines(2000)
	midRecord = midRecord[:len(midRecord)-8]
	noSSH := bytes.Replace(good, []byte("ssh,22,tcp,"), []byte("xsh,22,tcp,"), 1)
	html := []byte("<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head><body>try later</body></html>\n")

	tests := []struct {
		name  string
		h     http.HandlerFunc // nil: a stalled server
		stall int              // bytes the stalled server sends; -1 none
		opt   FetchOptions
		want  []string
	}{
		{"404", http.NotFound, 0, FetchOptions{}, []string{"404 Not Found", "/registry.csv"}},
		{"500", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, 0, FetchOptions{}, []string{"500 Internal Server Error"}},
		{"html page, status 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(html)
		}, 0, FetchOptions{}, []string{"the server sent an HTML page, not the registry CSV"}},
		{"html page labelled text/csv", csvHandler(html, false), 0, FetchOptions{},
			[]string{"the server sent an HTML page, not the registry CSV"}},
		{"Content-Length larger than the body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(good)))
			w.Write(good[:len(good)/2])
		}, 0, FetchOptions{}, []string{"cut short", "of " + strconv.Itoa(len(good)) + " bytes"}},
		{"cut mid-record", csvHandler(midRecord, true), 0, FetchOptions{}, []string{"line 2000", "fields"}},
		{"cut at a record end", csvHandler(firstLines(2000), true), 0, FetchOptions{}, []string{"rows; the registry has more than 10000"}},
		{"cut before the last line break", csvHandler(good[:len(good)-1], true), 0, FetchOptions{}, []string{"does not end with a line break"}},
		{"too small", csvHandler([]byte(header+"ssh,22,tcp,SSH,,,,,,,,\r\n"), false), 0, FetchOptions{}, []string{"1 rows"}},
		{"wrong header", csvHandler(bytes.Replace(good, []byte("Service Name,"), []byte("Name,"), 1), false), 0, FetchOptions{},
			[]string{"line 1", "header"}},
		{"no anchor rows", csvHandler(noSSH, false), 0, FetchOptions{}, []string{"22/tcp ssh"}},
		{"over the size limit", csvHandler(good, false), 0, FetchOptions{MaxBytes: 100 << 10}, []string{"limit"}},
		{"over the size limit, chunked", csvHandler(good, true), 0, FetchOptions{MaxBytes: 100 << 10}, []string{"limit"}},
		{"stalled mid-body", nil, 50000, FetchOptions{IdleTimeout: 200 * time.Millisecond},
			[]string{"stalled"}},
		{"stalled before answering", nil, -1, FetchOptions{IdleTimeout: 200 * time.Millisecond},
			[]string{"stalled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *httptest.Server
			if tt.h == nil {
				srv = serveStalled(t, good, tt.stall)
			} else {
				srv = serve(t, tt.h)
			}
			url := srv.URL + "/registry.csv"
			rows, data, err := Fetch(context.Background(), url, tt.opt)
			if err == nil {
				t.Fatalf("accepted: %d rows, %d bytes", len(rows), len(data))
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), url) {
				t.Errorf("error %q does not name the URL", err)
			}
		})
	}
}

func TestFetchCancelled(t *testing.T) {
	srv := serveStalled(t, readCSV(t), 1000)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, _, err := Fetch(ctx, srv.URL, FetchOptions{IdleTimeout: time.Hour})
	if err == nil || strings.Contains(err.Error(), "stalled") {
		t.Fatalf("got %v, want a cancellation that is not called a stall", err)
	}
}

func TestPlausible(t *testing.T) {
	rows := mustParse(t, readCSV(t))
	cur := Embedded()
	if err := Plausible(rows, cur); err != nil {
		t.Fatal(err)
	}
	if err := Plausible(rows, nil); err != nil {
		t.Fatal(err)
	}
	short := rows[:len(rows)*85/100]
	if err := Sane(short); err != nil {
		t.Fatalf("85%% of the rows should pass Sane on its own: %v", err)
	}
	err := Plausible(short, cur)
	if err == nil || !strings.Contains(err.Error(), "90%") {
		t.Fatalf("85%% of the rows: got %v", err)
	}
}

func TestDiff(t *testing.T) {
	old := Embedded()
	if c := Diff(old, old); !c.None() || c.From != c.To {
		t.Fatalf("a registry differs from itself: %+v", c.Trim(3))
	}
	rows := mustParse(t, modifiedCSV(t))
	_, next, err := Prepare(rows, FetchedSource("http://127.0.0.1/x.csv", fetchDay))
	if err != nil {
		t.Fatal(err)
	}
	if next.Version() != "2026-03-10" || next.Source() != "http://127.0.0.1/x.csv, fetched 2026-03-10 09:30 UTC" {
		t.Fatalf("version %q, source %q", next.Version(), next.Source())
	}
	c := Diff(old, next)
	if c.From != old.Version() || c.To != "2026-03-10" || c.RowsBefore != old.Len() || c.RowsAfter != old.Len() {
		t.Fatalf("header: %+v", c.Trim(0))
	}
	if c.Added != 1 || c.Removed != 1 || c.Changed != 1 {
		t.Fatalf("counts %d/%d/%d, want 1/1/1: %+v", c.Added, c.Removed, c.Changed, c)
	}
	wantAdded := RowRef{Name: "porthole-test", Port: "4480", Proto: "tcp", Kind: "assigned", Description: "Porthole test service"}
	if c.AddedRows[0] != wantAdded {
		t.Errorf("added %+v", c.AddedRows[0])
	}
	wantRemoved := RowRef{Name: "nicetec-nmsvc", Port: "2556", Proto: "udp", Kind: "assigned", Description: "nicetec-nmsvc"}
	if c.RemovedRows[0] != wantRemoved {
		t.Errorf("removed %+v", c.RemovedRows[0])
	}
	ch := c.ChangedRows[0]
	want := []FieldChange{{"Modification Date", "", "2026-03-10"}, {"Reference", "", "[RFC9999]"}}
	if ch.Port != "2556" || ch.Proto != "tcp" || len(ch.Fields) != 2 || ch.Fields[0] != want[0] || ch.Fields[1] != want[1] {
		t.Errorf("changed %+v", ch)
	}
	if tr := c.Trim(0); len(tr.AddedRows) != 0 || tr.Added != 1 || len(c.AddedRows) != 1 {
		t.Errorf("Trim: %+v, original %+v", tr, c)
	}
}

func TestDiffKeys(t *testing.T) {
	// Rows sharing a key pair up in order; a range and an unnamed row's
	// kind are part of the key; a name's case is not.
	base := mustParse(t, readCSV(t))
	compile := func(extra string, drop func(Row) bool) *Index {
		rows := []Row{}
		for _, r := range base {
			if drop == nil || !drop(r) {
				rows = append(rows, r)
			}
		}
		rows = append(rows, mustParse(t, []byte(header+extra))...)
		_, x, err := Prepare(rows, "test")
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	a := compile("dup,7,udp,one,,,,,,,,\ndup,7,udp,two,,,,,,,,\n,1,sctp,Unassigned,,,,,,,,\n", nil)
	b := compile("DUP,7,udp,one,,,,,,,,\ndup,7,udp,two (changed),,,,,,,,\n,1,sctp,Reserved,,,,,,,,\n", nil)
	c := Diff(a, b)
	if c.Added != 1 || c.Removed != 1 || c.Changed != 2 {
		t.Fatalf("counts %d/%d/%d, want 1/1/2: %+v", c.Added, c.Removed, c.Changed, c)
	}
	if c.AddedRows[0].Kind != "reserved" || c.RemovedRows[0].Kind != "unassigned" {
		t.Errorf("added %+v removed %+v", c.AddedRows, c.RemovedRows)
	}
	if f := c.ChangedRows[0].Fields; len(f) != 1 || f[0] != (FieldChange{"Service Name", "dup", "DUP"}) {
		t.Errorf("first changed %+v", c.ChangedRows[0])
	}
	if f := c.ChangedRows[1].Fields; len(f) != 1 || f[0].Field != "Description" {
		t.Errorf("second changed %+v", c.ChangedRows[1])
	}
}

func TestInstall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "cache")
	t.Setenv("PORTHOLE_CACHE_DIR", dir)
	t.Cleanup(ResetDefault)
	csv := modifiedCSV(t)
	blob, _, err := Prepare(mustParse(t, csv), FetchedSource("http://127.0.0.1/r.csv", fetchDay))
	if err != nil {
		t.Fatal(err)
	}
	if x, err := Default(os.Getenv); err != nil || x.Source() != EmbeddedSource {
		t.Fatalf("before: %v, %v", x.Source(), err)
	}
	if err := Install(dir, blob, csv); err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, dir, blob, csv)
	// Default was reset by Install and reads the new copy.
	x, err := Default(os.Getenv)
	if err != nil || x.Version() != "2026-03-10" || !strings.HasPrefix(x.Source(), "http://127.0.0.1/r.csv") {
		t.Fatalf("after: %s %s %v", x.Version(), x.Source(), err)
	}
	if rows := x.Port(4480); len(rows) != 2 || rows[1].Name != "porthole-test" {
		t.Fatalf("4480: %+v", rows)
	}
	if l, err := Load(os.Getenv); err != nil || l.Source() != x.Source() {
		t.Fatalf("Load: %v %v", l.Source(), err)
	}
	// Again, over the installed files, without a CSV: the old CSV stays.
	blob2, _, err := Prepare(mustParse(t, csv), "second")
	if err != nil {
		t.Fatal(err)
	}
	if err := Install(dir, blob2, nil); err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, dir, blob2, csv)
}

// checkInstalled checks the two files and that no temporary file is left.
func checkInstalled(t *testing.T, dir string, blob, csv []byte) {
	t.Helper()
	for name, want := range map[string][]byte{CacheFile: blob, CacheCSV: csv} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s is not what was installed", name)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != CacheFile && e.Name() != CacheCSV {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestInstallFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PORTHOLE_CACHE_DIR", dir)
	t.Cleanup(ResetDefault)
	csv := readCSV(t)
	old, _, err := Prepare(mustParse(t, csv), "old copy")
	if err != nil {
		t.Fatal(err)
	}
	if err := Install(dir, old, csv); err != nil {
		t.Fatal(err)
	}
	next := modifiedCSV(t)
	blob, _, err := Prepare(mustParse(t, next), "new copy")
	if err != nil {
		t.Fatal(err)
	}

	// A damaged blob is refused before anything is written.
	if err := Install(dir, blob[:len(blob)-1], next); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("damaged blob: %v", err)
	}
	checkInstalled(t, dir, old, csv)

	// The CSV cannot be renamed into place (a directory is in the way):
	// registry.bin stays the old one, and the temporary files go.
	if err := os.Remove(filepath.Join(dir, CacheCSV)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, CacheCSV), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, CacheCSV, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Install(dir, blob, next); err == nil {
		t.Fatal("Install succeeded with a directory in the CSV's place")
	}
	got, err := os.ReadFile(filepath.Join(dir, CacheFile))
	if err != nil || !bytes.Equal(got, old) {
		t.Fatalf("registry.bin changed after a failed install (%v)", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("left behind: %v", ents)
	}
	ResetDefault()
	if x, err := Default(os.Getenv); err != nil || x.Source() != "old copy" {
		t.Fatalf("Default after a failed install: %q %v", x.Source(), err)
	}
}
