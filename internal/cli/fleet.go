package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/store"
)

const fleetUsage = `Usage: porthole fleet token NAME [--db DSN]
       porthole fleet revoke NAME [--db DSN]

Manage the hosts of a fleet inventory. token creates host NAME if it is new
and prints a new token for its agent (only its SHA-256 is stored; the host's
previous token stops working). revoke makes the host's token invalid and keeps
its inventory.`

func runFleet(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usagef("fleet needs a subcommand: porthole fleet token NAME, or porthole fleet revoke NAME")
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(env.Stdout, fleetUsage)
		return nil
	case "token":
		return fleetTokenCmd.bind(runFleetToken)(ctx, env, args[1:])
	case "revoke":
		return fleetRevokeCmd.bind(runFleetRevoke)(ctx, env, args[1:])
	}
	return badToken(args[0], "fleet: unknown subcommand %s: use token or revoke", quoteArg(args[0]))
}

// fleetHostOptions are the arguments of `porthole fleet token` and
// `fleet revoke`: one host NAME and the inventory's DSN.
type fleetHostOptions struct {
	name string
	dsn  string
}

// fleetHostCmd defines a fleet subcommand that takes one host NAME.
func fleetHostCmd(sub, help string) *cmdDef[fleetHostOptions] {
	return &cmdDef[fleetHostOptions]{name: "fleet " + sub, args: "NAME [--db DSN]", help: help,
		flags: func(fs *cmdFlags, o *fleetHostOptions) func([]string) error {
			fs.StringVar(&o.dsn, "db", "", "inventory `DSN`: a SQLite path or a postgres:// URL (default: the database porthole serve uses)")
			return func(rest []string) error {
				if len(rest) != 1 {
					return usagef("fleet %s takes one host NAME (got %d arguments)", sub, len(rest))
				}
				if err := fleet.ValidName(rest[0]); err != nil {
					return badToken(rest[0], "fleet %s: %s is not a valid host name: use 1–%d letters, digits, '.', '-' or '_', starting with a letter or digit",
						sub, quoteArg(rest[0]), fleet.MaxNameLen)
				}
				o.name = rest[0]
				return nil
			}
		}}
}

var fleetTokenCmd = fleetHostCmd("token",
	"Create host NAME in the fleet inventory if it is new, and print a new token for its agent on one line. Only the token's SHA-256 is stored: keep the token (porthole agent --token-file); a new one replaces the old.")

var fleetRevokeCmd = fleetHostCmd("revoke",
	"Make the token of host NAME invalid: its agent's reports are refused (401) from now on. The host's inventory is kept; porthole fleet token NAME issues a new token.")

func runFleetToken(ctx context.Context, env *Env, o fleetHostOptions) error {
	name, dsn := o.name, o.dsn
	tok, err := fleet.NewToken(rand.Reader)
	if err != nil {
		return err
	}
	db, err := fleetdb.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("opening the fleet inventory: %w", err)
	}
	defer db.Close()
	created, err := db.Token(ctx, name, fleet.HashToken(tok), env.Now())
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(env.Stdout, tok); err != nil {
		return err
	}
	if created {
		fmt.Fprintf(env.Stderr, "porthole: host %s created; give its agent this token\n", name)
	} else {
		fmt.Fprintf(env.Stderr, "porthole: new token for host %s; the previous one no longer works\n", name)
	}
	return nil
}

func runFleetRevoke(ctx context.Context, env *Env, o fleetHostOptions) error {
	name, dsn := o.name, o.dsn
	if err := needDatabase(dsn); err != nil {
		return err
	}
	db, err := fleetdb.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("opening the fleet inventory: %w", err)
	}
	defer db.Close()
	if err := db.Revoke(ctx, name); errors.Is(err, fleetdb.ErrUnknownHost) {
		return &notFound{msg: fmt.Sprintf("no host %s in the fleet inventory", name)}
	} else if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "porthole: the token of host %s is revoked\n", name)
	return nil
}

// needDatabase refuses a SQLite path where no database is, so that a
// command that only reads or changes hosts does not create an empty one.
func needDatabase(dsn string) error {
	if store.IsPostgres(dsn) {
		return nil
	}
	path := dsn
	if path == "" {
		var err error
		if path, err = store.DefaultPath(); err != nil {
			return err
		}
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return &notFound{msg: fmt.Sprintf("no fleet inventory at %s (give --db)", path)}
	}
	return nil
}
