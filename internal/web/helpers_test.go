package web

import (
	"testing"
	"time"

	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/registry"
)

// fixedNow is the clock of every test: golden files must not change with
// the year.
var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testSite(tb testing.TB, o Options) *Site {
	tb.Helper()
	db, err := intel.Default()
	if err != nil {
		tb.Fatal(err)
	}
	o.Registry = registry.Embedded()
	o.Intel = db
	o.Now = func() time.Time { return fixedNow }
	return New(o)
}
