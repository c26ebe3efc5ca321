#!/usr/bin/env bash
# Load and crash tests of the feedback store behind a real HTTP server, for SQLite and PostgreSQL.
#
#   scripts/bench-feedback.sh [sqlite] [postgres]      (default: both)
#
# For each backend:
#   1. throughput: N posts (10,000) from C clients (50) → exactly N rows, every acknowledged id present; posts/s.
#   2. SIGKILL mid-load, restart: every acknowledged id present, the database opens (and passes SQLite's
#      integrity check), and the restarted server takes posts.
#   3. SIGTERM mid-load: the server drains requests in flight and exits 0 within 10 s, closing the store; every
#      acknowledged id is present.
#
# The server is a variable, to measure another build:
#   PORTHOLE_SERVE="./porthole serve"   (default: porthole serve, built here from cmd/porthole)
#   PORTHOLE_ADDR_FLAG=--addr           (flag that sets the listen address)
# PostgreSQL: PORTHOLE_TEST_POSTGRES, or scripts/postgres.sh starts a local server. Traffic goes to 127.0.0.1 only;
# the script ends only the server processes it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${BENCH_POSTS:-10000}
C=${BENCH_CLIENTS:-50}
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)

work=$(mktemp -d /tmp/porthole-bench.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/feedbackload" ./bench/feedbackload
if [ -z "${PORTHOLE_SERVE:-}" ]; then
	go build -o "$work/porthole" ./cmd/porthole
	PORTHOLE_SERVE="$work/porthole serve"
fi
ADDR_FLAG=${PORTHOLE_ADDR_FLAG:---addr}
read -r -a serve_cmd <<<"$PORTHOLE_SERVE"

fail=0
report=()
say() { echo "bench: $*" >&2; }
bad() { say "FAIL: $*"; fail=1; }

free_port() {
	local p
	for p in $(seq 18500 18999); do
		# A port is free when nothing accepts a connection on it (no dependency on ss).
		if ! (: </dev/tcp/127.0.0.1/"$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}

# start DSN LOG: starts the server in the background; sets $server_pid and $base.
start() {
	local port
	port=$(free_port)
	"${serve_cmd[@]}" --db "$1" --rate-limit 0 "$ADDR_FLAG" "127.0.0.1:$port" 2>>"$2" &
	server_pid=$!
	pids+=("$server_pid")
	base="http://127.0.0.1:$port"
	local i
	for i in $(seq 1 200); do
		if curl -s -o /dev/null "$base/api/v1/feedback"; then return 0; fi
		if ! kill -0 "$server_pid" 2>/dev/null; then say "server exited at start:"; cat "$2" >&2; return 1; fi
		sleep 0.05
	done
	say "server did not answer on $base"
	return 1
}

# wait_exit PID SECONDS: waits for the process (a child of this shell) to end; sets exit_rc to its exit status,
# or to "timeout". Not run in a subshell: only the parent shell can collect a child's status.
wait_exit() {
	local i
	exit_rc=timeout
	for i in $(seq 1 $(($2 * 20))); do
		if ! kill -0 "$1" 2>/dev/null; then
			exit_rc=0
			wait "$1" || exit_rc=$?
			return
		fi
		sleep 0.05
	done
}

# wait_acks FILE COUNT: waits until the ids file has COUNT lines (the load is under way).
wait_acks() {
	local i
	for i in $(seq 1 600); do
		if [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; then return 0; fi
		sleep 0.05
	done
	return 1
}

# fresh_dsn BACKEND NAME: an empty database for one scenario.
fresh_dsn() {
	if [ "$1" = sqlite ]; then
		echo "$work/$2.db"
		return
	fi
	local schema="bench_${2}_$$"
	PGOPTIONS=--client-min-messages=warning psql "$PORTHOLE_TEST_POSTGRES" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
	case "$PORTHOLE_TEST_POSTGRES" in
	*\?*) echo "$PORTHOLE_TEST_POSTGRES&search_path=$schema" ;;
	*) echo "$PORTHOLE_TEST_POSTGRES?search_path=$schema" ;;
	esac
}

drop_dsn() {
	[ "$1" = postgres ] || return 0
	PGOPTIONS=--client-min-messages=warning psql "$PORTHOLE_TEST_POSTGRES" -qc "DROP SCHEMA IF EXISTS bench_${2}_$$ CASCADE" >/dev/null 2>&1 || true
}

verify() { "$work/feedbackload" verify "$@"; }

run_backend() {
	local b=$1 dsn log out rc
	log="$work/$b.log"

	say "[$b] throughput: $N posts from $C clients"
	dsn=$(fresh_dsn "$b" load)
	start "$dsn" "$log"
	out=$("$work/feedbackload" -url "$base" -n "$N" -c "$C" -ids "$work/$b-load.ids" -require-all) || bad "[$b] not every post acknowledged: $out"
	echo "$out"
	kill -TERM "$server_pid"
	wait_exit "$server_pid" 15; rc=$exit_rc
	[ "$rc" = 0 ] || bad "[$b] server exit after load: $rc"
	verify -db "$dsn" -ids "$work/$b-load.ids" -rows "$N" || bad "[$b] rows after load"
	report+=("$b: $(echo "$out" | head -n1)")
	drop_dsn "$b" load

	say "[$b] SIGKILL mid-load"
	dsn=$(fresh_dsn "$b" kill)
	start "$dsn" "$log"
	"$work/feedbackload" -url "$base" -n "$N" -c "$C" -ids "$work/$b-kill.ids" >"$work/$b-kill.out" &
	local loader=$!
	pids+=("$loader")
	wait_acks "$work/$b-kill.ids" $((N / 5)) || bad "[$b] load did not start"
	kill -KILL "$server_pid"
	wait_exit "$server_pid" 5
	wait "$loader" || true
	cat "$work/$b-kill.out"
	local acked
	acked=$(wc -l <"$work/$b-kill.ids")
	start "$dsn" "$log" || bad "[$b] server did not restart after SIGKILL"
	curl -s -o /dev/null -w '' -X POST -H 'Content-Type: application/json' \
		-d '{"port":2556,"lang":"en","rating":"helpful","comment":"after the crash"}' "$base/api/v1/feedback" ||
		bad "[$b] restarted server refused a post"
	kill -TERM "$server_pid"
	wait_exit "$server_pid" 15; rc=$exit_rc
	[ "$rc" = 0 ] || bad "[$b] restarted server exit: $rc"
	out=$(verify -db "$dsn" -ids "$work/$b-kill.ids") || bad "[$b] after SIGKILL: $out"
	echo "$out"
	report+=("$b: SIGKILL after >=$((N / 5)) acks: $acked acknowledged, $out")
	drop_dsn "$b" kill

	say "[$b] SIGTERM mid-load"
	dsn=$(fresh_dsn "$b" term)
	start "$dsn" "$log"
	"$work/feedbackload" -url "$base" -n "$N" -c "$C" -ids "$work/$b-term.ids" >"$work/$b-term.out" &
	loader=$!
	pids+=("$loader")
	wait_acks "$work/$b-term.ids" $((N / 5)) || bad "[$b] load did not start"
	local t0 t1
	t0=$(date +%s.%N)
	kill -TERM "$server_pid"
	wait_exit "$server_pid" 12; rc=$exit_rc
	t1=$(date +%s.%N)
	wait "$loader" || true
	cat "$work/$b-term.out"
	[ "$rc" = 0 ] || bad "[$b] SIGTERM: server exit status $rc (want 0 within 10 s)"
	out=$(verify -db "$dsn" -ids "$work/$b-term.ids") || bad "[$b] after SIGTERM: $out"
	echo "$out"
	local drain
	drain=$(grep -h -e '^signal:' -e '^drained' "$log" | tail -n2 | tr '\n' ' ' || true)
	report+=("$b: SIGTERM mid-load: exit $rc after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')s, $out; server: ${drain:-n/a}")
	drop_dsn "$b" term
}

for b in "${backends[@]}"; do
	case $b in
	sqlite) run_backend sqlite ;;
	postgres)
		if [ -z "${PORTHOLE_TEST_POSTGRES:-}" ]; then eval "$(scripts/postgres.sh)"; fi
		run_backend postgres
		;;
	*) say "unknown backend $b"; exit 2 ;;
	esac
done

echo
echo "== summary =="
printf '%s\n' "${report[@]}"
if [ "$fail" != 0 ]; then
	echo "FAILED"
	exit 1
fi
echo "all checks passed"
