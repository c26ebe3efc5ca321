//go:build nopostgres

package store

import (
	"context"
	"errors"
)

// ErrNoPostgres is returned for a postgres:// DSN by a binary built with the nopostgres tag.
var ErrNoPostgres = errors.New("this porthole was built without PostgreSQL support (tag nopostgres)")

func openPostgres(context.Context, string) (Store, error) { return nil, ErrNoPostgres }
