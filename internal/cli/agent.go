package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/fleet/agent"
	"github.com/porthole/porthole/internal/webguard"
)

func runAgent(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "agent", "--server URL --token-file FILE [flags]",
		"Report this host's listeners to a fleet server (porthole serve --admin-token-file): the full state first, then only what changed (added, removed, owner changed), and a heartbeat every interval when nothing did. Reports wait in the spool directory while the server is unreachable and are resent in order when it is back. Stops on SIGTERM or SIGINT. See docs/fleet.md.")
	server := fs.String("server", "", "the fleet server's `URL` (http:// or https://)")
	tokenFile := fs.String("token-file", "", "read the host token (porthole fleet token NAME) from `FILE` (mode 0600)")
	name := fs.String("name", "", "this host's `NAME` in the fleet (default: the host name)")
	interval := fs.Duration("interval", 30*time.Second, "report at least every `DURATION` (whole seconds, 1s to 24h); the server marks a host stale after three missed intervals")
	spool := fs.String("spool", "", "keep unsent reports in `DIR` (created mode 0700 if missing), so they survive a restart")
	group := fs.String("group", "", "compare this host for outliers with the hosts of group `NAME` only (default: the whole fleet)")
	netns := fs.String("netns", "", "report only the network namespace `NAME` (an ip netns name) or PATH (/proc/PID/ns/net), as a host of its own; the agent talks to the server from its own namespace (default: every namespace this agent can see)")
	ca := fs.String("ca", "", "trust the server certificates signed by the PEM certificates in `FILE` (for a private CA; the system's roots otherwise)")
	noAudit := fs.Bool("no-audit", false, "do not run porthole audit on each reading (by default its findings of severity low and above are reported)")
	asJSON := fs.Bool("json", false, "log as JSON lines on stderr")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("agent takes no arguments, got %s", quoteArg(rest[0]))
	}
	u, err := url.Parse(*server)
	switch {
	case *server == "":
		return usagef("agent needs --server URL")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil:
		return badToken(*server, "--server %s: want an http:// or https:// URL such as https://fleet.example:8025", quoteArg(*server))
	}
	client := &http.Client{Timeout: 30 * time.Second}
	if *ca != "" {
		if u.Scheme != "https" {
			return usagef("--ca needs an https:// --server")
		}
		pool, err := caPool(*ca)
		if err != nil {
			return err
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		client.Transport = tr
	}
	if *group != "" && fleet.ValidName(*group) != nil {
		return badToken(*group, "--group %s: use 1–%d letters, digits, '.', '-' or '_', starting with a letter or digit", quoteArg(*group), fleet.MaxNameLen)
	}
	reader := agent.Reader{}
	if *netns != "" {
		path := *netns
		if !strings.Contains(path, "/") {
			if path == "." || path == ".." {
				return badToken(path, "--netns %s: not a namespace name", quoteArg(path))
			}
			path = "/run/netns/" + path
		}
		if _, err := os.Stat(path); err != nil {
			return badToken(*netns, "--netns %s: %v", quoteArg(*netns), err)
		}
		reader.NetNS = path
	}
	if *tokenFile == "" {
		return usagef("agent needs --token-file FILE (make the token with: porthole fleet token NAME)")
	}
	if *interval < fleet.MinInterval || *interval > fleet.MaxInterval || *interval%time.Second != 0 {
		return badToken(interval.String(), "--interval %v: want whole seconds from 1s to 24h", *interval)
	}
	host := *name
	if host == "" {
		if host, err = os.Hostname(); err != nil {
			return fmt.Errorf("reading the host name (give --name): %w", err)
		}
		// A fully qualified name is fine; a name the fleet cannot take needs --name.
		if fleet.ValidName(host) != nil {
			return usagef("this host's name %s is not a valid fleet host name; give --name", quoteArg(host))
		}
	}
	if err := fleet.ValidName(host); err != nil {
		return badToken(host, "--name %s: use 1–%d letters, digits, '.', '-' or '_', starting with a letter or digit", quoteArg(host), fleet.MaxNameLen)
	}
	token, err := webguard.ReadTokenFile(*tokenFile)
	if err != nil {
		return usagef("--token-file: %v", err)
	}
	if !fleet.ValidToken(token) {
		return usagef("--token-file: %s does not hold a host token (make one with: porthole fleet token %s)", *tokenFile, host)
	}
	if !*noAudit {
		k, err := loadKnowledge(env)
		if err != nil {
			return err
		}
		reader.Intel, reader.Registry = k.intel, k.reg
	}
	var log *slog.Logger
	if *asJSON {
		log = slog.New(slog.NewJSONHandler(env.Stderr, nil))
	} else {
		log = slog.New(slog.NewTextHandler(env.Stderr, nil))
	}
	log.Info("agent started", "server", strings.TrimSuffix(*server, "/"), "host", host, "interval", interval.String())
	err = agent.Run(ctx, agent.Config{Server: *server, Token: token, Name: host, Interval: *interval, Spool: *spool,
		Snapshot: reader.Snapshot, Log: log, Client: client, Boot: agent.BootID(), Group: *group})
	if errors.Is(err, agent.ErrRefused) {
		return fmt.Errorf("%w (check the token: porthole fleet token %s makes a new one)", err, host)
	}
	if err != nil {
		return err
	}
	log.Info("agent stopped")
	return nil
}
