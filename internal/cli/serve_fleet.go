package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/porthole/porthole/internal/fleet/fleetapi"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/promtext"
)

// withFleet mounts the fleet API (docs/fleet.md) beside the site: it exists
// only with --admin-token-file, whose token guards its read endpoints, and
// keeps its inventory in the --db database, beside the feedback. It returns
// the fleet's metrics families for serve --metrics and a function that
// closes the inventory.
func withFleet(ctx context.Context, site http.Handler, env *Env, dsn, adminToken string, trustProxy bool, log *slog.Logger) (http.Handler, func(context.Context) ([]promtext.Family, error), func(), error) {
	db, err := fleetdb.Open(ctx, dsn)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("opening the fleet inventory: %w", err)
	}
	api, err := fleetapi.New(fleetapi.Options{DB: db, AdminToken: adminToken, Now: env.Now, Log: log, TrustProxy: trustProxy})
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(fleetapi.Prefix, api)
	mux.Handle("/", site)
	return mux, api.Families, func() { db.Close() }, nil
}
