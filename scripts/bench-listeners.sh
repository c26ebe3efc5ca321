#!/usr/bin/env bash
# Benchmark "who is on PORT" / "list listeners" against ss, lsof and netstat.
#
# Each case starts a harness of PROCS holder processes that together hold N
# TCP listeners on 127.0.0.1 (and, in some cases, established loopback
# pairs), started one after another, then times, in alternating rounds
# (bench/listeners/alt: every command once per round, RUNS rounds after
# WARMUP, medians), "who PORT" for a port held by the oldest, the middle and
# the newest holder, "ss -tlnp sport = :PORT" for the same ports, "list",
# "ss -tuln", "ss -tulnp", lsof and netstat (and, with PORTHOLE set, "list
# --json"), and measures the peak RSS of the list run. It prints two
# markdown tables (who, list) with the ratios to stdout; progress goes to
# stderr.
#
# Harnesses: "go" (bench/listeners, Go holders) and "py" (holders.py,
# python3 holders). Cgroups: "one" leaves every holder in this shell's
# cgroup; "own" makes a cgroup v2 directory per holder (as systemd does for
# services) under a directory of its own, and removes exactly those
# directories afterwards. CASES lists HARNESS:CGROUPS:LISTENERS:PAIRS.
#
# To benchmark the real CLI instead of the probe, set PORTHOLE to its path:
#   PORTHOLE=./porthole scripts/bench-listeners.sh
# Needs root (ss -p / netstat -p / lsof see every process, as porthole does;
# cgroup directories).
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-15}
WARMUP=${WARMUP:-3}
PROCS=${PROCS:-100}
START_WAIT=${START_WAIT:-600} # seconds a harness may take to hold its sockets
CASES=${CASES:-"go:one:100:0 go:one:1000:0 go:one:10000:0 go:own:10000:0 py:one:10000:0 py:own:10000:0 go:one:1000:10000 py:one:1000:10000"}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
WORK=$(mktemp -d)
CG=      # the cgroup directory this script made, if any
HPID=    # the running harness
cleanup() {
	exec 3>&- 2>/dev/null || true
	[ -n "$HPID" ] && wait "$HPID" 2>/dev/null || true
	if [ -n "$CG" ]; then
		rmdir "$CG"/h* "$CG" 2>/dev/null || echo "could not remove $CG" >&2
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { [ -n "${APT_UPDATED:-}" ] || { apt-get update >/dev/null; APT_UPDATED=1; }; apt-get install -y "$2" >/dev/null; }; }
need lsof lsof
need netstat net-tools
need ss iproute2
need python3 python3
[ -x /usr/bin/time ] || need /usr/bin/time time
# The interpreter itself, not a wrapper (pyenv shims are shell scripts).
PY=$(python3 -c 'import sys; print(sys.executable)')
# Each holder with established pairs has thousands of descriptors.
ulimit -n 65536 2>/dev/null || true

"$GO" build -o "$WORK/listeners" ./bench/listeners
"$GO" build -o "$WORK/alt" ./bench/listeners/alt
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

CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)

commas() { python3 -c 'import sys; print(f"{int(sys.argv[1]):,}")' "$1"; }
ratio() { python3 -c 'import sys; print("%.2f×" % (float(sys.argv[1])/float(sys.argv[2])))' "$1" "$2"; }
check() { python3 -c 'import sys; print("✓" if float(sys.argv[1])/float(sys.argv[2]) <= float(sys.argv[3]) else "✗")' "$1" "$2" "$3"; }

# make_cgroups: a directory per holder under a fresh one of our own.
make_cgroups() {
	[ -n "$CG2" ] || { echo "no cgroup v2 mount" >&2; exit 1; }
	CG="$CG2/porthole-bench.$$"
	mkdir "$CG"
	for i in $(seq 0 $((PROCS - 1))); do mkdir "$CG/h$i"; done
}
remove_cgroups() {
	# The holders have exited, so the directories are empty.
	for _ in $(seq 50); do rmdir "$CG"/h* 2>/dev/null && break; sleep 0.1; done
	rmdir "$CG"
	CG=
}

run_case() { # harness cgroups n conns
	local harness=$1 cgmode=$2 n=$3 conns=$4
	echo ">> $harness holders, cgroups $cgmode: $n listeners, $conns pairs over $PROCS processes (load $(cut -d' ' -f1 /proc/loadavg))" >&2
	local cgarg=()
	if [ "$cgmode" = own ]; then
		make_cgroups
		cgarg=(-cgroup "$CG")
	fi
	mkfifo "$WORK/ctl"
	if [ "$harness" = go ]; then
		"$WORK/listeners" -n "$n" -p "$PROCS" -conns "$conns" -timeout 20m "${cgarg[@]}" <"$WORK/ctl" >"$WORK/port" &
	else
		"$PY" bench/listeners/holders.py -n "$n" -p "$PROCS" -conns "$conns" -timeout 1200 "${cgarg[@]}" <"$WORK/ctl" >"$WORK/port" &
	fi
	HPID=$!
	exec 3>"$WORK/ctl"
	rm "$WORK/ctl"
	# 100 Python holders take a minute or more to start on a loaded machine.
	for _ in $(seq $((START_WAIT * 10))); do [ -s "$WORK/port" ] && break; sleep 0.1; done
	local old mid new
	read -r old mid new <"$WORK/port" || true
	[ -n "$new" ] || { echo "harness did not start within ${START_WAIT} s (START_WAIT)" >&2; exit 1; }
	local list
	list=$(list_cmd)
	local json=()
	[ "$TOOL" = porthole ] && json=("$list --json")
	"$WORK/alt" -runs "$RUNS" -warmup "$WARMUP" \
		"$(who_cmd "$old")" "ss -tlnp sport = :$old" \
		"$(who_cmd "$mid")" "ss -tlnp sport = :$mid" \
		"$(who_cmd "$new")" "ss -tlnp sport = :$new" \
		"$list" "ss -tuln" "ss -tulnp" \
		"lsof -nP -iTCP:$mid -sTCP:LISTEN" "netstat -tulnp" "${json[@]}" >"$WORK/alt.out"
	mapfile -t m < <(cut -d' ' -f1 "$WORK/alt.out")
	local jsoncell="–"
	[ -n "${m[11]:-}" ] && jsoncell="${m[11]} ($(ratio "${m[11]}" "${m[6]}") list)"
	local rss
	rss=$( { /usr/bin/time -v $list >/dev/null; } 2>&1 | awk -F: '/Maximum resident/ {printf "%.1f", $2/1024}')
	exec 3>&-
	wait "$HPID" || true
	HPID=
	[ "$cgmode" = own ] && remove_cgroups
	local name
	name="$(commas "$n") listeners"
	[ "$conns" -gt 0 ] && name="$name + $(commas "$conns") established"
	local target=0.15
	[ "$conns" -gt 0 ] && target=0.10
	printf '| %s | %s | %s | %s | %s | %s %s | %s | %s | %s %s | %s | %s | %s %s |\n' \
		"$name" "$harness" "$cgmode" \
		"${m[0]}" "${m[1]}" "$(ratio "${m[0]}" "${m[1]}")" "$(check "${m[0]}" "${m[1]}" $target)" \
		"${m[2]}" "${m[3]}" "$(ratio "${m[2]}" "${m[3]}")" "$(check "${m[2]}" "${m[3]}" $target)" \
		"${m[4]}" "${m[5]}" "$(ratio "${m[4]}" "${m[5]}")" "$(check "${m[4]}" "${m[5]}" $target)" >>"$WORK/who.md"
	printf '| %s | %s | %s | %s | %s | %s %s | %s | %s | %s | %s | %s | %s |\n' \
		"$name" "$harness" "$cgmode" \
		"${m[6]}" "${m[7]}" "$(ratio "${m[6]}" "${m[7]}")" "$(check "${m[6]}" "${m[7]}" 1.5)" \
		"${m[8]}" "$(ratio "${m[6]}" "${m[8]}")" "${m[9]}" "${m[10]}" "$rss" "$jsoncell" >>"$WORK/list.md"
	cp "$WORK/alt.out" "$WORK/alt.$harness.$cgmode.$n.$conns"
}

echo "Listener benchmarks, $(date -u +%F): $(nproc) CPUs, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, $WARMUP + $RUNS alternating rounds, $PROCS holder processes, tool=$TOOL, $(ls /proc | grep -c '^[0-9]') processes and $(cut -f1 /proc/sys/fs/file-nr) open files before the run"
for c in $CASES; do
	IFS=: read -r h g n p <<<"$c"
	run_case "$h" "$g" "$n" "$p"
done
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Wall-clock medians in ms."
echo
echo "| case | holders | cgroups | who, oldest owner | ss -tlnp sport | who/ss | who, middle owner | ss -tlnp sport | who/ss | who, newest owner | ss -tlnp sport | who/ss |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
cat "$WORK/who.md"
echo
echo "| case | holders | cgroups | list | ss -tuln | list/ss -tuln | ss -tulnp | list/ss -tulnp | lsof -iTCP:PORT | netstat -tulnp | list peak RSS MB | list --json |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
cat "$WORK/list.md"
echo
echo "Targets: who ≤ 0.15× ss -tlnp sport (≤ 0.10× with established pairs) wherever the owner is; list ≤ 1.5× ss -tuln."
if [ -n "${KEEP:-}" ]; then cp "$WORK"/alt.* "$KEEP"/; fi
