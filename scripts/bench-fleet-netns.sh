#!/usr/bin/env bash
# Real agents, one per network namespace: N namespaces (default 20), each with its own listeners and its own
# `porthole agent --netns`, against one `porthole serve` on the host's loopback. Passes when, for every namespace,
# the inventory (GET /api/v1/fleet/hosts/NAME) equals what `ss` sees inside it; prints how long that took.
#
#   sudo scripts/bench-fleet-netns.sh            BENCH_NETNS=50 scripts/bench-fleet-netns.sh
#
# Needs root and iproute2 (ip, ss) and python3 (the listeners). Everything it creates (namespaces, processes, files)
# it removes at exit; it ends only the processes it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${BENCH_NETNS:-20}
work=$(mktemp -d /tmp/porthole-fleetns.XXXXXX)
pids=()
nss=()
cleanup() {
	local p n
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for n in "${nss[@]}"; do ip netns delete "$n" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
say() { echo "bench-fleet-netns: $*" >&2; }

go build -o "$work/porthole" ./cmd/porthole
P="$work/porthole"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/admin"
chmod 600 "$work/admin"
db="$work/fleet.db"
port=18700
while (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null; do port=$((port + 1)); done
"$P" serve --addr "127.0.0.1:$port" --db "$db" --admin-token-file "$work/admin" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 100); do (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done

# listen.py PORTS...: hold a TCP listener on 0.0.0.0 for each port, plus one UDP socket on 127.0.0.1, until killed.
cat >"$work/listen.py" <<'PY'
import signal, socket, sys
socks = []
for p in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("0.0.0.0", int(p)))
    s.listen()
    socks.append(s)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 5300))
socks.append(u)
signal.sigwait([signal.SIGTERM, signal.SIGINT])
PY

start=$(date +%s.%N)
for i in $(seq "$N"); do
	ns="porthole-fleet-$$-$i"
	ip netns add "$ns"
	nss+=("$ns")
	ip netns exec "$ns" ip link set lo up
	ports=()
	for j in $(seq $((1 + i % 4))); do ports+=($((8000 + 10 * i + j))); done
	ip netns exec "$ns" python3 "$work/listen.py" "${ports[@]}" &
	pids+=($!)
	"$P" fleet token "ns-$i" --db "$db" >"$work/token-$i" 2>/dev/null
	chmod 600 "$work/token-$i"
	"$P" agent --server "http://127.0.0.1:$port" --token-file "$work/token-$i" --name "ns-$i" --interval 2s \
		--netns "$ns" 2>"$work/agent-$i.log" &
	pids+=($!)
done

# inventory NAME: "proto address:port" lines of the host's listeners, sorted.
inventory() {
	python3 - "$1" "$port" "$work/admin" <<'PY'
import json, sys, urllib.request
name, port, admin = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().strip()
req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/fleet/hosts/{name}", headers={"Authorization": "Bearer " + admin})
try:
    ls = json.load(urllib.request.urlopen(req))
except Exception:
    ls = []
for l in sorted(f"{l['proto']} {l['address']}:{l['port']}" for l in ls):
    print(l)
PY
}
# seen NS: the same lines from ss inside the namespace.
seen() { ip netns exec "$1" ss -Hltun | awk '{print $1, $5}' | sort; }

deadline=$(($(date +%s) + 120))
pending=("${!nss[@]}")
while [ ${#pending[@]} -gt 0 ]; do
	left=()
	for k in "${pending[@]}"; do
		i=$((k + 1))
		if [ "$(inventory "ns-$i")" != "$(seen "${nss[$k]}")" ]; then left+=("$k"); fi
	done
	pending=("${left[@]+"${left[@]}"}")
	[ ${#pending[@]} -eq 0 ] && break
	if [ "$(date +%s)" -gt "$deadline" ]; then
		for k in "${pending[@]}"; do
			i=$((k + 1))
			say "FAIL ns-$i: inventory and ss differ:"
			diff <(inventory "ns-$i") <(seen "${nss[$k]}") >&2 || true
		done
		exit 1
	fi
	sleep 0.5
done
end=$(date +%s.%N)
total=0
for k in "${!nss[@]}"; do total=$((total + $(seen "${nss[$k]}" | wc -l))); done
say "ok: $N namespaces, $total listeners, inventory equal to ss in each, $(awk "BEGIN {printf \"%.1f\", $end - $start}") s after the first agent started"
