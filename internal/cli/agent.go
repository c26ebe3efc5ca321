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

// agentOptions are `porthole agent`'s flags.
type agentOptions struct {
	server    string // --server, checked: an http(s) URL
	https     bool   // the server's scheme is https
	tokenFile string
	name      string // --name, checked, or "" for the host name
	interval  time.Duration
	spool     string
	group     string
	netns     string // --netns as given; "" for every namespace
	netnsPath string // its path: /run/netns/NAME, or the PATH given
	ca        string
	noAudit   bool
	json      bool
}

var agentCmd = &cmdDef[agentOptions]{name: "agent", args: "--server URL --token-file FILE [flags]",
	help: "Report this host's listeners to a fleet server (porthole serve --admin-token-file): the full state first, then only what changed (added, removed, owner changed), and a heartbeat every interval when nothing did. Reports wait in the spool directory while the server is unreachable and are resent in order when it is back. Stops on SIGTERM or SIGINT. See docs/fleet.md.",
	flags: func(fs *cmdFlags, o *agentOptions) func([]string) error {
		fs.StringVar(&o.server, "server", "", "the fleet server's `URL` (http:// or https://)")
		fs.StringVar(&o.tokenFile, "token-file", "", "read the host token (porthole fleet token NAME) from `FILE` (mode 0600)")
		fs.StringVar(&o.name, "name", "", "this host's `NAME` in the fleet (default: the host name)")
		fs.DurationVar(&o.interval, "interval", 30*time.Second, "report at least every `DURATION` (whole seconds, 1s to 24h); the server marks a host stale after three missed intervals")
		fs.StringVar(&o.spool, "spool", "", "keep unsent reports in `DIR` (created mode 0700 if missing), so they survive a restart")
		fs.StringVar(&o.group, "group", "", "compare this host for outliers with the hosts of group `NAME` only (default: the whole fleet)")
		fs.StringVar(&o.netns, "netns", "", "report only the network namespace `NAME` (an ip netns name) or PATH (/proc/PID/ns/net), as a host of its own; the agent talks to the server from its own namespace (default: every namespace this agent can see)")
		fs.StringVar(&o.ca, "ca", "", "trust the server certificates signed by the PEM certificates in `FILE` (for a private CA; the system's roots otherwise)")
		fs.BoolVar(&o.noAudit, "no-audit", false, "do not run porthole audit on each reading (by default its findings of severity low and above are reported)")
		fs.BoolVar(&o.json, "json", false, "log as JSON lines on stderr")
		return func(rest []string) error {
			if len(rest) > 0 {
				return usagef("agent takes no arguments, got %s", quoteArg(rest[0]))
			}
			u, err := url.Parse(o.server)
			switch {
			case o.server == "":
				return usagef("agent needs --server URL")
			case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil:
				return badToken(o.server, "--server %s: want an http:// or https:// URL such as https://fleet.example:8025", quoteArg(o.server))
			}
			o.https = u.Scheme == "https"
			if o.ca != "" && !o.https {
				return usagef("--ca needs an https:// --server")
			}
			if o.group != "" && fleet.ValidName(o.group) != nil {
				return badToken(o.group, "--group %s: use 1–%d letters, digits, '.', '-' or '_', starting with a letter or digit", quoteArg(o.group), fleet.MaxNameLen)
			}
			if o.netnsPath = o.netns; o.netns != "" && !strings.Contains(o.netns, "/") {
				if o.netns == "." || o.netns == ".." {
					return badToken(o.netns, "--netns %s: not a namespace name", quoteArg(o.netns))
				}
				o.netnsPath = "/run/netns/" + o.netns
			}
			if o.tokenFile == "" {
				return usagef("agent needs --token-file FILE (make the token with: porthole fleet token NAME)")
			}
			if o.interval < fleet.MinInterval || o.interval > fleet.MaxInterval || o.interval%time.Second != 0 {
				return badToken(o.interval.String(), "--interval %v: want whole seconds from 1s to 24h", o.interval)
			}
			if o.name != "" && fleet.ValidName(o.name) != nil {
				return badToken(o.name, "--name %s: use 1–%d letters, digits, '.', '-' or '_', starting with a letter or digit", quoteArg(o.name), fleet.MaxNameLen)
			}
			return nil
		}
	},
}

func runAgent(ctx context.Context, env *Env, o agentOptions) error {
	client := &http.Client{Timeout: 30 * time.Second}
	if o.ca != "" {
		pool, err := caPool(o.ca)
		if err != nil {
			return err
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		client.Transport = tr
	}
	reader := agent.Reader{}
	if o.netns != "" {
		if _, err := os.Stat(o.netnsPath); err != nil {
			return badToken(o.netns, "--netns %s: %v", quoteArg(o.netns), err)
		}
		reader.NetNS = o.netnsPath
	}
	host := o.name
	if host == "" {
		var err error
		if host, err = os.Hostname(); err != nil {
			return fmt.Errorf("reading the host name (give --name): %w", err)
		}
		// A fully qualified name is fine; a name the fleet cannot take needs --name.
		if fleet.ValidName(host) != nil {
			return usagef("this host's name %s is not a valid fleet host name; give --name", quoteArg(host))
		}
	}
	token, err := webguard.ReadTokenFile(o.tokenFile)
	if err != nil {
		return usagef("--token-file: %v", err)
	}
	if !fleet.ValidToken(token) {
		return usagef("--token-file: %s does not hold a host token (make one with: porthole fleet token %s)", o.tokenFile, host)
	}
	if !o.noAudit {
		k, err := loadKnowledge(env)
		if err != nil {
			return err
		}
		reader.Intel, reader.Registry = k.intel, k.reg
	}
	var log *slog.Logger
	if o.json {
		log = slog.New(slog.NewJSONHandler(env.Stderr, nil))
	} else {
		log = slog.New(slog.NewTextHandler(env.Stderr, nil))
	}
	log.Info("agent started", "server", strings.TrimSuffix(o.server, "/"), "host", host, "interval", o.interval.String())
	err = agent.Run(ctx, agent.Config{Server: o.server, Token: token, Name: host, Interval: o.interval, Spool: o.spool,
		Snapshot: reader.Snapshot, Log: log, Client: client, Boot: agent.BootID(), Group: o.group})
	if errors.Is(err, agent.ErrRefused) {
		return fmt.Errorf("%w (check the token: porthole fleet token %s makes a new one)", err, host)
	}
	if err != nil {
		return err
	}
	log.Info("agent stopped")
	return nil
}
