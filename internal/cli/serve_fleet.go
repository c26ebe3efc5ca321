package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/porthole/porthole/internal/fleet/fleetapi"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/promtext"
	"github.com/porthole/porthole/internal/web"
	"github.com/porthole/porthole/internal/webguard"
)

// serveFleet is the fleet part of serve (docs/fleet.md): it exists only with
// --admin-token-file, whose token guards the API's read endpoints and the
// site's login, and keeps its inventory in the --db database, beside the
// feedback.
type serveFleet struct {
	api      *fleetapi.Handler
	site     *web.FleetOptions // the /fleet pages and the port pages' fleet section
	families func(context.Context) ([]promtext.Family, error)
	close    func()
}

// openFleet opens the inventory and makes the API and the site's fleet
// options; failed admin tokens of the API and of the login form share one
// throttle.
func openFleet(ctx context.Context, env *Env, dsn, adminToken string, trustProxy bool, log *slog.Logger) (*serveFleet, error) {
	db, err := fleetdb.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening the fleet inventory: %w", err)
	}
	throttle := webguard.NewThrottle(webguard.ThrottleOptions{Now: env.Now})
	api, err := fleetapi.New(fleetapi.Options{DB: db, AdminToken: adminToken, Now: env.Now, Log: log, TrustProxy: trustProxy, Throttle: throttle})
	if err != nil {
		db.Close()
		return nil, err
	}
	admin, err := webguard.NewBearerAuth(adminToken, throttle)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &serveFleet{api: api, families: api.Families, close: func() { db.Close() },
		site: &web.FleetOptions{DB: db, Admin: admin, TrustProxy: trustProxy}}, nil
}

// mount puts the fleet API beside the site.
func (f *serveFleet) mount(site http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(fleetapi.Prefix, f.api)
	mux.Handle("/", site)
	return mux
}
