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
	"fmt"
	"io"
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

// CacheDirEnv names the environment variable that overrides CacheDir
// (tests use it).
const CacheDirEnv = "PORTHOLE_CACHE_DIR"

// CacheDir is the user's porthole cache directory: $PORTHOLE_CACHE_DIR as
// getenv reads it (the caller's environment, not necessarily the process's;
// nil reads none), else porthole in the user's cache directory.
func CacheDir(getenv func(string) string) (string, error) {
	if getenv != nil {
		if d := getenv(CacheDirEnv); d != "" {
			return d, nil
		}
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "porthole"), nil
}

var (
	defaultMu    sync.Mutex
	defaultDone  bool
	defaultDir   string
	defaultIndex *Index
	defaultErr   error
)

// Default returns the registry in use for the cache directory getenv names
// (see CacheDir): the refreshed copy there when there is one that opens
// cleanly and is not older than the embedded one, else the embedded copy. A
// damaged cache file is reported in the error alongside a working embedded
// Index, so callers may warn and go on. The result is kept for the next call
// with the same directory.
func Default(getenv func(string) string) (*Index, error) {
	dir, dirErr := CacheDir(getenv)
	if dirErr != nil {
		dir = ""
	}
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if !defaultDone || dir != defaultDir {
		defaultIndex, defaultErr = loadDefault(dir)
		defaultDone, defaultDir = true, dir
	}
	return defaultIndex, defaultErr
}

// Embedded returns the registry compiled into the binary.
func Embedded() *Index {
	x, err := open(embedded, checkFrame)
	if err != nil {
		// The embedded blob is checked by the package tests; a damaged one
		// is a build fault, not a user error.
		panic("porthole: embedded registry: " + err.Error())
	}
	return x
}

// loadDefault loads the registry from the cache directory dir ("": none,
// the embedded copy).
func loadDefault(dir string) (*Index, error) {
	if dir == "" {
		return Embedded(), nil
	}
	path := filepath.Join(dir, CacheFile)
	b, err := readCache(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Embedded(), nil
	}
	if err == nil {
		var x *Index
		if x, err = Open(string(b)); err == nil {
			emb := Embedded()
			if x.Version() >= emb.Version() {
				return x, nil
			}
			// An older cached copy (say, from before a porthole upgrade)
			// gives way to the embedded one silently: nothing is wrong.
			return emb, nil
		}
	}
	return Embedded(), fmt.Errorf("%s: %w; using the built-in registry (run `porthole update` to refresh, or `porthole update --reset` to remove it)", path, err)
}

// readCache reads a cached compiled registry: a regular file of at most
// MaxBlob bytes. It is opened without blocking (a FIFO put in its place
// must not hang every command) and checked again once open.
func readCache(path string) ([]byte, error) {
	f, err := openNoBlock(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	if fi.Size() > MaxBlob {
		return nil, fmt.Errorf("%d bytes, more than the cap of %d for a compiled registry", fi.Size(), MaxBlob)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxBlob+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBlob {
		return nil, fmt.Errorf("more than the cap of %d bytes for a compiled registry", MaxBlob)
	}
	return b, nil
}
