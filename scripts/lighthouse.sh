#!/usr/bin/env bash
# lighthouse.sh: Lighthouse's SEO and accessibility scores of the port page,
# in both languages, from `porthole serve` on a loopback port with a
# --base-url, run by npm's lighthouse package with Debian's Chromium.
# Fails when a score is below its target: SEO >= 0.95, accessibility >= 0.95.
#
# lighthouse is installed with npm into a cache directory
# ($XDG_CACHE_HOME/porthole-npm) when missing. Everything talks to
# 127.0.0.1 only; the server started here is stopped by its PID.
#
# Usage: scripts/lighthouse.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$PATH:/usr/local/go/bin"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/porthole-npm"
lh="$cache/node_modules/.bin/lighthouse"
chrome=$(command -v chromium || echo /usr/bin/chromium)
work=$(mktemp -d "${TMPDIR:-/tmp}/porthole-lh.XXXXXX")
serve_pid=
cleanup() {
	if [[ -n $serve_pid ]] && kill -0 "$serve_pid" 2>/dev/null; then
		kill -TERM "$serve_pid" && wait "$serve_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if [[ ! -x $lh ]]; then
	echo "installing lighthouse@12 with npm into $cache" >&2
	mkdir -p "$cache"
	npm install --prefix "$cache" --no-audit --no-fund --silent lighthouse@12 >&2
fi
[[ -x $chrome ]] || { echo "Chromium not found (Debian package chromium)" >&2; exit 1; }

(cd "$root" && CGO_ENABLED=0 go build -o "$work/porthole" ./cmd/porthole)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
base="http://127.0.0.1:$port"
"$work/porthole" serve --addr "127.0.0.1:$port" --base-url "$base" --db "$work/feedback.db" 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break; sleep 0.1; done

status=0
for path in /ports/2556 /ko/ports/2556; do
	out="$work/lh$(tr / - <<<"$path").json"
	CHROME_PATH=$chrome "$lh" "$base$path" --only-categories=seo,accessibility --output=json --output-path="$out" \
		--chrome-flags="--headless=new --no-sandbox --disable-gpu" --quiet
	python3 - "$out" "$path" <<'PY' || status=1
import json, sys
r = json.load(open(sys.argv[1]))
bad = False
for cat, target in (("seo", 0.95), ("accessibility", 0.95)):
    score = r["categories"][cat]["score"]
    ok = score is not None and score >= target
    bad |= not ok
    print(f"{sys.argv[2]:16} {cat:14} {score}  (target >= {target})  {'ok' if ok else 'MISSED'}")
for a in r["audits"].values():
    if a.get("scoreDisplayMode") == "binary" and a.get("score") == 0:
        print(f"  failed audit: {a['id']}: {a['title']}")
sys.exit(1 if bad else 0)
PY
done
exit $status
