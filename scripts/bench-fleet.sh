#!/usr/bin/env bash
# Simulated fleet load against a real `porthole serve`, on SQLite and PostgreSQL (docs/fleet.md, BENCHMARKS.md).
#
#   scripts/bench-fleet.sh [sqlite] [postgres]      (default: both)
#
# For each backend: start serve on a free loopback port with the fleet API, run bench/fleetload (HOSTS simulated
# hosts with LISTENERS listeners each, reporting every INTERVAL for DURATION, a share CHANGES of the reports carrying a
# change; the hosts are spread evenly over the interval; first every host's full report, 64 at a time, unless
# BENCH_ENROLL=0, which sends them within the first interval), then print its JSON figures with serve's peak resident
# memory (VmHWM) and the load average before and after. Bounded in time; traffic goes to 127.0.0.1 only; the script
# ends only the server it started, by PID.
#
#   BENCH_HOSTS=10000 BENCH_INTERVAL=30s BENCH_DURATION=120s scripts/bench-fleet.sh sqlite postgres
#
# On a machine with two cores or more (and taskset), serve runs on core 0 and the load generator on core 1
# (BENCH_PIN=0: no pinning). PostgreSQL: PORTHOLE_TEST_POSTGRES, or scripts/postgres.sh starts a local server,
# not pinned: the target is serve on one core, and the database is a service of its own (with the server's 16
# backends on serve's core, every report's round trips queued behind each other: p99 130-183 ms instead of 30 ms;
# BENCH_PG_PIN=1 pins it to core 0 with serve, to see that).
set -euo pipefail
cd "$(dirname "$0")/.."

HOSTS=${BENCH_HOSTS:-1000}
INTERVAL=${BENCH_INTERVAL:-30s}
DURATION=${BENCH_DURATION:-60s}
CHANGES=${BENCH_CHANGES:-0.05}
LISTENERS=${BENCH_LISTENERS:-20}
ENROLL=${BENCH_ENROLL:-1}
serve_on=() load_on=()
if [ "${BENCH_PIN:-1}" != 0 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	serve_on=(taskset -c 0) load_on=(taskset -c 1)
fi
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)

work=$(mktemp -d /tmp/porthole-fleetbench.XXXXXX)
pid=
cleanup() {
	[ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
	[ -n "${BENCH_KEEP:-}" ] && echo "bench-fleet: kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/porthole" ./cmd/porthole
go build -o "$work/fleetload" ./bench/fleetload
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/admin"
chmod 600 "$work/admin"

free_port() {
	local p
	for p in $(seq 18600 18999); do
		if ! (: </dev/tcp/127.0.0.1/"$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}

for b in "${backends[@]}"; do
	case $b in
	sqlite) dsn="$work/fleet.db" ;;
	postgres)
		pg_on=()
		[ "${BENCH_PG_PIN:-0}" = 1 ] && pg_on=("${serve_on[@]}")
		if [ -z "${PORTHOLE_TEST_POSTGRES:-}" ]; then eval "$("${pg_on[@]}" bash scripts/postgres.sh)"; fi
		schema="fleetbench_$$"
		psql "$PORTHOLE_TEST_POSTGRES" -qc "CREATE SCHEMA $schema" >/dev/null
		sep='?'; case $PORTHOLE_TEST_POSTGRES in *\?*) sep='&' ;; esac
		dsn="${PORTHOLE_TEST_POSTGRES}${sep}search_path=$schema"
		;;
	*) echo "bench-fleet: unknown backend $b" >&2; exit 2 ;;
	esac
	port=$(free_port)
	"${serve_on[@]}" "$work/porthole" serve --addr "127.0.0.1:$port" --db "$dsn" --admin-token-file "$work/admin" 2>"$work/serve-$b.log" &
	pid=$!
	for _ in $(seq 100); do (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
	echo "bench-fleet: $b: $HOSTS hosts of $LISTENERS listeners every $INTERVAL for $DURATION, changes $CHANGES${serve_on:+, serve on core 0}" >&2
	before=$(loadavg)
	out=$("${load_on[@]}" "$work/fleetload" -db "$dsn" -url "http://127.0.0.1:$port" -hosts "$HOSTS" -listeners "$LISTENERS" \
		-interval "$INTERVAL" -duration "$DURATION" -changes "$CHANGES" -enroll="$([ "$ENROLL" = 0 ] && echo false || echo true)")
	after=$(loadavg)
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	kill -TERM "$pid"; wait "$pid" || true; pid=
	echo "{\"backend\": \"$b\", \"serve_vmhwm_kb\": $hwm, \"loadavg_before\": \"$before\", \"loadavg_after\": \"$after\", \"load\": $out}"
	if [ "$b" = postgres ]; then
		# The change log's own size per row (append only, so no dead row versions in it, unlike fleet_hosts).
		psql "$PORTHOLE_TEST_POSTGRES" -Atc "SELECT 'bench-fleet: postgres fleet_changes: ' || count(*) || ' rows, ' ||
			pg_total_relation_size('$schema.fleet_changes') || ' bytes with indexes, ' ||
			round(pg_total_relation_size('$schema.fleet_changes')::numeric / greatest(count(*), 1)) || ' bytes a row'
			FROM $schema.fleet_changes" >&2 || true
		PGOPTIONS=--client-min-messages=warning psql "$PORTHOLE_TEST_POSTGRES" -qc "DROP SCHEMA $schema CASCADE" >/dev/null
	fi
done
