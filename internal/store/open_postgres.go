//go:build !nopostgres

package store

import (
	"context"

	"github.com/porthole/porthole/internal/store/postgres"
)

func openPostgres(ctx context.Context, url string) (Store, error) { return postgres.Open(ctx, url) }
