#!/usr/bin/env bash
# Benchmark "who is on PORT" / "list listeners" against ss, lsof and netstat.
#
# For N = 100, 1,000, 10,000 listeners (over PROCS processes) and for 1,000
# listeners + 10,000 established loopback pairs, it times with hyperfine
# (median of RUNS runs, no shell) and measures the peak RSS of the list run,
# then prints a markdown table with ratios to stdout. Progress goes to stderr.
#
# To benchmark the real CLI instead of the probe, set PORTHOLE to its path:
#   PORTHOLE=./porthole scripts/bench-listeners.sh
# Needs root for ss -p / netstat -p / lsof to see every process (as porthole).
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-15}
PROCS=${PROCS:-100}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
WORK=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

need() { command -v "$1" >/dev/null || { [ -n "${APT_UPDATED:-}" ] || { apt-get update >/dev/null; APT_UPDATED=1; }; apt-get install -y "$2" >/dev/null; }; }
need hyperfine hyperfine
need lsof lsof
need netstat net-tools
need ss iproute2
[ -x /usr/bin/time ] || need /usr/bin/time time

"$GO" build -o "$WORK/listeners" ./bench/listeners
if [ -z "${PORTHOLE:-}" ]; then
	"$GO" build -o "$WORK/probe" ./bench/listeners/probe
	who_cmd() { echo "$WORK/probe $1"; }
	list_cmd() { echo "$WORK/probe"; }
	TOOL="probe"
else
	who_cmd() { echo "$PORTHOLE who $1"; }
	list_cmd() { echo "$PORTHOLE list"; }
	TOOL="porthole"
fi

# median_ms JSON -> median of each command in ms, one per line
median_ms() { python3 -c 'import json,sys; [print("%.1f" % (r["median"]*1000)) for r in json.load(open(sys.argv[1]))["results"]]' "$1"; }
# cpu_ms JSON -> mean user+system CPU time of each command in ms; on a busy
# machine it is steadier than wall time.
cpu_ms() { python3 -c 'import json,sys; [print("%.1f" % ((r["user"]+r["system"])*1000)) for r in json.load(open(sys.argv[1]))["results"]]' "$1"; }
ratio() { python3 -c 'import sys; print("%.2f×" % (float(sys.argv[1])/float(sys.argv[2])))' "$1" "$2"; }
check() { python3 -c 'import sys; print("✓" if float(sys.argv[1]) <= float(sys.argv[2]) else "✗")' "$1" "$2"; }

run_case() { # name n conns
	local name=$1 n=$2 conns=$3
	echo ">> $name: starting $n listeners, $conns pairs over $PROCS processes" >&2
	mkfifo "$WORK/ctl"
	"$WORK/listeners" -n "$n" -p "$PROCS" -conns "$conns" -timeout 20m <"$WORK/ctl" >"$WORK/port" &
	local pid=$!
	exec 3>"$WORK/ctl"
	rm "$WORK/ctl"
	for _ in $(seq 600); do [ -s "$WORK/port" ] && break; sleep 0.1; done
	local port
	port=$(head -1 "$WORK/port")
	[ -n "$port" ] || { echo "harness did not start" >&2; exit 1; }
	local who list
	who=$(who_cmd "$port")
	list=$(list_cmd)
	hyperfine -N -i --warmup 3 --runs "$RUNS" --style none --export-json "$WORK/h.json" \
		"$who" "ss -tlnp sport = :$port" "$list" "ss -tulnp" "ss -tuln" \
		"lsof -nP -iTCP:$port -sTCP:LISTEN" "netstat -tulnp" >/dev/null 2>&1
	mapfile -t m < <(median_ms "$WORK/h.json")
	mapfile -t c < <(cpu_ms "$WORK/h.json")
	local rss
	rss=$( { /usr/bin/time -v $list >/dev/null; } 2>&1 | awk -F: '/Maximum resident/ {printf "%.1f", $2/1024}')
	exec 3>&-
	wait "$pid" || true
	local who_target=0.25
	[ "$conns" -gt 0 ] && who_target=0.10
	local wr lr lr2
	wr=$(python3 -c "print(${m[0]}/${m[1]})")
	lr=$(python3 -c "print(${m[2]}/${m[3]})")
	lr2=$(python3 -c "print(${m[2]}/${m[4]})")
	printf '| %s | %s | %s | %s %s | %s | %s | %s | %s %s | %s | %s %s | %s | %s | %s | %s | %s |\n' \
		"$name" "${m[0]}" "${m[1]}" "$(ratio "${m[0]}" "${m[1]}")" "$(check "$wr" "$who_target")" "$(ratio "${c[0]}" "${c[1]}")" \
		"${m[2]}" "${m[3]}" "$(ratio "${m[2]}" "${m[3]}")" "$(check "$lr" 0.30)" \
		"${m[4]}" "$(ratio "${m[2]}" "${m[4]}")" "$(check "$lr2" 1.5)" \
		"$(ratio "${c[2]}" "${c[3]}")" "$(ratio "${c[2]}" "${c[4]}")" \
		"${m[5]}" "${m[6]}" "$rss"
}

echo "Listener benchmarks: $(nproc) CPUs, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg), $RUNS runs per command, $PROCS holder processes, tool=$TOOL, $(ls /proc | grep -c '^[0-9]') processes and $(cut -f1 /proc/sys/fs/file-nr) open files before the run"
echo
echo "Wall-clock medians in ms; \"CPU\" columns compare user+system CPU time (means) instead."
echo
echo "| case | who | ss -tlnp sport | who/ss | who/ss CPU | list | ss -tulnp | list/ss -p | ss -tuln | list/ss -n | list/ss -p CPU | list/ss -n CPU | lsof -iTCP:PORT | netstat -tulnp | list peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
run_case "100 listeners" 100 0
run_case "1,000 listeners" 1000 0
run_case "10,000 listeners" 10000 0
run_case "1,000 listeners + 10,000 established" 1000 10000
echo
echo "Targets: who ≤ 0.25× ss sport (≤ 0.10× with 10,000 established); list ≤ 0.30× ss -tulnp and ≤ 1.5× ss -tuln; list RSS at 10,000 < 30 MB."
