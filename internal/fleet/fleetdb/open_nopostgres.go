//go:build nopostgres

package fleetdb

import (
	"context"

	"github.com/porthole/porthole/internal/store"
)

func openPostgres(context.Context, string) (*DB, error) { return nil, store.ErrNoPostgres }
