#!/usr/bin/env bash
# Cold-process cost of porthole commands against the floor of any Go program: a hello-world static Go binary built
# here with the same toolchain and flags. One hyperfine run times the hello world, `porthole version`, `help`,
# `info 2556` (the issue's targets), `info --json`, `info 80`, `search` and `stats`, alternating commands; then the
# page faults of each command (minor + major, from getrusage of the children: the same count as `perf stat -e
# page-faults`, median of the runs) and what `GODEBUG=inittrace=1` reports for `porthole version` (packages that do
# work at start, their time and allocations).
# Prints markdown tables with medians and ratios to the hello world. Installs hyperfine (Debian) when missing.
#
#   bash scripts/bench-cold.sh [runs]      # default 200 runs per command
#
# Environment:
#   LOAD=1            keep the other cores busy during the run (one `yes >/dev/null` per extra core, killed at exit)
#   STRIPPED=1        also time a `-s -w` build of porthole (symbol table and DWARF stripped)
#   BEFORE=/path/bin  also time another porthole binary (e.g. one built from an older commit), same run
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
runs=${1:-200}
if ! command -v hyperfine >/dev/null; then
	apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null
fi
work=$(mktemp -d)
loadpids=()
cleanup() {
	for p in "${loadpids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -trimpath -o "$work/porthole" ./cmd/porthole
mkdir -p "$work/hello"
cat >"$work/hello/main.go" <<'EOF'
package main

import "os"

func main() { os.Stdout.WriteString("hello, world\n") }
EOF
printf 'module hello\n\ngo 1.22\n' >"$work/hello/go.mod"
(cd "$work/hello" && CGO_ENABLED=0 GOFLAGS= go build -trimpath -o "$work/hello-world" .)
export PORTHOLE_CACHE_DIR="$work/cache" # the embedded registry, as on a fresh machine
bin="$work/porthole"

names=(hello version help "info 2556" "info --json 2556" "info 80" "search ssh" "stats")
cmds=("$work/hello-world" "$bin version" "$bin help" "$bin info 2556" "$bin info --json 2556" "$bin info 80"
	"$bin search ssh" "$bin stats")
if [ "${STRIPPED:-}" = 1 ]; then
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/porthole-stripped" ./cmd/porthole
	names+=("version (-s -w)" "info 2556 (-s -w)")
	cmds+=("$work/porthole-stripped version" "$work/porthole-stripped info 2556")
fi
if [ -n "${BEFORE:-}" ]; then
	names+=("version (before)" "info 2556 (before)")
	cmds+=("$BEFORE version" "$BEFORE info 2556")
fi

if [ "${LOAD:-}" = 1 ]; then
	for _ in $(seq 2 "$(nproc)"); do
		yes >/dev/null &
		loadpids+=($!)
	done
fi
load=$(cut -d' ' -f1 /proc/loadavg)

args=()
for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/cold.json" "${args[@]}" >/dev/null 2>"$work/hyperfine.err" ||
	{ cat "$work/hyperfine.err" >&2; exit 1; }

# Page faults: each command run alone, 51 times; the median of getrusage's minor + major faults of the child.
python3 - "$work/cold.json" "$work/faults.json" "${cmds[@]}" <<'PY'
import json, resource, statistics, subprocess, sys
out, cmds = sys.argv[2], sys.argv[3:]
faults = []
for c in cmds:
    vals = []
    for _ in range(51):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(c.split(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        vals.append(after.ru_minflt + after.ru_majflt - before.ru_minflt - before.ru_majflt)
    faults.append(statistics.median(vals))
json.dump(faults, open(out, "w"))
PY
python3 - "$work/cold.json" "$work/faults.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
faults = json.load(open(sys.argv[2]))
base, fbase = res[0]["median"], faults[0]
print("| command | median (ms) | mean ± σ (ms) | ratio to hello world | page faults | faults ratio |")
print("|---|---|---|---|---|---|")
for x, f in zip(res, faults):
    name = x["command"]
    label = "hello world (static Go)" if name == "hello" else f"`porthole {name}`"
    target = name in ("version", "info 2556")
    r, fr = x["median"] / base, f / fbase
    rs = f"**{r:.2f}×** {'✓' if r <= 1.5 else '✗'} (≤ 1.5×)" if target else f"{r:.2f}×"
    fs = f"**{fr:.2f}×** {'✓' if fr <= 1.5 else '✗'} (≤ 1.5×)" if target else f"{fr:.2f}×"
    print(f"| {label} | {x['median']*1e3:.2f} | {x['mean']*1e3:.2f} ± {x['stddev']*1e3:.2f} | {rs} | {f:.0f} | {fs} |")
PY
echo
GODEBUG=inittrace=1 "$bin" version 2>&1 >/dev/null | awk '$1 == "init" {n++; if ($8 > 0 || $5 > 0.01) busy++; t += $5; b += $8; a += $10}
	END {printf "`porthole version` initialises %d packages (%d of them doing measurable work): %.2f ms, %d bytes in %d allocations (GODEBUG=inittrace=1)\n", n, busy, t, b, a}'
echo "binary: $(stat -c %s "$bin") bytes; machine: $(nproc) cores, $(uname -srm), $(go version | cut -d' ' -f3); load average $load at the start$([ "${LOAD:-}" = 1 ] && echo ", with $((${#loadpids[@]})) busy-loop process(es) on the other core(s)"); $(date -u +%F)"
