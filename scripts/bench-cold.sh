#!/usr/bin/env bash
# Cold-process cost of a lookup: `porthole info 2556` against `porthole version` (the issue's anchor) and `porthole
# help` (the true floor: process start and the binary's initialisation, no registry read), plus `info --json`,
# `search` and `stats`, all in one hyperfine run.
# Prints a markdown table with medians and ratios to `version`. Installs hyperfine (Debian) when missing.
#
#   bash scripts/bench-cold.sh [runs]      # default 200 runs per command
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
runs=${1:-200}
if ! command -v hyperfine >/dev/null; then
	apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$work/porthole" ./cmd/porthole
export PORTHOLE_CACHE_DIR="$work/cache" # the embedded registry, as on a fresh machine
bin="$work/porthole"
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/cold.json" \
	-n version "$bin version" \
	-n help "$bin help" \
	-n "info 2556" "$bin info 2556" \
	-n "info --json 2556" "$bin info --json 2556" \
	-n "info 80" "$bin info 80" \
	-n "search ssh" "$bin search ssh" \
	-n "stats" "$bin stats" >/dev/null
python3 - "$work/cold.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
base = r["version"]["median"]
floor = r["help"]["median"]
print("| command | median (ms) | mean ± σ (ms) | ratio to version | ratio to help |")
print("|---|---|---|---|---|")
for name, x in r.items():
    print(f"| `porthole {name}` | {x['median']*1e3:.2f} | {x['mean']*1e3:.2f} ± {x['stddev']*1e3:.2f} | {x['median']/base:.2f}× | {x['median']/floor:.2f}× |")
PY
echo
echo "machine: $(nproc) cores, $(uname -srm), $(go version | cut -d' ' -f3); $(date -u +%F)"
