package feedback_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/porthole/porthole/internal/feedback"
	"github.com/porthole/porthole/internal/store"
	"github.com/porthole/porthole/internal/webguard"
)

// How the site mounts the feedback routes: open the store named by --db, register the handler on the site's mux,
// wrap everything in webguard and serve it with webguard's timeouts.
func Example() {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	st, err := store.Open(ctx, "") // "" is the default SQLite file; a postgres:// URL selects PostgreSQL
	if err != nil {
		log.Error("opening the feedback store", "err", err)
		return
	}
	defer st.Close()

	mux := http.NewServeMux()
	// … the site's own routes: GET /ports/{port}, GET /ko/ports/{port}, …
	fb, err := feedback.New(st, time.Now, log, feedback.Options{
		RateLimit:  10,
		AdminToken: os.Getenv("PORTHOLE_ADMIN_TOKEN"),
	})
	if err != nil {
		log.Error("feedback", "err", err) // a short admin token, a malformed trusted origin
		return
	}
	fb.Register(mux)

	srv := webguard.NewServer("127.0.0.1:8080", webguard.Wrap(mux, log), webguard.Timeouts{}, log)
	_ = srv // srv.ListenAndServe(), then srv.Shutdown(ctx) on SIGTERM before st.Close()

	// On a port page: "12 people found this helpful".
	sum, err := feedback.Summarize(ctx, st, 2556, "en")
	_, _ = sum.Helpful, err
}
