// Package registry holds IANA's Service Name and Transport Protocol Port
// Number Registry (RFC 6335): a parser for IANA's CSV export that keeps every
// row and column, a compiled form that is read in place so that a lookup in
// a cold process costs microseconds, the status rules for a port, and the
// registry's statistics.
//
// The registry copy compiled into the binary is data/registry.bin, made from
// data/service-names-port-numbers.csv by `go generate`; `porthole update`
// writes a newer compiled copy into the user's cache directory, which
// Default prefers when it is there and sound.
package registry

//go:generate go run gen.go

import (
	_ "embed"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

//go:embed data/registry.bin
var embedded string

// EmbeddedSource says where the embedded CSV came from.
const EmbeddedSource = "IANA service-names-port-numbers.csv, copy of 2026-03-02 from the public repository farheinheigt/mesports (CC0)"

// CacheFile is the compiled registry `porthole update` writes, inside
// CacheDir.
const CacheFile = "registry.bin"

// CacheDir is the user's porthole cache directory. PORTHOLE_CACHE_DIR
// overrides it (tests use that).
func CacheDir() (string, error) {
	if d := os.Getenv("PORTHOLE_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "porthole"), nil
}

var (
	defaultOnce  sync.Once
	defaultIndex *Index
	defaultErr   error
)

// Default returns the registry in use: the refreshed copy in the cache
// directory when there is one that opens cleanly and is not older than the
// embedded one, else the embedded copy. A damaged cache file is reported in
// the error alongside a working embedded Index, so callers may warn and go on.
func Default() (*Index, error) {
	defaultOnce.Do(func() { defaultIndex, defaultErr = loadDefault() })
	return defaultIndex, defaultErr
}

// Embedded returns the registry compiled into the binary.
func Embedded() *Index {
	x, err := open(embedded, false)
	if err != nil {
		// The embedded blob is checked by the package tests; a damaged one
		// is a build fault, not a user error.
		panic("porthole: embedded registry: " + err.Error())
	}
	return x
}

func loadDefault() (*Index, error) {
	dir, err := CacheDir()
	if err != nil {
		return Embedded(), nil
	}
	b, err := os.ReadFile(filepath.Join(dir, CacheFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Embedded(), nil
	}
	if err != nil {
		return Embedded(), err
	}
	x, err := Open(string(b))
	if err != nil {
		return Embedded(), errors.New(filepath.Join(dir, CacheFile) + ": " + err.Error() + "; using the built-in registry (run `porthole update` to refresh)")
	}
	emb := Embedded()
	if x.Version() < emb.Version() {
		return emb, nil
	}
	return x, nil
}
