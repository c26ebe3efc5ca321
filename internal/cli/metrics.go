package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/porthole/porthole/internal/promtext"
)

// buildInfo is porthole_build_info: the version and VCS revision that
// `porthole version` reports (revision "" when the build recorded none) and
// the version of the IANA registry in use, as labels of one sample of 1.
func buildInfo(registryVersion string) promtext.Family {
	b := readBuild()
	return promtext.Family{Name: "porthole_build_info", Type: promtext.Info,
		Help: "The porthole build (as porthole version reports it) and the IANA registry version in use; the value is 1.",
		Samples: []promtext.Sample{{Value: 1, Labels: []promtext.Label{
			{Name: "version", Value: b.Version}, {Name: "revision", Value: b.Revision}, {Name: "registry_version", Value: registryVersion},
		}}}}
}

// serveMetrics listens on addr and serves what collect returns on /metrics
// (the Prometheus text format, or OpenMetrics when the scraper asks; a
// collect error is a 500) until stop is called or ctx ends. cmd names the command on the root page.
func serveMetrics(ctx context.Context, env *Env, cmd, addr string, collect func(context.Context) ([]promtext.Family, error)) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promtext.HandlerContext(collect))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "porthole %s: metrics at /metrics\n", cmd)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(env.Stderr, "porthole: metrics server:", err)
		}
	}()
	fmt.Fprintf(env.Stderr, "porthole: metrics on http://%s/metrics\n", ln.Addr())
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	return func() { close(stopped); <-done }, nil
}
