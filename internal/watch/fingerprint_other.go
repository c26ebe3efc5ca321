//go:build !linux

package watch

import "errors"

// fingerprinter is Linux-only; elsewhere Live compares socket listings.
type fingerprinter struct{}

func (*fingerprinter) fingerprint() (uint64, error) {
	return 0, errors.New("no sock_diag fingerprint on this system")
}
