package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// CacheCSV is the CSV `porthole update` keeps beside CacheFile, as
// downloaded, so that the compiled copy can be checked against its source.
const CacheCSV = "service-names-port-numbers.csv"

// Load reads the registry in use afresh, by the rules of Default but without
// its memo: `porthole update` compares against what is installed now, not
// what this process saw first.
func Load(getenv func(string) string) (*Index, error) {
	dir, err := CacheDir(getenv)
	if err != nil {
		dir = ""
	}
	return loadDefault(dir)
}

// ResetDefault forgets the registry Default loaded, so that its next call
// reads the cache directory again. Install calls it.
func ResetDefault() {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	defaultDone, defaultDir = false, ""
	defaultIndex, defaultErr = nil, nil
}

// Prepare compiles fetched rows with their version and source, and opens
// the result as a check.
func Prepare(rows []Row, source string) ([]byte, *Index, error) {
	blob, err := Compile(rows, Version(rows), source)
	if err != nil {
		return nil, nil, err
	}
	x, err := Open(string(blob))
	if err != nil {
		return nil, nil, err
	}
	return blob, x, nil
}

// Install puts a compiled registry, and the CSV it came from (if csv is not
// nil), into dir as CacheFile and CacheCSV. Each file is written to a
// temporary file in dir, synced, and renamed over the old one, and then
// the directory is synced: a crash or failure at any point leaves either
// the old file or the new one, never a mix. The CSV is renamed first, so
// that CacheFile, the one Default reads, is replaced last; when Install
// fails, CacheFile is the old one.
func Install(dir string, blob, csv []byte) (err error) {
	if _, err := Open(string(blob)); err != nil {
		return fmt.Errorf("refusing to install: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the cache directory: %w", err)
	}
	var temps []string
	defer func() {
		if err != nil {
			for _, t := range temps {
				os.Remove(t)
			}
		}
	}()
	binTmp, err := writeTemp(dir, CacheFile, blob)
	if err != nil {
		return err
	}
	temps = append(temps, binTmp)
	if csv != nil {
		csvTmp, err := writeTemp(dir, CacheCSV, csv)
		if err != nil {
			return err
		}
		temps = append(temps, csvTmp)
		if err := os.Rename(csvTmp, filepath.Join(dir, CacheCSV)); err != nil {
			return fmt.Errorf("installing %s: %w", CacheCSV, err)
		}
	}
	if err := os.Rename(binTmp, filepath.Join(dir, CacheFile)); err != nil {
		return fmt.Errorf("installing %s (the registry in use is unchanged): %w", CacheFile, err)
	}
	if err := syncDir(dir); err != nil {
		// Both renames are done and visible; only their durability across
		// a power cut is in doubt. Say so, but the install stands.
		ResetDefault()
		return fmt.Errorf("installed, but syncing %s failed: %w", dir, err)
	}
	ResetDefault()
	return nil
}

// writeTemp writes b to a new temporary file in dir named after name, syncs
// and closes it, and returns its path. On failure nothing is left behind.
func writeTemp(dir, name string, b []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", name, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o644)
		if runtime.GOOS == "windows" {
			err = nil // Chmod only toggles read-only there
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing %s: %w", name, err)
	}
	return f.Name(), nil
}

// syncDir makes the renames in dir durable. Windows cannot open a directory
// for syncing; NTFS journals the rename itself.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, os.ErrInvalid) {
		return nil // some file systems cannot sync a directory
	}
	return err
}

// Reset returns to the embedded registry by removing, from dir, the two
// files Install writes (CacheFile, then CacheCSV), by name. It removes
// nothing else: no other file, no directory, not dir itself. A name that
// holds something other than a regular file (a directory, a symlink) was
// not written by porthole and is left alone, with an error saying so. It
// returns the paths it removed.
func Reset(dir string) (removed []string, err error) {
	defer ResetDefault()
	for _, name := range []string{CacheFile, CacheCSV} {
		path := filepath.Join(dir, name)
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return removed, err
		}
		if !fi.Mode().IsRegular() {
			return removed, fmt.Errorf("%s is not a regular file (%s), so porthole did not write it; leaving it alone", path, fi.Mode().Type())
		}
		if err := os.Remove(path); err != nil {
			return removed, err
		}
		removed = append(removed, path)
	}
	if len(removed) > 0 {
		if err := syncDir(dir); err != nil {
			return removed, fmt.Errorf("removed, but syncing %s failed: %w", dir, err)
		}
	}
	return removed, nil
}
