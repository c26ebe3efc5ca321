#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the store tests and prints the variable the tests read:
#
#   eval "$(scripts/postgres.sh)"      # start (or reuse) it; exports PORTHOLE_TEST_POSTGRES
#   scripts/postgres.sh stop           # stop it and delete its data directory
#
# If PORTHOLE_TEST_POSTGRES is already set and a server answers there, that server is used as is. Otherwise the
# script installs Debian's postgresql package when it is missing, creates a cluster owned by the postgres user in
# $PORTHOLE_PG_DIR (default /tmp/porthole-pg), listening on 127.0.0.1 only on a free port, and creates the
# database porthole_test. Progress goes to stderr; only the export line goes to stdout.
set -euo pipefail

dir=${PORTHOLE_PG_DIR:-/tmp/porthole-pg}
user=porthole
db=porthole_test

say() { echo "postgres.sh: $*" >&2; }

as_postgres() {
	if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] && echo "$d"
}

if [ "${1:-}" = stop ]; then
	if b=$(bindir) && [ -f "$dir/data/PG_VERSION" ]; then
		as_postgres "$b/pg_ctl" -D "$dir/data" -m fast stop >&2 || true
	fi
	rm -rf "$dir"
	exit 0
fi

if [ -n "${PORTHOLE_TEST_POSTGRES:-}" ] && command -v psql >/dev/null && psql "$PORTHOLE_TEST_POSTGRES" -Atqc 'select 1' >/dev/null 2>&1; then
	say "a server answers at the given PORTHOLE_TEST_POSTGRES"
	echo "export PORTHOLE_TEST_POSTGRES='$PORTHOLE_TEST_POSTGRES'"
	exit 0
fi

if ! b=$(bindir) || [ ! -x "$b/initdb" ]; then
	say "installing Debian's postgresql package"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	# The package's own cluster is not needed: this script makes its own.
	mkdir -p /etc/postgresql-common/createcluster.d
	echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/porthole.conf
	apt-get install -y -qq postgresql >&2
	b=$(bindir)
fi

free_port() {
	local p
	for p in $(seq 55432 55532); do
		# A port is free when nothing accepts a connection on it (no dependency on ss).
		if ! (: </dev/tcp/127.0.0.1/"$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}

url() { echo "postgres://$user:$(cat "$dir/password")@127.0.0.1:$(cat "$dir/port")/$db?sslmode=disable"; }

if [ -f "$dir/port" ] && as_postgres "$b/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
	say "reusing the server in $dir on port $(cat "$dir/port")"
	echo "export PORTHOLE_TEST_POSTGRES='$(url)'"
	exit 0
fi

if [ ! -f "$dir/data/PG_VERSION" ]; then
	rm -rf "$dir"
	mkdir -p "$dir"
	chmod 0755 "$dir"
	head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$dir/password"
	chown -R postgres:postgres "$dir"
	chmod 0600 "$dir/password"
	as_postgres "$b/initdb" -D "$dir/data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
		--encoding=UTF8 --locale=C.UTF-8 >&2
fi
# A port that looked free can still be taken when the server binds it (a socket that is closing, or another
# program racing for it): on a failed start, show why and try the next free port, three times in all.
started=
for try in 1 2 3; do
	port=$(free_port) || { say "no free port in 55432-55532"; exit 1; }
	echo "$port" > "$dir/port"
	chown postgres:postgres "$dir/port"
	if as_postgres "$b/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=200" start >&2; then
		started=1
		break
	fi
	say "start $try on port $port failed; the server's log says:"
	tail -n 5 "$dir/server.log" >&2 || true
	sleep 1
done
[ -n "$started" ] || { say "could not start PostgreSQL (log: $dir/server.log)"; exit 1; }

psql_su() { as_postgres psql -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq "$@"; }
pw=$(cat "$dir/password")
if [ "$(psql_su -c "select count(*) from pg_roles where rolname = '$user'")" = 0 ]; then
	psql_su -c "create role $user login password '$pw'"
fi
if [ "$(psql_su -c "select count(*) from pg_database where datname = '$db'")" = 0 ]; then
	psql_su -c "create database $db owner $user"
fi
say "server in $dir on 127.0.0.1:$port (stop: scripts/postgres.sh stop)"
echo "export PORTHOLE_TEST_POSTGRES='$(url)'"
