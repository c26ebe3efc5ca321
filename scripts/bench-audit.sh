#!/usr/bin/env bash
# Benchmarks for porthole audit and porthole watch, with real sockets made by
# bench/listeners (built here, not modified):
#
#   1. audit of 5,000 listeners (50 processes) plus 100,000 established
#      loopback sockets (50,000 pairs): wall time and peak RSS from
#      /usr/bin/time -v, without and with a baseline of those listeners.
#      Targets: < 1 s, < 50 MB.
#   2. watch --interval 1s for 60 s over 10,000 listeners (100 processes):
#      CPU from /proc/PID/stat (utime + stime). Target: < 1 % of one core.
#   3. loading a 100,000-rule baseline (go test -bench BenchmarkParse100k).
#
# Prints a markdown table. Needs root (owners of every process). Everything
# it starts stops by itself: the load generator exits when its stdin closes
# (or after 10 minutes), watch gets SIGTERM.
#
#   bash scripts/bench-audit.sh            # RUNS=5 WATCH_SECONDS=60 by default
#   ONLY=watch bash scripts/bench-audit.sh # one part alone (audit, watch, parse)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
RUNS=${RUNS:-5}
WATCH_SECONDS=${WATCH_SECONDS:-60}
ONLY=${ONLY:-}
part() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
# Not under /tmp: the audit rightly flags programs that run from a
# world-writable directory, and the load generator would be one.
WORK=$(mktemp -d /run/porthole-bench.XXXXXX 2>/dev/null || mktemp -d "$PWD/.bench-audit.XXXXXX")
GEN_PID=
WATCH_PID=
cleanup() {
	[ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null || true
	exec 3>&- 2>/dev/null || true
	[ -n "$GEN_PID" ] && wait "$GEN_PID" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

[ -x /usr/bin/time ] || { apt-get update -qq >/dev/null && apt-get install -y -qq time >/dev/null; }
# Each load process holds up to about 2,100 descriptors (100 listeners and
# 2,000 connection ends); raise the limit where allowed, else check it.
ulimit -n 1048576 2>/dev/null || ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
	echo "open-file limit $(ulimit -n) is too low (need 4096)" >&2
	exit 1
fi

CGO_ENABLED=0 go build -trimpath -o "$WORK/porthole" ./cmd/porthole
go build -o "$WORK/listeners" ./bench/listeners
PH="$WORK/porthole"

# start_load N PROCS PAIRS: start the generator with its stdin on fd 3.
start_load() {
	echo ">> starting $1 listeners over $2 processes with $3 established pairs" >&2
	mkfifo "$WORK/ctl"
	"$WORK/listeners" -n "$1" -p "$2" -conns "$3" -timeout 10m <"$WORK/ctl" >"$WORK/port" &
	GEN_PID=$!
	exec 3>"$WORK/ctl"
	rm "$WORK/ctl"
	for _ in $(seq 1200); do [ -s "$WORK/port" ] && break; sleep 0.1; done
	[ -s "$WORK/port" ] || { echo "load generator did not start" >&2; exit 1; }
}
stop_load() {
	exec 3>&-
	wait "$GEN_PID" 2>/dev/null || true
	GEN_PID=
	rm -f "$WORK/port"
}

# timed CMD...: run with /usr/bin/time -v; print "wall_seconds max_rss_kb".
timed() {
	/usr/bin/time -v "$@" >/dev/null 2>"$WORK/time" || true
	python3 - "$WORK/time" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", t)
wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
print(f"{wall:.3f} {rss}")
PY
}

# median_max RUNS CMD...: median wall (s) and max RSS (MB) over RUNS runs.
median_max() {
	local runs=$1
	shift
	for _ in $(seq "$runs"); do timed "$@"; done | python3 -c '
import sys, statistics
rows = [l.split() for l in sys.stdin if l.strip()]
walls = [float(r[0]) for r in rows]; rss = [int(r[1]) for r in rows]
print("%.3f %.1f" % (statistics.median(walls), max(rss) / 1024))'
}

verdict() { python3 -c 'import sys; print("✓" if float(sys.argv[1]) < float(sys.argv[2]) else "✗")' "$1" "$2"; }

# 1. audit
if part audit; then
start_load 5000 50 50000
sockets=$(ss -Htan state established 2>/dev/null | wc -l || echo "?")
listening=$(ss -Htln 2>/dev/null | wc -l || echo "?")
echo ">> $listening tcp listeners, $sockets established tcp sockets on this host" >&2
"$PH" audit --json >/dev/null 2>&1 || true # warm the page cache
read -r a_wall a_rss < <(median_max "$RUNS" "$PH" audit --json)
"$PH" baseline -o "$WORK/baseline" 2>/dev/null
rules=$(grep -c '^[a-z]' "$WORK/baseline" || true)
read -r b_wall b_rss < <(median_max "$RUNS" "$PH" audit --json --baseline "$WORK/baseline")
read -r t_wall t_rss < <(median_max "$RUNS" "$PH" audit --baseline "$WORK/baseline")
stop_load
fi

# 2. watch
if part watch; then
echo ">> load average before watch: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
start_load 10000 100 0
clk=$(getconf CLK_TCK)
"$PH" watch --interval 1s --json --no-initial >"$WORK/events" 2>"$WORK/watch.err" &
WATCH_PID=$!
sleep 3 # first scan (owner lookup over every process) done; measure the steady state
cpu() { awk '{print $14 + $15}' "/proc/$WATCH_PID/stat"; }
rss() { awk '/VmHWM/ {print $2}' "/proc/$WATCH_PID/status"; }
c0=$(cpu)
t0=$(date +%s.%N)
sleep "$WATCH_SECONDS"
c1=$(cpu)
t1=$(date +%s.%N)
w_rss=$(rss)
kill -TERM "$WATCH_PID"
w_rc=0
wait "$WATCH_PID" || w_rc=$?
WATCH_PID=
events=$(wc -l <"$WORK/events")
stop_load
w_cpu=$(python3 -c "import sys; print('%.3f' % ((($c1 - $c0) / $clk) / ($t1 - $t0) * 100))")
fi

# 3. baseline parse
part parse && parse=$(go test -run '^$' -bench 'BenchmarkParse100k$' -benchtime 5x ./internal/audit | awk '/BenchmarkParse100k/ {printf "%.3f", $3/1e9}')

echo
echo "| measurement | result | target |"
echo "|---|---|---|"
if part audit; then cat <<EOF
| audit --json, 5,000 listeners + 100,000 established sockets ($listening listening, $sockets established on the host), median of $RUNS | ${a_wall} s, peak RSS ${a_rss} MB | < 1 s $(verdict "$a_wall" 1), < 50 MB $(verdict "$a_rss" 50) |
| same with --baseline ($rules rules written by porthole baseline) | ${b_wall} s, peak RSS ${b_rss} MB | < 1 s $(verdict "$b_wall" 1), < 50 MB $(verdict "$b_rss" 50) |
| same, text report | ${t_wall} s, peak RSS ${t_rss} MB | |
EOF
fi
if part watch; then cat <<EOF
| watch --interval 1s over 10,000 listeners, ${WATCH_SECONDS} s steady state | ${w_cpu} % of one core, peak RSS $((w_rss / 1024)) MB, $events events, exit $w_rc on SIGTERM | < 1 % $(verdict "$w_cpu" 1) |
EOF
fi
if part parse; then cat <<EOF
| parse a 100,000-rule baseline (BenchmarkParse100k) | ${parse} s | < 1 s $(verdict "$parse" 1) |
EOF
fi
echo
echo "machine: $(nproc) cores, $(uname -srm), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"
